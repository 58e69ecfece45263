import type { StoreApi } from 'zustand/vanilla';
import type { IceServer, RelayError, Scope } from '../protocol/index.js';

/** Connection status of a RelayClient. */
export type ConnectionStatus =
  'idle' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'failed';

/** Lifecycle of one call. `ringing` is used both ways; see `direction`. */
export type CallState = 'dialing' | 'ringing' | 'connecting' | 'active' | 'held' | 'ended';

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
  | 'failed';

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
  /** The other party's resource. */
  remote: string;
  state: CallState;
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
  /** ms (local clock) when the call became active, or null. */
  startedAt: number | null;
  endedAt: number | null;
  endReason: CallEndReason | null;
  /** Typed error for end reasons that are errors (unavailable, busy, forbidden, failed, …). */
  error: RelayError | null;
  /** Selected devices for this call. */
  audioInputId: string | null;
  videoInputId: string | null;
  audioOutputId: string | null;
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
}

export interface MediaOptions {
  /** Microphone: true, false or constraints. Default: true. */
  audio?: boolean | MediaTrackConstraints;
  /** Camera: true, false or constraints. Default: true. */
  video?: boolean | MediaTrackConstraints;
  /** Use this stream instead of acquiring one (the caller keeps ownership of its tracks). */
  localStream?: MediaStream;
}

export interface CallOptions extends MediaOptions {
  /** Opaque JSON delivered to the callee with the invite (e.g. a display name). */
  metadata?: unknown;
}

export interface RelayClient {
  /** The client's zustand vanilla store. Subscribe with selectors. */
  readonly store: StoreApi<RelayClientState>;
  /** Capture and output devices with their permission states. */
  readonly devices: DeviceManager;
  /** Connects and authenticates with `token`. Resolves when connected; rejects with a RelayError. */
  connect(token: string): Promise<void>;
  /** Presents a fresher JWT: re-authenticates in place when connected, else keeps it for the next connect. */
  updateToken(token: string): Promise<void>;
  /** Closes the connection (1000) and ends every call. The client can connect again. */
  disconnect(): void;
  /**
   * Places a call to `to` and returns its id at once (state `dialing`). What follows,
   * including failures (unavailable, busy, media denied…), shows in the call's snapshot.
   */
  call(to: string, options?: CallOptions): string;
  answer(callId: string, options?: MediaOptions): Promise<void>;
  reject(callId: string, reason?: 'declined' | 'busy'): void;
  /** Hangs up (or cancels, or declines) a call. */
  hangup(callId: string): void;
  setAudioMuted(callId: string, muted: boolean): void;
  setVideoMuted(callId: string, muted: boolean): void;
  setHeld(callId: string, held: boolean): void;
  /** Sends DTMF tones (0-9, *, #, A-D, and ',' for a pause) on the call's audio. */
  sendDtmf(callId: string, tones: string): void;
  /** Switches the microphone or camera of a live call without renegotiation. */
  switchDevice(callId: string, kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void>;
  /** Chooses the audio output device of a call; elements playing it apply it with setSinkId. */
  setAudioOutput(callId: string, deviceId: string): void;
  /** Removes an ended call from the store. */
  dismiss(callId: string): void;
  /** Disconnects, stops every track the client acquired and removes every timer and listener. */
  destroy(): void;
}

/** Permission state of a kind of capture device. */
export type DevicePermission = 'prompt' | 'granted' | 'denied' | 'unsupported';

export interface DevicesState {
  audioInputs: MediaDeviceInfo[];
  videoInputs: MediaDeviceInfo[];
  audioOutputs: MediaDeviceInfo[];
  permissions: { microphone: DevicePermission; camera: DevicePermission };
  /** Whether the browser can choose the audio output (HTMLMediaElement.setSinkId). */
  canSelectAudioOutput: boolean;
  /** The last getUserMedia / enumeration error (a RelayMediaError), or null. */
  error: RelayError | null;
}

/** Lists devices and tracks permissions; refreshes on `devicechange`. */
export interface DeviceManager {
  readonly store: StoreApi<DevicesState>;
  /** Re-reads the device list and permission states. */
  refresh(): Promise<void>;
  /** Asks for access (shows the browser prompt) and refreshes; rejects with a RelayMediaError. */
  requestPermission(kinds: { audio?: boolean; video?: boolean }): Promise<void>;
  /** Removes the devicechange and permission listeners. */
  destroy(): void;
}
