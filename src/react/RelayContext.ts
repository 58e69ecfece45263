'use client';
import { createContext, useContext } from 'react';
import type { RelayClient } from '../core/index.js';
import { MissingProviderError } from './MissingProviderError.js';

/** Lifecycle of the provider's token: first fetch, fresh, refetching, or last fetch failed. */
export type TokenStatus = 'loading' | 'ready' | 'refreshing' | 'error';

/** The provider's token, as kept by its react-query query. */
export interface TokenState {
  /** The current JWT, or null before the first successful fetch. */
  token: string | null;
  /** `exp` of the current JWT in ms since the epoch (the Relay's clock), or null. */
  expiresAt: number | null;
  status: TokenStatus;
  /** The last fetchToken failure while it is being retried, or null. */
  error: Error | null;
}

/** What `<RelayProvider>` puts in context. */
export interface RelayContextValue {
  client: RelayClient;
  token: TokenState;
  /** Fetches a new token now and pushes it to the client. Resolves once a token was fetched. */
  refresh: () => Promise<void>;
}

/** The whole provider value; read by `useToken`. */
export const RelayContext = createContext<RelayContextValue | null>(null);
/** The client alone: stable, so hooks that only need the client do not re-render on token changes. */
export const RelayClientContext = createContext<RelayClient | null>(null);

/** The provider's value, or a MissingProviderError naming `hook`. */
export function useRelayContext(hook: string): RelayContextValue {
  const value = useContext(RelayContext);
  if (value === null) throw new MissingProviderError(hook);
  return value;
}

/** The provider's client, or a MissingProviderError naming `hook`. */
export function useClientOf(hook: string): RelayClient {
  const client = useContext(RelayClientContext);
  if (client === null) throw new MissingProviderError(hook);
  return client;
}
