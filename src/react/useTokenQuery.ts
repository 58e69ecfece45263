'use client';
import { useQuery, type QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useId, useMemo, useRef } from 'react';
import { useStore } from 'zustand';
import { jwtExpiresAt, type RelayClient } from '../core/index.js';
import { normalizeToken, type FetchedToken } from './normalizeToken.js';
import type { TokenState, TokenStatus } from './RelayContext.js';
import { tokenRefreshOptions } from './tokenRefreshOptions.js';

export interface TokenQueryOptions {
  client: RelayClient;
  fetchToken: () => Promise<FetchedToken>;
  queryClient: QueryClient;
  /** Refresh this long before expiry, in ms. Default: a fifth of the token's lifetime, 5 s to 60 s. */
  refreshMarginMs: number | undefined;
}

/**
 * Keeps the provider's token fresh with one react-query query: fetched on mount,
 * refetched a margin before `exp` (see tokenRefreshOptions), retried with backoff.
 */
export function useTokenQuery({
  client,
  fetchToken,
  queryClient,
  refreshMarginMs,
}: TokenQueryOptions): { token: TokenState; refresh: () => Promise<void> } {
  // The app may pass a new function every render; the query always calls the latest.
  const fetchRef = useRef(fetchToken);
  useEffect(() => {
    fetchRef.current = fetchToken;
  }, [fetchToken]);

  // focusManager and onlineManager only reach a mounted QueryClient (mount is reference-counted).
  useEffect(() => {
    queryClient.mount();
    return () => queryClient.unmount();
  }, [queryClient]);

  const clockOffset = useStore(client.store, (state) => state.clockOffset);
  const queryKey = ['relaycall', 'token', useId()] as const;
  const query = useQuery(
    {
      queryKey,
      queryFn: async () => normalizeToken(await fetchRef.current()),
      ...tokenRefreshOptions(clockOffset, refreshMarginMs),
    },
    queryClient,
  );

  const { data, error, failureReason, isFetching, refetch } = query;
  const token = data ?? null;
  const lastError = error ?? failureReason ?? null;
  const status: TokenStatus =
    lastError !== null ? 'error' : token === null ? 'loading' : isFetching ? 'refreshing' : 'ready';
  const state = useMemo<TokenState>(
    () => ({
      token,
      expiresAt: token === null ? null : (jwtExpiresAt(token) ?? null),
      status,
      error: lastError,
    }),
    [token, status, lastError],
  );
  const refresh = useCallback(
    () => refetch({ cancelRefetch: false }).then(() => undefined),
    [refetch],
  );
  return { token: state, refresh };
}
