import type {
  AssistMode,
  CallRecord,
  CallsFilter,
  CallsListResult,
  RelayError,
  Supervisor,
} from '../../protocol/index.js';

/**
 * Where a supervisor is in an assisted call: `joining` (waiting for the connection, the
 * microphone or the Relay's answer), `assisting` (the Relay accepted; media links to the parties
 * come up, see `AssistParty.connected`), `ended` (stopped, the call ended, the connection and its
 * session were lost, or the Relay refused: see `error`).
 */
export type AssistState = 'joining' | 'assisting' | 'ended';

/**
 * One party of an assisted call, as its supervisor sees it. In an assisted room: each of the
 * room's participants that is not a supervisor (ringing invitees excluded), kept up to date as
 * they come and go.
 */
export interface AssistParty {
  /** The party's participant id in the call. */
  participantId: string;
  /** The party's resource. */
  resource: string;
  /** What the supervisor receives from this party (audio, and video when it sends some). */
  stream: MediaStream | null;
  /** The media link with this party is up. */
  connected: boolean;
}

/** A call this client supervises (`client.assist`). Immutable: replaced on every change. */
export interface AssistSnapshot {
  /** The Relay's id of the call (or room), as `calls.list` shows it. */
  callId: string;
  mode: AssistMode;
  /** Whisper: participant id of the party who hears the supervisor; null in other modes. */
  agent: string | null;
  state: AssistState;
  /** This supervisor's participant id in the call, once the Relay accepted. */
  participantId: string | null;
  /**
   * The parties the supervisor is linked to (both browsers, or the browser of a SIP call; in a
   * room, its participants that are not supervisors).
   */
  parties: AssistParty[];
  /** Every supervisor of the call (this one included), as the Relay last told. */
  supervisors: Supervisor[];
  /**
   * Why the assist ended or the last mode change failed (`forbidden`, `call_not_found`,
   * `invalid_state`, `invalid_params`, media errors, `not_connected`…); null when fine.
   */
  error: RelayError | null;
  /** The microphone the supervisor sends in whisper and barge modes; null until one is used. */
  localStream: MediaStream | null;
}

/** How to assist a call (`client.assist`). */
export interface AssistOptions {
  /**
   * Whisper: who hears the supervisor, by participant id or resource. Optional when the call is
   * between a browser and a phone or SIP endpoint (the browser is the agent). Default: none.
   */
  agent?: string;
  /**
   * The microphone for whisper and barge: true, constraints, or a stream of the app's own (the
   * app keeps ownership of its tracks). Acquired the first time a mode needs it, then kept until
   * the assist ends. Default: true.
   */
  audio?: MediaStreamConstraints['audio'] | MediaStream;
}

/** A supervisor of a call this client is a party of. Immutable: replaced on every change. */
export interface SupervisorSnapshot extends Supervisor {
  /**
   * This party hears the supervisor: in `barge` mode, or in `whisper` mode when this party is
   * its agent.
   */
  heard: boolean;
  /** The supervisor's audio, only while `heard` (a listening supervisor is never played). */
  stream: MediaStream | null;
}

/** Lifecycle of the watched call list: not watched, first answer pending, listed, refused. */
export type CallListStatus = 'idle' | 'loading' | 'ready' | 'error';

/** The project's ongoing calls, while some `watchCalls` is active. */
export interface CallListState {
  status: CallListStatus;
  /** The watched calls by id (call id or room id), updated live; ended ones are removed. */
  calls: Record<string, CallRecord>;
  /** More calls matched than the Relay lists at once (`maxListedCalls`): narrow the filter. */
  truncated: boolean;
  /** Why listing failed (`forbidden` without `calls:list`, `not_connected`…); null when fine. */
  error: RelayError | null;
}

/** Supervision: listing the project's calls and assisting them. Part of `RelayClient`. */
export interface SupervisionApi {
  /**
   * Joins the call (or room) `callId` of the project as a supervisor (the token needs
   * `calls:assist`, or `calls:monitor` for `monitor` only), or changes the mode of this client's
   * assist of it: `monitor` hears both parties and sends nothing, `whisper` is heard only by the
   * agent (`options.agent`), `barge` is heard by everyone. Waits for the connection like a call.
   * The microphone is acquired the first time a mode needs it. A mode change swaps tracks
   * without renegotiating. While an assist or a change is in flight, the same request returns
   * the same promise (a double click joins once). Resolves with the assist's snapshot (also in
   * `store.assists[callId]`); rejects with a RelayError when refused (the snapshot shows it).
   *
   * A room (`callId` is a room id, as `calls.list` shows it): this client joins the room as a
   * participant carrying its mode, shown in `store.rooms[name]` like any room of its own (its
   * own participant has `assist` set), and receives every participant's media (peer to peer in
   * a mesh room, subscriptions in an sfu room). It sends nothing in `monitor`, its microphone
   * (never a camera) only to the agent in `whisper`, to everyone in `barge`. In an sfu room the
   * mode may only go up (monitor, whisper, barge): going down is refused with `invalid_state`
   * (stop, then assist again). An assisted room is not joined again after a lost session.
   */
  assist(callId: string, mode: AssistMode, options?: AssistOptions): Promise<AssistSnapshot>;
  /**
   * Leaves an assisted call or room (it goes on; a room is left with `room.leave` and removed
   * from `store.rooms`); stops the microphone the assist acquired.
   */
  stopAssist(callId: string): void;
  /**
   * Lists the project's ongoing calls and rooms once (the token needs `calls:list`). Waits for
   * the connection. Rejects with a RelayError when refused.
   */
  listCalls(filter?: CallsFilter): Promise<CallsListResult>;
  /**
   * Keeps `store.callList` up to date with the project's ongoing calls matching `filter` (the
   * token needs `calls:list`) until the returned function is called. Watches are counted: every
   * watcher shares one subscription on the Relay (watchers with different filters get every
   * call, each one filters its own). Watches again after the client gets a fresh session.
   */
  watchCalls(filter?: CallsFilter): () => void;
  /** Reloads the watched call list from the Relay (nothing when nobody watches). */
  refreshCallList(): Promise<void>;
}
