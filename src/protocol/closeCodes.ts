/**
 * WebSocket close codes the Relay uses. 4000–4999 are application codes.
 * `retry` tells a client whether reconnecting with the same token can help.
 */
export const CloseCodes = {
  /** Normal close requested by the client. */
  normal: 1000,
  /** The server is shutting down; reconnect (to another node) with backoff. */
  goingAway: 1001,
  /** The Relay cannot serve right now (its Redis is unreachable); reconnect with backoff. */
  tryAgainLater: 1013,
  /** A binary frame was sent; the protocol is JSON text only. */
  unsupportedData: 1003,
  /** A frame exceeded `maxFrameBytes`. */
  messageTooBig: 1009,
  /** No successful `relay.connect` within `authTimeoutMs`. */
  authTimeout: 4001,
  /** `relay.connect` failed for a reason other than the token (malformed params, internal error). */
  notAuthenticated: 4002,
  /** The JWT was invalid (bad signature, wrong project, malformed). Do not retry with it. */
  authFailed: 4003,
  /** The session's JWT expired. Fetch a fresh token, then reconnect. */
  tokenExpired: 4004,
  /** The token family was revoked (logout or refresh-token reuse). Do not retry. */
  tokenRevoked: 4005,
  /** A newer connection resumed this session; this socket is obsolete. */
  sessionTakenOver: 4006,
  /** Sustained flooding above the message rate limit. */
  rateLimited: 4008,
  /** The client did not read its messages; the send buffer overflowed. */
  slowConsumer: 4010,
  /** Too many sessions for the project or the resource. */
  sessionLimit: 4011,
  /** Repeated malformed messages. */
  protocolViolation: 4012,
  /**
   * Too many messages piled up while the session was detached, so it ended. Normally
   * unseen (no socket is attached then): a later resume answers `resumed: false`.
   */
  resumeOverflow: 4013,
} as const;

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/** Close codes after which reconnecting with the same JWT is pointless. */
export const TERMINAL_CLOSE_CODES: readonly number[] = [
  CloseCodes.authFailed,
  CloseCodes.tokenExpired,
  CloseCodes.tokenRevoked,
  CloseCodes.sessionTakenOver,
];
