import type { StoreApi } from 'zustand/vanilla';
import type { Gateway, IceServer, RelayError, Scope, VideoQuality } from '../protocol/index.js';
import type { DeviceManager } from './deviceTypes.js';
import type { TrackProcessor } from './media/TrackProcessor.js';
import type { RoomInvite, RoomJoinOptions, RoomSnapshot } from './roomTypes.js';
import type { QualityApi } from './stats/statsTypes.js';
import type { CallMessage, MessagesApi } from './messages/messageTypes.js';
import type {
  AssistSnapshot,
  CallListState,
  SupervisionApi,
  SupervisorSnapshot,
} from './supervision/supervisionTypes.js';

export type * from './roomTypes.js';
export type * from './deviceTypes.js';

/** Connection status of a RelayClient. */
export type ConnectionStatus =
  'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'failed';

/**
 * Lifecycle of one call. `ringing` is used both ways; see `direction`. `early`: an outgoing
 * gateway call hearing early media (ringback, announcements) before the answer.
 */
export type CallState =
  'dialing' | 'ringing' | 'early' | 'connecting' | 'active' | 'held' | 'ended';

export type CallDirection = 'outgoing' | 'incoming';

/** Why a call ended, as seen by this client. */
export type CallEndReason =
  | 'hangup'
  | 'cancelled'
  | 'declined'
  | 'busy'
  | 'unavailable'
  | 'no-answer'
  | 'answered-elsewhere'
  | 'forbidden'
  | 'disconnected'
  | 'failed'
  | 'transferred';

/** Time source and timers; injectable so tests drive time. */
export interface ClientClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The subset of the browser WebSocket the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export type WebSocketFactory = new (url: string) => WebSocketLike;

/** A snapshot of one call, as kept in the client store. Immutable: replaced on every change. */
export interface CallSnapshot {
  id: string;
  direction: CallDirection;
  /**
   * The other party's resource; for a gateway call its phone number ('+15551234567') or SIP
   * URI ('sip:alice@pbx.example.com').
   */
  remote: string;
  state: CallState;
  /**
   * What carries the other side: `pstn` (a phone number) or `sip` (a SIP endpoint) for calls
   * through the Relay's SIP gateway, null for calls between browsers.
   */
  gateway: Gateway | null;
  /** Metadata sent with the invite (incoming calls) or given to `call()` (outgoing). */
  metadata: unknown;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  audioMuted: boolean;
  videoMuted: boolean;
  remoteAudioMuted: boolean;
  remoteVideoMuted: boolean;
  /** This side put the call on hold. */
  held: boolean;
  /** The other side put the call on hold. */
  remoteHeld: boolean;
  /** DTMF tones the other side sent during this call, in order. */
  remoteDtmf: string;
  /** False while the other side's Relay connection is gone (it may come back). */
  peerConnected: boolean;
  /**
   * True while the call's media path is down (a network change, an ICE failure) and ICE
   * restarts to restore it; the call stays `active` meanwhile (show "Reconnecting…"). It ends
   * `disconnected` if the restarts fail (see `RelayClientOptions.iceRestart`).
   */
  reconnecting: boolean;
  /** ms (local clock) when the call became active, or null. */
  startedAt: number | null;
  endedAt: number | null;
  endReason: CallEndReason | null;
  /** Typed error for end reasons that are errors (unavailable, busy, forbidden, failed, …). */
  error: RelayError | null;
  /** Gateway calls: the SIP status that ended the call (e.g. 486), when there was one. */
  sipStatus: number | null;
  /** Selected devices for this call. */
  audioInputId: string | null;
  videoInputId: string | null;
  audioOutputId: string | null;
  /** Who supervises the call now (`client.assist` on another client); [] when nobody does. */
  supervisors: SupervisorSnapshot[];
  /** This side shares its screen (`startScreenShare`) now. */
  screenSharing: boolean;
  /** The screen (and its audio, when the browser offered it) this side shares; null when none. */
  screenStream: MediaStream | null;
  /** The other side shares its screen now (its media may arrive a moment later). */
  remoteScreenSharing: boolean;
  /** The other side's shared screen, separate from `remoteStream`; null when none. */
  remoteScreenStream: MediaStream | null;
}

export interface RelayClientState {
  status: ConnectionStatus;
  /** Why the client is `failed` or `disconnected`, or the last connection error. */
  error: RelayError | null;
  sessionId: string | null;
  resource: string | null;
  scopes: Scope[];
  /** JWT expiry in ms since the epoch, on the server's clock. */
  expiresAt: number | null;
  /** server clock − local clock, in ms, measured at the last reply. */
  clockOffset: number;
  iceServers: IceServer[];
  /** Every call of this client, ended ones included until `dismiss(callId)`. */
  calls: Record<string, CallSnapshot>;
  /**
   * Rooms this client joined or is joining, by room name; left ones until `dismissRoom(name)`.
   * A room's snapshot object changes only when something in it changes.
   */
  rooms: Record<string, RoomSnapshot>;
  /**
   * Invitations into rooms that are ringing this session, by room id. One goes when it is
   * joined (`joinRoom(name)`, here or on another device of the same resource), declined,
   * unanswered, or when the room ends.
   */
  roomInvites: Record<string, RoomInvite>;
  /** Calls this client supervises, by the Relay's call id; ended ones stay until replaced. */
  assists: Record<string, AssistSnapshot>;
  /** The project's ongoing calls while `watchCalls` is active (`calls:list`). */
  callList: CallListState;
  /**
   * In-call messages (`sendMessage`) sent and received, oldest first, by call id or room name:
   * the last 100 of each; a call's or room's go when it is dismissed.
   */
  messages: Record<string, readonly CallMessage[]>;
}

export interface MediaOptions {
  /** Microphone: true, false or constraints. Default: true. */
  audio?: boolean | MediaTrackConstraints;
  /** Camera: true, false or constraints. Default: true. */
  video?: boolean | MediaTrackConstraints;
  /** Use this stream instead of acquiring one (the caller keeps ownership of its tracks). */
  localStream?: MediaStream;
  /**
   * Sends the microphone and camera through this processor (noise suppression, background
   * blur…; see docs/recipes/track-processors.md); null sends them as captured. Not applied to
   * `localStream`. Default: the client's `processTrack` option (none unless set).
   */
  processTrack?: TrackProcessor | null;
}

/** What to share with `startScreenShare` (and `startRoomScreenShare`). */
export interface ScreenShareOptions {
  /**
   * Also send the shared tab's or system audio, where the browser offers it (Chrome: a tab, or
   * the whole screen on Windows and ChromeOS; the user may untick it). Default: true.
   */
  audio?: boolean;
  /** Video constraints of the capture (e.g. `{ frameRate: 15 }`). Default: true. */
  video?: true | MediaTrackConstraints;
  /**
   * Share this stream instead of opening the browser's picker (e.g. a canvas capture). The
   * caller keeps ownership of its tracks: they are not stopped when the share ends.
   */
  stream?: MediaStream;
}

export interface CallOptions extends MediaOptions {
  /** Opaque JSON delivered to the callee with the invite (e.g. a display name). */
  metadata?: unknown;
}

/**
 * A zustand vanilla store an app reads and subscribes to, but does not write: the client owns
 * its state. Works with zustand's `useStore(store, selector)`.
 */
export type ReadonlyStore<T> = Pick<StoreApi<T>, 'getState' | 'getInitialState' | 'subscribe'>;

/** The session's JWT is about to expire (`onTokenExpiring`): present a fresher one. */
export interface TokenExpiringEvent {
  /** When the token expires, on the Relay's clock, ms since the epoch. */
  expiresAt: number;
  /** How long until then on this client's clock, ms. */
  expiresInMs: number;
}

export interface RelayClient extends SupervisionApi, QualityApi, MessagesApi {
  /** The client's zustand vanilla store, read-only. Subscribe with selectors. */
  readonly store: ReadonlyStore<RelayClientState>;
  /** Capture and output devices with their permission states. */
  readonly devices: DeviceManager;
  /** Connects and authenticates with `token`. Resolves when connected; rejects with a RelayError. */
  connect(token: string): Promise<void>;
  /** Presents a fresher JWT: re-authenticates in place when connected, else keeps it for the next connect. */
  updateToken(token: string): Promise<void>;
  /**
   * Calls `listener` once per token, `tokenRefreshMarginMs` before the session's JWT expires
   * (on the Relay's clock, this client's skew accounted for): fetch a fresher token from your
   * back end then and pass it to `updateToken`. `<RelayProvider fetchToken>` does this itself.
   * Returns the unsubscriber. Without a fresher token the Relay closes the session at expiry
   * (status `failed`, error `token_expired`).
   */
  onTokenExpiring(listener: (event: TokenExpiringEvent) => void): () => void;
  /** Closes the connection (1000) and ends every call. The client can connect again. */
  disconnect(): void;
  /**
   * Places a call to `to` and returns its id at once (state `dialing`). What follows,
   * including failures (unavailable, busy, media denied…), shows in the call's snapshot.
   * `to` is a resource of the project, or, through the Relay's SIP gateway, a phone number
   * ('+15551234567', scope `calls:pstn`) or a `sip:` URI (scope `calls:sip`): such calls are
   * audio only unless `options.video` asks for video (`sip:` targets only).
   */
  call(to: string, options?: CallOptions): string;
  answer(callId: string, options?: MediaOptions): Promise<void>;
  reject(callId: string, reason?: 'declined' | 'busy'): void;
  /** Hangs up (or cancels, or declines) a call. */
  hangup(callId: string): void;
  setAudioMuted(callId: string, muted: boolean): void;
  setVideoMuted(callId: string, muted: boolean): void;
  /**
   * Puts an active call on hold or resumes it. On a gateway call the Relay also tells the SIP
   * side (a re-INVITE).
   */
  setHeld(callId: string, held: boolean): void;
  /**
   * Sends DTMF tones (0-9, *, #, A-D, and ',' for a pause) on the call's audio. On a gateway
   * call: in the media (RFC 4733) when the SIP side negotiated telephone-event, else through
   * the Relay (SIP INFO).
   */
  sendDtmf(callId: string, tones: string): void;
  /**
   * Blind transfer (SIP REFER) of an active gateway call to a `sip:` URI or phone number; the
   * call then ends with reason 'transferred'. Rejects with a RelayError: invalid_state for calls
   * between browsers or calls not active, forbidden without the target's scope.
   */
  transfer(callId: string, to: string): Promise<void>;
  /** Switches the microphone or camera of a live call without renegotiation. */
  switchDevice(callId: string, kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void>;
  /** Chooses the audio output device of a call; elements playing it apply it with setSinkId. */
  setAudioOutput(callId: string, deviceId: string): void;
  /** Removes an ended call from the store. */
  dismiss(callId: string): void;
  /**
   * Sends the call's microphone (`audio`) or camera (`video`) through `processor` from now on,
   * or as captured with null, replacing the sent track without renegotiation (the old processed
   * track is stopped). Rejects with a RelayError, the call sending what it sent before:
   * `media_failed` when the processor fails, `invalid_state` for a call on the app's own
   * `localStream`, `call_not_found` for an unknown call.
   */
  setTrackProcessor(
    callId: string,
    kind: 'audio' | 'video',
    processor: TrackProcessor | null,
  ): Promise<void>;
  /**
   * Shares a screen, window or tab in an active call between browsers, beside the camera: opens
   * the browser's picker (a second call while it is open waits for the same picker), then sends
   * the capture as its own stream (`screenStream` here, `remoteScreenStream` on the other side).
   * Resolves once shared (at once when already sharing). Rejects with a RelayError, the call
   * untouched: `screen_share_cancelled` (the picker was closed or refused), `screen_share_failed`,
   * `invalid_state` (no active call, or a phone or SIP call). The share stops with
   * `stopScreenShare`, the browser's own "Stop sharing" button, or the end of the call.
   */
  startScreenShare(callId: string, options?: ScreenShareOptions): Promise<void>;
  /** Stops sharing the screen in a call (both sides see it stop). Does nothing when not sharing. */
  stopScreenShare(callId: string): void;
  /**
   * Joins (creating when needed) the room `name` of the project (the token needs `rooms:join`):
   * acquires media, waits for the connection like a call does, then peers with every other
   * participant. Idempotent while joining or joined (the same promise, or the snapshot at
   * once). Resolves with the room's snapshot once joined or failed; never rejects (failures
   * show in `state: 'left'`, `leftReason: 'failed'` and `error`: forbidden, room_full,
   * limit_exceeded, sfu_unavailable, not_connected, media errors…).
   */
  joinRoom(name: string, options?: RoomJoinOptions): Promise<RoomSnapshot>;
  /** Leaves the room (the others stay); stops the media this client acquired for it. */
  leaveRoom(name: string): void;
  /**
   * Rings `to` into a joined room (the token needs `calls:dial`; `to`'s sessions need
   * `rooms:join`). Resolves once it rings; rejects with a RelayError when the Relay refuses
   * (`invalid_state` when this client is not in the room).
   */
  inviteToRoom(name: string, to: string, metadata?: unknown): Promise<void>;
  /** Declines an invitation (see `roomInvites`), on every session it rings. */
  declineRoom(roomId: string): void;
  /** Turns the microphone off or on in a room, and tells the others. */
  setRoomAudioMuted(name: string, muted: boolean): void;
  /** Turns the camera off or on in a room, and tells the others. */
  setRoomVideoMuted(name: string, muted: boolean): void;
  /**
   * Moderator (`rooms:moderate`): mutes a participant's audio or video (its client turns the
   * track off; it may unmute). Rejects with a RelayError when refused.
   */
  muteParticipant(name: string, participantId: string, kind: 'audio' | 'video'): Promise<void>;
  /**
   * Moderator: removes a participant; its resource may not join again while the room lives.
   * Rejects with a RelayError when refused.
   */
  removeParticipant(name: string, participantId: string): Promise<void>;
  /**
   * Shares a screen, window or tab with everyone in a joined room (`mesh` or `sfu`), beside the
   * camera (see `startScreenShare`: the same picker, options and errors). Each participant gets
   * it as the sharer's `screenStream`. A monitoring supervisor is refused with `invalid_state`.
   */
  startRoomScreenShare(name: string, options?: ScreenShareOptions): Promise<void>;
  /** Stops sharing the screen in a room. Does nothing when not sharing. */
  stopRoomScreenShare(name: string): void;
  /** Moderator: ends the room for everyone (`leftReason: 'ended'`). */
  endRoom(name: string): Promise<void>;
  /** Removes a room from the store, leaving it first when in it. */
  dismissRoom(name: string): void;
  /**
   * In an `sfu` room, which simulcast layer of a participant's video this client receives:
   * `low` (a quarter of the sender's resolution, ~100 kbit/s), `medium` (half, ~300 kbit/s) or
   * `high` (full, ~900 kbit/s; the default). Pick `low` for thumbnails and `high` for the
   * speaker view. Kept while the client stays in the room (across rejoins), and may be set
   * before the participant's media arrives. Does nothing in `mesh` rooms (each peer sends one
   * full-quality stream).
   */
  setRoomQuality(name: string, participantId: string, quality: VideoQuality): void;
  /** Disconnects, stops every track the client acquired and removes every timer and listener. */
  destroy(): void;
}
