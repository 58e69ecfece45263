'use client';
import { QueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useStore } from 'zustand';
import {
  createRelayClient,
  type DisplayMediaFn,
  type IceRestartOptions,
  type QualityOptions,
  type RelayClient,
  type TrackProcessor,
} from '../core/index.js';
import { ErrorCodes, type IceServer } from '../protocol/index.js';
import type { FetchedToken } from './normalizeToken.js';
import { RelayClientContext, RelayContext, type RelayContextValue } from './RelayContext.js';
import { useOwnedRelayClient } from './useOwnedRelayClient.js';
import { useTokenQuery } from './useTokenQuery.js';

export interface RelayProviderProps {
  /**
   * Gets a JWT from your back end (which asks the Relay with its project token).
   * Resolve the JWT string or `{ token }`. Called on mount and before each expiry.
   */
  fetchToken: () => Promise<FetchedToken>;
  /** Relay base URL, e.g. `https://relay.example.com`. Read once per provider. */
  url: string;
  /** Project id. Default: the `sub` claim of the token. Read once per provider. */
  project?: string;
  /**
   * Your app's QueryClient, when it has one: the token query lives there. Default:
   * a QueryClient owned by this provider.
   */
  queryClient?: QueryClient;
  /** ICE servers to use instead of the Relay's list. Read once per provider. */
  iceServers?: IceServer[];
  /**
   * `'relay'` sends all call media through the TURN server the Relay hands out (hides users' IP
   * addresses); `'all'` lets calls go direct when they can. Default: `'all'`. Read once per
   * provider.
   */
  iceTransportPolicy?: 'all' | 'relay';
  /**
   * How long before the token expires to fetch the next one, in milliseconds.
   * Default: a fifth of the token's lifetime, at least 5 000 and at most 60 000.
   */
  refreshMarginMs?: number;
  /**
   * How long an outgoing call rings unanswered before it ends with `no-answer`, in
   * milliseconds. Default: 45 000. Read once per provider.
   */
  noAnswerTimeoutMs?: number;
  /**
   * Hang up every call and close the connection when the page is hidden for good (`pagehide`:
   * the tab closes or navigates away), so the other side sees `hangup` within a second instead
   * of a frozen call. A page restored from the back/forward cache reconnects. Default: true.
   * Read once per provider.
   */
  hangUpOnPageHide?: boolean;
  /**
   * Call quality (`useCallStats`, `useQualityWarnings`): sampling interval and warning
   * thresholds. Default: every 1000 ms, the default thresholds. Read once per provider.
   */
  quality?: QualityOptions;
  /**
   * How calls and rooms (mesh and sfu) restart ICE to survive network changes
   * (`RelayClientOptions`'s `iceRestart`); `false`: end a call on its first ICE failure.
   * Default: `{}` (3 s grace, 3 attempts of 10 s each). Read once per provider.
   */
  iceRestart?: IceRestartOptions | false;
  /**
   * Sends every call's and room's microphone and camera through this processor (background
   * blur, noise suppression; see docs/recipes/track-processors.md). Default: none. Read once per
   * provider; change it during a call with `client.setTrackProcessor`.
   */
  processTrack?: TrackProcessor;
  /**
   * Screen capture for screen sharing (`useScreenShare`): opens the browser's picker.
   * Default: `navigator.mediaDevices.getDisplayMedia`. Read once per provider.
   */
  getDisplayMedia?: DisplayMediaFn;
  children?: ReactNode;
}

/**
 * Creates one RelayClient for its subtree, connects it with the first token from
 * `fetchToken` and keeps the token fresh (re-authenticating in place; calls are
 * untouched). Destroys the client when unmounted. Change `url`, `project`, `iceServers`
 * or `iceTransportPolicy` by remounting (e.g. with a `key`).
 */
export function RelayProvider({
  fetchToken,
  url,
  project,
  queryClient,
  iceServers,
  iceTransportPolicy,
  refreshMarginMs,
  noAnswerTimeoutMs,
  hangUpOnPageHide,
  quality,
  iceRestart,
  processTrack,
  getDisplayMedia,
  children,
}: RelayProviderProps) {
  const client = useOwnedRelayClient(() =>
    createRelayClient({
      url,
      project,
      iceServers,
      iceTransportPolicy,
      noAnswerTimeoutMs,
      hangUpOnPageHide,
      quality,
      ...(iceRestart === undefined ? {} : { iceRestart }),
      ...(processTrack === undefined ? {} : { processTrack }),
      ...(getDisplayMedia === undefined ? {} : { getDisplayMedia }),
    }),
  );
  // Cheap until mounted; only used when the app passes no QueryClient.
  const [ownQueryClient] = useState(() => new QueryClient());
  const { token, refresh } = useTokenQuery({
    client,
    fetchToken,
    queryClient: queryClient ?? ownQueryClient,
    refreshMarginMs,
  });
  useTokenSync(client, token.token, refresh);

  const value = useMemo<RelayContextValue>(
    () => ({ client, token, refresh }),
    [client, token, refresh],
  );
  return (
    <RelayClientContext.Provider value={client}>
      <RelayContext.Provider value={value}>{children}</RelayContext.Provider>
    </RelayClientContext.Provider>
  );
}

/** Connects `client` with its first token and re-authenticates it with every later one. */
function useTokenSync(client: RelayClient, token: string | null, refresh: () => Promise<void>) {
  const pushed = useRef<{ client: RelayClient; token: string } | null>(null);
  useEffect(() => {
    if (token === null) return;
    const previous = pushed.current;
    if (previous?.client === client && previous.token === token) return;
    pushed.current = { client, token };
    const push = previous?.client === client ? client.updateToken(token) : client.connect(token);
    // Failures show in the client's state (status, error); nothing to rethrow here.
    push.catch(() => undefined);
  }, [client, token]);

  // The session ended on an expired token (e.g. the device slept past the refresh): fetch a
  // fresh one now; updateToken then reconnects.
  const expired = useStore(
    client.store,
    (state) => state.status === 'failed' && state.error?.code === ErrorCodes.tokenExpired,
  );
  useEffect(() => {
    if (expired) void refresh();
  }, [expired, refresh]);
}
