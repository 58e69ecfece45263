import { ErrorCodes, RelayError } from '../protocol/index.js';

/** What an app's `fetchToken` may resolve: the JWT, or an object carrying it (e.g. a JSON body). */
export type FetchedToken = string | { token: string };

/** The JWT out of `fetchToken`'s result; throws a RelayError (`no_token`) for anything else. */
export function normalizeToken(value: FetchedToken): string {
  const token = typeof value === 'string' ? value : (value as { token?: unknown } | null)?.token;
  if (typeof token === 'string' && token.length > 0) return token;
  throw new RelayError(
    ErrorCodes.noToken,
    'fetchToken resolved without a token: return the JWT string or { token } from your back end.',
  );
}
