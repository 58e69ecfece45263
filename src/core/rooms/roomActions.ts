import type {
  EventMap,
  MethodParams,
  RelayError,
  RoomJoinParams,
  RoomJoinResult,
  RoomMedia,
  VideoQuality,
} from '../../protocol/index.js';
import type { RoomInvite, RoomSnapshot } from '../types.js';

/** Room events of the Relay, as `{ method, params }`. */
export type RoomEventName = Extract<keyof EventMap, `room.${string}`>;
export type RoomServerEvent = {
  [E in RoomEventName]: { method: E; params: EventMap[E] };
}[RoomEventName];

/** Requests the reducer sends without anyone waiting for their outcome. */
export type RoomRequestMethod = 'room.leave' | 'room.decline' | 'room.signal' | 'room.update';
export type RoomRequest = {
  [M in RoomRequestMethod]: { method: M; params: MethodParams<M> };
}[RoomRequestMethod];

/** Everything that happens to the rooms of a client: app actions, the Relay, peers, media. */
export type RoomAction =
  // The app
  /**
   * `media`: how a room this join creates carries media (default: the Relay's, `mesh`).
   * `refused`: the client knows the Relay would refuse it (the token lacks `rooms:join`).
   */
  | { type: 'join'; name: string; metadata: unknown; media?: RoomMedia; refused?: RelayError }
  | { type: 'leave'; name: string }
  | { type: 'dismiss'; name: string }
  | { type: 'decline'; roomId: string }
  /** This client ended the room (the Relay tells everyone else with `room.ended`). */
  | { type: 'ended'; name: string; roomId: string }
  | { type: 'setMuted'; name: string; kind: 'audio' | 'video'; muted: boolean }
  /** The simulcast layer of a participant's video to receive (`sfu` rooms). */
  | { type: 'setQuality'; name: string; participantId: string; quality: VideoQuality }
  // Local media, acquired for a join attempt (null: a receive-only participant)
  | { type: 'mediaReady'; name: string; attempt: number; stream: MediaStream | null }
  | { type: 'mediaFailed'; name: string; attempt: number; error: RelayError }
  // The Relay's answer to a join attempt
  | { type: 'joined'; name: string; attempt: number; result: RoomJoinResult }
  | { type: 'joinFailed'; name: string; attempt: number; error: RelayError }
  // The connection
  | { type: 'connectionLost' }
  | { type: 'connected'; resumed: boolean }
  | { type: 'event'; event: RoomServerEvent }
  // Peers (from the MediaSession)
  | { type: 'peerSignal'; name: string; participantId: string; signal: unknown }
  | { type: 'peerStream'; name: string; participantId: string; stream: MediaStream }
  | { type: 'peerConnected'; name: string; participantId: string }
  | { type: 'peerClosed'; name: string; participantId: string }
  | { type: 'peerReconnecting'; name: string; participantId: string; reconnecting: boolean }
  // A participant's screen share arrived or stopped (null); this client's own share
  | { type: 'peerScreen'; name: string; participantId: string; stream: MediaStream | null }
  | { type: 'screenShared'; name: string; stream: MediaStream | null; error?: RelayError }
  // Audio levels in [0, 1] by participant id (the local one included), sampled by the client
  | { type: 'audioLevels'; name: string; levels: Readonly<Record<string, number>> }
  // Timers the reducer asked for (see the `schedule` effect)
  | { type: 'rejoinGraceOver'; name: string; attempt: number }
  /** Join again after a rejoin the Relay refused for a while (`sfu_unavailable`). */
  | { type: 'retryJoin'; name: string; attempt: number }
  // This client as a supervisor (`call.assist` on a room: supervision calls these)
  /** The Relay let this client into the room as a supervisor; `stream`: its microphone, if on. */
  | { type: 'assistJoined'; result: RoomJoinResult; stream: MediaStream | null }
  /** The supervisor's mode changed (`call.assist` answered again with the room). */
  | { type: 'assistChanged'; result: RoomJoinResult; stream: MediaStream | null }
  /** The assist is over without a `room.leave` to send (the session that held it is gone). */
  | { type: 'assistEnded'; name: string; error: RelayError | null };

/** What the reducer asks the client to do: plain data, carried out in order. */
export type RoomEffect =
  /** Acquire the local media of the join attempt; answer `mediaReady` or `mediaFailed`. */
  | { type: 'acquireMedia'; name: string; attempt: number }
  /**
   * Send `room.join` once connected (skip it when `attempt` is no longer the room's); answer
   * `joined` or `joinFailed`.
   */
  | { type: 'join'; name: string; attempt: number; params: RoomJoinParams }
  /** Send a request through the outbox; `name` keys it for `dropRequests`. */
  | { type: 'request'; name: string | null; request: RoomRequest }
  /** Drop the room's requests not sent yet (the room is left). */
  | { type: 'dropRequests'; name: string }
  | { type: 'createPeer'; name: string; participantId: string; initiator: boolean }
  | { type: 'destroyPeer'; name: string; participantId: string }
  | { type: 'signalPeer'; name: string; participantId: string; signal: unknown }
  | { type: 'setTrackEnabled'; name: string; kind: 'audio' | 'video'; enabled: boolean }
  /**
   * Close the room's MediaSession, if any, and make a new one now for the room's media (an
   * `sfu` session publishes at once), receiving each participant at its chosen `qualities`.
   */
  | { type: 'resetMedia'; name: string; qualities: Readonly<Record<string, VideoQuality>> }
  /** Receive a participant's video at another simulcast layer (`sfu` rooms). */
  | { type: 'setQuality'; name: string; participantId: string; quality: VideoQuality }
  /** Destroy every peer of the room and stop the local tracks acquired for it. */
  | { type: 'stopMedia'; name: string }
  /** Dispatch `action` after `delayMs` on the client clock. */
  | { type: 'schedule'; delayMs: number; action: RoomAction };

/** What the reducer keeps per room beside its snapshot. */
export interface RoomInternal {
  /** Join attempt: answers to an earlier attempt are stale. */
  attempt: number;
  /** `media`: acquiring it; `join`: room.join waiting or in flight; `in`: in the room. */
  phase: 'media' | 'join' | 'in' | 'out';
  metadata: unknown;
  /** How a room created by the first join carries media, if the app chose (`RoomJoinOptions`). */
  media: RoomMedia | undefined;
  /** Rejoining after a fresh session: peer signals wait for the new room id. */
  rejoining: boolean;
  /** The peers this client has, by participant id: the resource each was made for. */
  peers: Record<string, string>;
  /** Participants kept after a rejoin although the Relay did not list them (they may rejoin too). */
  ghosts: string[];
  /** Peer signals held until the rejoin's answer. */
  heldSignals: { to: string; signal: unknown }[];
  /** Rejoins refused in a row for a while (`sfu_unavailable`): the next one waits longer. */
  retries: number;
  /** The simulcast layer chosen per participant id (`sfu` rooms). */
  qualities: Record<string, VideoQuality>;
  /** This client is in the room as a supervisor (`call.assist`), not by `room.join`. */
  assisting: boolean;
  /**
   * Supervisors' streams as received, by participant id: a snapshot shows one only while this
   * client hears that supervisor.
   */
  supervisorStreams: Record<string, MediaStream>;
}

/** The state of every room of a client: the public snapshots, and what the reducer keeps. */
export interface RoomsState {
  rooms: Record<string, RoomSnapshot>;
  roomInvites: Record<string, RoomInvite>;
  internal: Record<string, RoomInternal>;
  /** Room id → room name, for the rooms this client is in. */
  names: Record<string, string>;
}

export interface RoomResult {
  state: RoomsState;
  effects: RoomEffect[];
}

export const initialRoomsState = (): RoomsState => ({
  rooms: {},
  roomInvites: {},
  internal: {},
  names: {},
});
