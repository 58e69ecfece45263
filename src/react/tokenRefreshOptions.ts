import type { Query } from '@tanstack/react-query';
import { jwtExpiresAt, refreshDelay } from '../core/index.js';

/** A token that is already due is refetched at most this often, in ms. */
export const MIN_REFRESH_INTERVAL_MS = 1_000;
/** First retry delay after a failed fetchToken, in ms; doubles per failure. */
export const RETRY_BASE_MS = 1_000;
/** Longest retry delay after failed fetchTokens, in ms. */
export const RETRY_MAX_MS = 30_000;

type TokenQuery = Query<string, Error, string, readonly unknown[]>;

/**
 * Local time (ms since the epoch) at which a token fetched at `fetchedAt` is due:
 * `marginMs` (default: a fifth of its lifetime, 5 s to 60 s) before its `exp`,
 * with `exp` moved from the Relay's clock to the local one by `clockOffset`
 * (server − local). Null when the token has no readable `exp`.
 */
export function refreshDueAt(
  token: string,
  fetchedAt: number,
  clockOffset: number,
  marginMs?: number,
): number | null {
  const expiresAt = jwtExpiresAt(token);
  if (expiresAt === undefined) return null;
  const delay = refreshDelay({ expiresAt, clockOffset, now: fetchedAt, marginMs });
  return fetchedAt + Math.max(MIN_REFRESH_INTERVAL_MS, delay);
}

function dueAt(query: TokenQuery, clockOffset: number, marginMs?: number): number | null {
  const token = query.state.data;
  if (token === undefined) return null;
  return refreshDueAt(token, query.state.dataUpdatedAt, clockOffset, marginMs);
}

/**
 * The scheduling options of the token query. react-query owns the one timer:
 * `refetchInterval` is re-evaluated after every fetch and whenever the clock
 * offset changes, and counts down to the due time; `staleTime` marks the token
 * stale at that same time, so focus, visibility and `online` events refetch it
 * only when it is due. Failures are retried forever with capped exponential backoff.
 */
export function tokenRefreshOptions(clockOffset: number, marginMs?: number) {
  return {
    staleTime: (query: TokenQuery) => {
      const due = dueAt(query, clockOffset, marginMs);
      return due === null ? Infinity : Math.max(0, due - query.state.dataUpdatedAt);
    },
    refetchInterval: (query: TokenQuery) => {
      // While a fetch is running or paused, the retryer owns the next attempt.
      if (query.state.fetchStatus !== 'idle') return false as const;
      const due = dueAt(query, clockOffset, marginMs);
      return due === null ? (false as const) : Math.max(MIN_REFRESH_INTERVAL_MS, due - Date.now());
    },
    refetchIntervalInBackground: true,
    refetchOnWindowFocus: true,
    refetchOnReconnect: true,
    refetchOnMount: true,
    retry: true,
    retryDelay: (failureCount: number) => Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** failureCount),
    networkMode: 'online' as const,
    throwOnError: false,
    gcTime: 0,
  };
}
