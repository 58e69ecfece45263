/**
 * Default limits of the Relay. Every one is configurable through the `limits`
 * option of `createRelayServer`; these defaults are safe for a public deployment.
 */
export const DEFAULT_LIMITS = {
  /** Largest REST request body, in bytes. Checked before buffering. */
  maxBodyBytes: 16 * 1024,
  /** Largest WebSocket frame, in bytes. Bigger frames close the socket with 1009. */
  maxFrameBytes: 64 * 1024,
  /** Sustained messages per second per socket (token bucket refill rate). */
  messagesPerSecond: 50,
  /** Burst of messages a socket may send at once (token bucket size). */
  messageBurst: 100,
  /**
   * Time a socket may keep exceeding its rate (refused messages with no pause of a second
   * between them), in ms; then it is closed with 4008.
   */
  maxRateLimitedMs: 5_000,
  /** Sessions (sockets) per project. */
  maxSessionsPerProject: 10_000,
  /** Sessions per resource (tabs and devices of one user). */
  maxSessionsPerResource: 10,
  /** Concurrent calls, ringing or active, per session. */
  maxCallsPerSession: 4,
  /**
   * Participants of a room (joined, away or being rung). Mesh rooms send each participant's
   * media once per other participant, so past a handful the uplink, not the Relay, gives out.
   */
  maxRoomParticipants: 6,
  /**
   * Participants of an `sfu` room (a Relay with a media server, docs/DEPLOY.md#janus): each
   * sends its media once, to the SFU, which forwards it to the others.
   */
  maxSfuParticipants: 25,
  /** Rooms a session may be in at once (apart from its calls). */
  maxRoomsPerSession: 4,
  /** Rooms that exist at once in a project. */
  maxRoomsPerProject: 1_000,
  /** Time a new socket has to authenticate, in ms. */
  authTimeoutMs: 5_000,
  /**
   * Sockets that have not authenticated yet, across the server: the last resort when many
   * addresses crowd in at once. Past it, upgrades are refused with HTTP 503.
   */
  maxUnauthenticatedSockets: 1_000,
  /**
   * Sockets that have not authenticated yet, per client address (the address REST limits use:
   * X-Forwarded-For's last entry with `trustProxy`). Past it, that address's upgrades are
   * refused with HTTP 429, and other addresses are unaffected.
   */
  maxUnauthenticatedPerAddress: 32,
  /**
   * HTTP connections per client address that have not become a WebSocket, on the standalone
   * server (`listen()`). Past it, new connections from that address are closed at once. Not
   * applied with `trustProxy` (every connection then comes from the proxy).
   */
  maxConnectionsPerAddress: 128,
  /** Time a client has to send a request's headers, on the standalone server, in ms. */
  headersTimeoutMs: 10_000,
  /** Time a client has to send a whole request (headers and body), on the standalone server, in ms. */
  requestTimeoutMs: 15_000,
  /** Time a dropped session may be resumed, in ms. */
  resumeGraceMs: 30_000,
  /** Messages kept for a session while it is detached or unacknowledged. */
  resumeBufferMessages: 256,
  /**
   * Size of the messages kept for a session while it is detached or unacknowledged, counted
   * as the length of their JSON text (a byte per ASCII character).
   */
  resumeBufferBytes: 512 * 1024,
  /** Signals the caller may send before the call is answered (held until then). */
  maxEarlySignals: 64,
  /** Size of the signals held before the answer, per call, counted as for `resumeBufferBytes`. */
  maxEarlySignalBytes: 128 * 1024,
  /** Largest `metadata` of a `call.invite`, in bytes of its JSON (UTF-8). */
  maxMetadataBytes: 4 * 1024,
  /**
   * Largest in-call message (`call.message`, `room.message`): bytes of its body's JSON (UTF-8).
   * Clients apply the same limit to messages on the peer data channel.
   */
  maxMessageBytes: 16 * 1024,
  /** Most calls `calls.list`, `calls.watch` and `GET /api/relay/rest/calls` answer at once. */
  maxListedCalls: 1_000,
  /** Supervisors assisting one call or room at once. */
  maxSupervisorsPerCall: 4,
  /** Time an unanswered call rings before it ends with `no-answer`, in ms. */
  ringTimeoutMs: 60_000,
  /**
   * Bytes a socket may leave unread before the Relay pushes back: signals to it are refused
   * to their sender with `peer_backlogged` until it catches up.
   */
  maxBufferedBytes: 1024 * 1024,
  /**
   * Time a socket may stay over `maxBufferedBytes` without reading it all, in ms; then it is
   * closed with 4010. A socket that reads, however much it was sent at once, is never closed.
   */
  slowReaderTimeoutMs: 10_000,
  /** Interval of server WebSocket pings; a socket silent for two intervals is dropped, in ms. */
  heartbeatIntervalMs: 15_000,
  /** JWT lifetime when a request names none, in minutes. */
  defaultExpiresInMinutes: 15,
  /** Largest `expires_in` a request may ask for, in minutes. */
  maxExpiresInMinutes: 24 * 60,
  /** Lifetime of a refresh token, in ms; each rotation starts a new one. */
  refreshTokenTtlMs: 7 * 24 * 60 * 60 * 1000,
  /** Failed REST authentications per client address per window before 429. */
  authFailuresPerWindow: 20,
  /** Window of the failed-authentication rate limit, in ms. */
  authFailureWindowMs: 60_000,
  /** Longest resource name, in characters. */
  maxResourceLength: 128,
  /** Longest project id, in characters. */
  maxProjectIdLength: 128,
} as const;

export type RelayLimits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

/** Minimum HS512 key length in bytes (the hash output size, RFC 7518 §3.2). */
export const MIN_SECRET_BYTES = 64;
