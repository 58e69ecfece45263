import type { IceServer, ReauthenticateResult } from '../protocol/index.js';
import type { DisplayMediaFn } from './media/captureScreen.js';
import type { TrackProcessor } from './media/TrackProcessor.js';
import type { createGatewayPeer } from './peer/createGatewayPeer.js';
import type { createPeer } from './peer/createPeer.js';
import type { IceRestartOptions } from './peer/IceRestarter.js';
import type { MediaSessionFactory } from './rooms/MediaSession.js';
import type { QualityOptions } from './stats/statsTypes.js';
import type { ClientClock, RelayClientState, WebSocketFactory } from './types.js';

export interface RelayClientOptions {
  /** Relay base URL, e.g. `https://relay.example.com` (the socket path is added). */
  url: string;
  /** Project id. Default: the `sub` claim of the first JWT. */
  project?: string;
  /** ICE servers to use instead of the list the Relay hands out. Default: the Relay's list. */
  iceServers?: IceServer[];
  /**
   * Which ICE candidates calls may use: `'all'`, or `'relay'` to send all media through a TURN
   * server (hides the user's IP addresses; needs a TURN server in the ICE servers).
   * Passed to RTCPeerConnection as `iceTransportPolicy`. Default: `'all'`.
   */
  iceTransportPolicy?: 'all' | 'relay';
  /** WebSocket constructor. Default: the global WebSocket. */
  WebSocket?: WebSocketFactory;
  /** Time source and timers. Default: Date.now and the global timers. */
  clock?: ClientClock;
  /** Capture devices. Default: navigator.mediaDevices when present. */
  mediaDevices?: MediaDevices;
  /**
   * Screen capture for screen sharing (`startScreenShare`): opens the browser's picker.
   * Default: `mediaDevices.getDisplayMedia` when there is one.
   */
  getDisplayMedia?: DisplayMediaFn;
  /**
   * The WebRTC peer connection constructor every call and room uses (react-native-webrtc's, or a
   * wrapper in tests). Default: `globalThis.RTCPeerConnection`.
   */
  RTCPeerConnection?: typeof RTCPeerConnection;
  /** Permissions API. Default: navigator.permissions when present. */
  permissions?: Permissions;
  /** Keep-alive ping interval, in ms. Default: 5000. */
  pingIntervalMs?: number;
  /**
   * A ping unanswered this long means the socket is dead, in ms. Default: 4000. A deadline that
   * ran over a second late (the page was frozen) waits this long again, up to three times.
   */
  pingTimeoutMs?: number;
  /**
   * How long before the JWT expires `onTokenExpiring` listeners are called, in ms. Default: a
   * fifth of the token's remaining lifetime, at least 5000 and at most 60000.
   */
  tokenRefreshMarginMs?: number;
  /** First reconnect delay, in ms; doubles per attempt, with full jitter. Default: 500. */
  reconnectBaseMs?: number;
  /** Longest reconnect delay, in ms. Default: 15000. */
  reconnectMaxMs?: number;
  /** A request the Relay does not answer fails after this long, in ms. Default: 10000. */
  requestTimeoutMs?: number;
  /**
   * An outgoing call nobody answers ends with `no-answer` after this long, in ms. A call placed
   * while the client is not connected waits for the connection as long, then ends with a
   * `not_connected` error. Default: 45000.
   */
  noAnswerTimeoutMs?: number;
  /**
   * When the page is hidden for good (`pagehide`: the tab closes, the user navigates away, or
   * the page enters the back/forward cache), hang up every call, leave every room and close the
   * connection, so the others see `hangup` (or the participant leaving) at once instead of a
   * call frozen until the Relay notices. A page restored from the back/forward cache
   * reconnects. Default: true.
   */
  hangUpOnPageHide?: boolean;
  /**
   * Sends every call's and room's microphone and camera through this processor (noise
   * suppression, background blur…; see docs/recipes/track-processors.md) unless their options
   * say otherwise (`processTrack`); change it during a call with `setTrackProcessor`.
   * Default: none (tracks are sent as captured).
   */
  processTrack?: TrackProcessor;
  /**
   * Call quality: how often watched calls and rooms are sampled (`watchCallStats`,
   * `useCallStats`) and the thresholds of their warnings. Default: every 1000 ms, the
   * thresholds of `QualityThresholds`, raised after 3 samples and cleared after 3.
   */
  quality?: QualityOptions;
  /**
   * Calls between browsers, rooms (mesh and sfu) and gateway calls (phone numbers, `sip:` URIs: the
   * browser offers each restart, a re-INVITE on the SIP side) survive network changes: once
   * connected, an ICE failure, ICE `disconnected` for `graceMs` or a network change (`online`)
   * restarts ICE while the call stays `active` (`reconnecting` is true meanwhile); the call ends
   * `disconnected` only after `maxAttempts` restarts fail. `false`: end the call on the first ICE
   * failure. Default: `{}` (3 s grace, 3 attempts of 10 s each).
   */
  iceRestart?: IceRestartOptions | false;
  /** Random numbers in [0, 1) for the reconnect jitter. Default: Math.random. */
  random?: () => number;
  /**
   * @internal How rooms carry media: called once per room and join with the room's `media`.
   * Default: a mesh of peers (`MeshSession`) for `mesh` rooms, the Relay's media server
   * (`SfuSession`) for `sfu` rooms. Tests in Node (no WebRTC) pass a fake.
   */
  createMediaSession?: MediaSessionFactory;
  /**
   * @internal The peer of calls between browsers (and of `mesh` rooms). Default: simple-peer
   * (`createPeer`). Tests in Node (no WebRTC) pass a fake.
   */
  createPeer?: typeof createPeer;
  /**
   * @internal The peer of calls through the SIP gateway (no data channel). Default: a plain
   * RTCPeerConnection (`createGatewayPeer`, loaded on first use). Tests in Node pass a fake.
   */
  createGatewayPeer?: typeof createGatewayPeer;
  /** @internal Web Audio for the active speaker. Default: the global AudioContext, if any. */
  AudioContext?: typeof AudioContext | null;
}

export const defaultClock: ClientClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The store of a client that has not connected yet. */
export function initialState(options: RelayClientOptions): RelayClientState {
  return {
    status: 'idle',
    error: null,
    sessionId: null,
    resource: null,
    scopes: [],
    expiresAt: null,
    clockOffset: 0,
    iceServers: options.iceServers ?? [],
    calls: {},
    rooms: {},
    roomInvites: {},
    assists: {},
    callList: { status: 'idle', calls: {}, truncated: false, error: null },
    messages: {},
  };
}

/** The Web Audio constructor for the active speaker: the option's, else the global one. */
export function audioContextOf(options: RelayClientOptions): typeof AudioContext | undefined {
  if (options.AudioContext === null) return undefined;
  return (
    options.AudioContext ?? (globalThis as { AudioContext?: typeof AudioContext }).AudioContext
  );
}

/**
 * What the store shows of the session once `relay.connect` or `relay.reauthenticate` answered
 * (sent at `sent`, answered at `now`): its scopes and expiry, the clock skew, the ICE servers.
 */
export function sessionState(
  result: ReauthenticateResult,
  sent: number,
  now: number,
  options: RelayClientOptions,
): Partial<RelayClientState> {
  return {
    expiresAt: result.expiresAt,
    scopes: result.scopes,
    clockOffset: result.serverTime - (sent + now) / 2,
    ...(Array.isArray(result.iceServers) && !options.iceServers
      ? { iceServers: result.iceServers }
      : {}),
  };
}
