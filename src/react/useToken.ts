'use client';
import { useRelayContext, type TokenState } from './RelayContext.js';

export interface UseTokenResult extends TokenState {
  /** Fetches a new token now and re-authenticates with it. Resolves once a token was fetched. */
  refresh: () => Promise<void>;
}

/** The provider's token: the JWT, its expiry, the fetch status and a manual refresh. */
export function useToken(): UseTokenResult {
  const { token, refresh } = useRelayContext('useToken');
  return { ...token, refresh };
}
