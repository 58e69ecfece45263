import {
  CloseCodes,
  ErrorCodes,
  RelayCloseError,
  RelayError,
  TERMINAL_CLOSE_CODES,
  type ErrorCode,
} from '../../protocol/index.js';

const CLOSE_ERRORS: Record<number, [ErrorCode, string]> = {
  [CloseCodes.authFailed]: [
    ErrorCodes.authFailed,
    'The Relay refused the token. Fetch a new one from your back end.',
  ],
  [CloseCodes.tokenExpired]: [
    ErrorCodes.tokenExpired,
    'The token expired. Provide a fresh token to reconnect.',
  ],
  [CloseCodes.tokenRevoked]: [
    ErrorCodes.tokenRevoked,
    'The token was revoked (logout or refresh-token reuse). Sign in again.',
  ],
  [CloseCodes.sessionTakenOver]: [
    ErrorCodes.sessionTakenOver,
    'This session was resumed on another connection. Reload to connect again.',
  ],
};
/** Errors after which the client stops reconnecting (status `failed`). */
export const TERMINAL_ERRORS = new Set<string>([
  ErrorCodes.authFailed,
  ErrorCodes.tokenExpired,
  ErrorCodes.tokenRevoked,
  ErrorCodes.sessionTakenOver,
]);

/** The error a socket closed with `code` reports (unknown codes: a lost connection). */
export function closeError(code: number): RelayCloseError {
  const [errorCode, message] = CLOSE_ERRORS[code] ?? [
    ErrorCodes.closed,
    `The connection to the Relay closed (${code}). Reconnecting.`,
  ];
  return new RelayCloseError(code, errorCode, message);
}

/** Whether a socket closed with `code` leaves no session to resume. */
export const endsSession = (code: number) => TERMINAL_CLOSE_CODES.includes(code);

export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  return new RelayError(ErrorCodes.internal, 'Unexpected client error.', { cause: error });
}

/** The `sub` claim (project id) of a JWT. */
export function projectOf(token: string): string {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    if (typeof sub === 'string') return sub;
  } catch {
    // Reported below.
  }
  throw new RelayError(
    ErrorCodes.authFailed,
    'The token is not a Relay JWT (no project in it). Pass `project` or fetch a valid token.',
  );
}

/**
 * The request may not have taken effect for want of a connection: it was not sent
 * (`not_connected`), or the connection went before its reply. It may go again after a resume.
 */
export const lostWithConnection = (error: unknown) =>
  error instanceof RelayError &&
  (error.code === ErrorCodes.closed ||
    error.code === ErrorCodes.timeout ||
    error.code === ErrorCodes.notConnected);

/**
 * Refusals after which a request is sent again a little later instead of failing: our rate
 * limit, or the other side not reading yet (`peer_backlogged`).
 */
export const RETRIED_LATER: ReadonlySet<string> = new Set<string>([
  ErrorCodes.rateLimited,
  ErrorCodes.peerBacklogged,
]);
