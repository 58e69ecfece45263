/**
 * The one table from an error's stable code to what each edge says with it: the JSON-RPC
 * code answered on the socket, the HTTP status answered by REST, and the close code when the
 * error closes the socket. Domain code throws `RelayError(code)`; the edges translate here.
 */
import { CloseCodes } from './closeCodes.js';
import { ErrorCodes, RelayRpcError, RpcErrorCodes, type ErrorCode, RelayError } from './errors.js';

export interface ErrorEdges {
  /** JSON-RPC error code on the signaling socket. */
  rpc: number;
  /** HTTP status on the REST API. */
  http: number;
  /** Close code when this error ends a socket's authentication, if it does. */
  close?: number;
}

const E = ErrorCodes;
const R = RpcErrorCodes;

/** Edges of every code the Relay answers with; codes raised only by clients are absent. */
export const ERROR_TABLE: Readonly<Partial<Record<ErrorCode, ErrorEdges>>> = {
  [E.unauthorized]: { rpc: R.authFailed, http: 401 },
  [E.badRequest]: { rpc: R.invalidParams, http: 400 },
  [E.invalidJson]: { rpc: R.parseError, http: 400 },
  [E.unsupportedMediaType]: { rpc: R.invalidRequest, http: 415 },
  [E.payloadTooLarge]: { rpc: R.invalidRequest, http: 413 },
  [E.rateLimited]: { rpc: R.rateLimited, http: 429 },
  [E.notFound]: { rpc: R.methodNotFound, http: 404 },
  [E.methodNotAllowed]: { rpc: R.methodNotFound, http: 405 },
  [E.invalidRefreshToken]: { rpc: R.authFailed, http: 401 },
  [E.refreshTokenReused]: { rpc: R.authFailed, http: 401 },
  [E.internal]: { rpc: R.internal, http: 500 },
  [E.unavailableService]: { rpc: R.internal, http: 503, close: CloseCodes.tryAgainLater },
  [E.parseError]: { rpc: R.parseError, http: 400 },
  [E.invalidRequest]: { rpc: R.invalidRequest, http: 400 },
  [E.methodNotFound]: { rpc: R.methodNotFound, http: 404 },
  [E.invalidParams]: { rpc: R.invalidParams, http: 400 },
  [E.notAuthenticated]: { rpc: R.notAuthenticated, http: 401 },
  [E.authFailed]: { rpc: R.authFailed, http: 401, close: CloseCodes.authFailed },
  [E.tokenExpired]: { rpc: R.authFailed, http: 401, close: CloseCodes.tokenExpired },
  [E.tokenRevoked]: { rpc: R.authFailed, http: 401, close: CloseCodes.tokenRevoked },
  [E.forbidden]: { rpc: R.forbidden, http: 403 },
  [E.callNotFound]: { rpc: R.callNotFound, http: 404 },
  [E.unavailable]: { rpc: R.unavailable, http: 409 },
  [E.busy]: { rpc: R.busy, http: 409 },
  [E.invalidState]: { rpc: R.invalidState, http: 409 },
  [E.answeredElsewhere]: { rpc: R.invalidState, http: 409 },
  [E.limitExceeded]: { rpc: R.limitExceeded, http: 429, close: CloseCodes.sessionLimit },
  [E.peerBacklogged]: { rpc: R.peerBacklogged, http: 503 },
  [E.roomNotFound]: { rpc: R.roomNotFound, http: 404 },
  [E.roomFull]: { rpc: R.roomFull, http: 409 },
  [E.sfuUnavailable]: { rpc: R.sfuUnavailable, http: 503 },
  [E.gatewayUnavailable]: { rpc: R.gatewayUnavailable, http: 503 },
};

/** The JSON-RPC error answered for any error: its table row, else an internal error. */
export function toRpcError(error: unknown): RelayRpcError {
  if (error instanceof RelayRpcError) return error;
  if (error instanceof RelayError) {
    const edges = ERROR_TABLE[error.code];
    if (edges) return new RelayRpcError(edges.rpc, error.code, error.message);
  }
  return new RelayRpcError(
    R.internal,
    E.internal,
    'The Relay failed to handle this request. Try again.',
  );
}

/** The close code for an error that ends a socket's authentication. */
export function closeCodeOf(code: ErrorCode): number {
  return ERROR_TABLE[code]?.close ?? CloseCodes.notAuthenticated;
}
