/**
 * Puts a stand-in client (fakeRoomClient.ts) where `<RelayProvider>` puts its own, so the
 * library's hooks and components run unchanged over a scripted store. Story support only: it
 * reaches into the provider's context module, which apps never do (they use RelayProvider).
 */
import { useEffect, useMemo, type ReactNode } from 'react';
import type { RelayClient } from 'relaycall';
import {
  RelayClientContext,
  RelayContext,
  type RelayContextValue,
} from '../../src/react/RelayContext.js';

export function FakeRelay({ client, children }: { client: RelayClient; children: ReactNode }) {
  const value = useMemo<RelayContextValue>(
    () => ({
      client,
      token: { token: null, expiresAt: null, status: 'ready', error: null },
      refresh: async () => undefined,
    }),
    [client],
  );
  // The story owns the client: stop its canvases when the story goes.
  useEffect(() => () => client.destroy(), [client]);
  return (
    <RelayClientContext.Provider value={client}>
      <RelayContext.Provider value={value}>{children}</RelayContext.Provider>
    </RelayClientContext.Provider>
  );
}
