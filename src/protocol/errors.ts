/**
 * Errors shared by the Relay server, its REST client and the browser client.
 *
 * Every error carries a stable string `code` (documented in docs/PROTOCOL.md) so
 * callers can branch on it without parsing messages. Wire errors also carry the
 * HTTP status, JSON-RPC code or WebSocket close code they arrived with.
 */

/** Stable error codes. Never renamed once published; new ones may be added. */
export const ErrorCodes = {
  // REST and authentication
  unauthorized: 'unauthorized',
  badRequest: 'bad_request',
  invalidJson: 'invalid_json',
  unsupportedMediaType: 'unsupported_media_type',
  payloadTooLarge: 'payload_too_large',
  rateLimited: 'rate_limited',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  invalidRefreshToken: 'invalid_refresh_token',
  refreshTokenReused: 'refresh_token_reused',
  internal: 'internal_error',
  unavailableService: 'service_unavailable',
  // Signaling
  parseError: 'parse_error',
  invalidRequest: 'invalid_request',
  methodNotFound: 'method_not_found',
  invalidParams: 'invalid_params',
  notAuthenticated: 'not_authenticated',
  authFailed: 'auth_failed',
  tokenExpired: 'token_expired',
  tokenRevoked: 'token_revoked',
  forbidden: 'forbidden',
  callNotFound: 'call_not_found',
  unavailable: 'unavailable',
  busy: 'busy',
  invalidState: 'invalid_state',
  answeredElsewhere: 'answered_elsewhere',
  limitExceeded: 'limit_exceeded',
  peerBacklogged: 'peer_backlogged',
  roomNotFound: 'room_not_found',
  roomFull: 'room_full',
  sfuUnavailable: 'sfu_unavailable',
  gatewayUnavailable: 'gateway_unavailable',
  // Client side
  network: 'network_error',
  timeout: 'timeout',
  closed: 'connection_closed',
  notConnected: 'not_connected',
  noToken: 'no_token',
  mediaPermissionDenied: 'media_permission_denied',
  mediaNotFound: 'media_not_found',
  mediaInUse: 'media_in_use',
  mediaFailed: 'media_failed',
  screenShareCancelled: 'screen_share_cancelled',
  screenShareFailed: 'screen_share_failed',
  callFailed: 'call_failed',
  noAnswer: 'no_answer',
  sessionTakenOver: 'session_taken_over',
  // React layer
  missingProvider: 'missing_provider',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** JSON-RPC 2.0 error codes used on the signaling socket. */
export const RpcErrorCodes = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  notAuthenticated: -32001,
  authFailed: -32002,
  forbidden: -32003,
  callNotFound: -32004,
  unavailable: -32005,
  busy: -32006,
  invalidState: -32007,
  limitExceeded: -32008,
  rateLimited: -32009,
  peerBacklogged: -32010,
  roomNotFound: -32011,
  roomFull: -32012,
  sfuUnavailable: -32013,
  gatewayUnavailable: -32014,
} as const;

/** Base class of every error relaycall throws on purpose. */
export class RelayError extends Error {
  /** Stable machine-readable code, one of {@link ErrorCodes}. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RelayError';
    this.code = code;
  }
}

/** An error answered by the Relay's REST API. */
export class RelayHttpError extends RelayError {
  /** HTTP status of the response. */
  readonly status: number;

  constructor(status: number, code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'RelayHttpError';
    this.status = status;
  }
}

/** An error answered to a JSON-RPC request on the signaling socket. */
export class RelayRpcError extends RelayError {
  /** JSON-RPC error code (see {@link RpcErrorCodes}). */
  readonly rpcCode: number;

  constructor(rpcCode: number, code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'RelayRpcError';
    this.rpcCode = rpcCode;
  }
}

/** The signaling socket was closed by the Relay with a documented close code. */
export class RelayCloseError extends RelayError {
  /** WebSocket close code (see CloseCodes). */
  readonly closeCode: number;

  constructor(closeCode: number, code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'RelayCloseError';
    this.closeCode = closeCode;
  }
}

/** Camera or microphone could not be used. `kind` says which device, when known. */
export class RelayMediaError extends RelayError {
  readonly kind: 'audioinput' | 'videoinput' | 'audiooutput' | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    kind?: 'audioinput' | 'videoinput' | 'audiooutput',
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'RelayMediaError';
    this.kind = kind;
  }
}
