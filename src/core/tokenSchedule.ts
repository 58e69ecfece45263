/** Reads the `exp` claim of a JWT (seconds) as ms since the epoch; undefined when unreadable. */
export function jwtExpiresAt(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const claims = JSON.parse(atob(padded)) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export interface RefreshPlan {
  /** JWT expiry on the server's clock, ms since the epoch. */
  expiresAt: number;
  /** server clock − local clock, ms (from the Relay's `serverTime`). Default 0. */
  clockOffset?: number;
  /** Local clock now, ms since the epoch. */
  now: number;
  /** Refresh this long before expiry, ms. Default: a fifth of the remaining lifetime, 5 s to 60 s. */
  marginMs?: number;
}

/**
 * Milliseconds from now until a token should be refreshed: a margin before its
 * expiry, with the expiry translated from the server's clock to the local one
 * so a skewed client clock refreshes on time. Never negative.
 */
export function refreshDelay({ expiresAt, clockOffset = 0, now, marginMs }: RefreshPlan): number {
  const remaining = expiresAt - clockOffset - now;
  const margin = marginMs ?? Math.min(60_000, Math.max(5_000, remaining / 5));
  return Math.max(0, remaining - margin);
}
