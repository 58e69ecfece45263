import { QueryClient } from '@tanstack/react-query';
import { act, screen, waitFor } from '@testing-library/react';
import { useEffect, useState } from 'react';
import { useRelayClient, type ConnectionStatus, type RelayClient } from 'relaycall';
import { describe, expect, it, vi } from 'vitest';
import {
  countSockets,
  getToken,
  Probe,
  renderWithRelay,
  STILL_TIMERS,
  tokenFetcher,
  uniqueResource,
  waitStill,
} from './helpers.js';

/** Records every connection status the component commits. */
function StatusLog({ log }: { log: ConnectionStatus[] }) {
  const { status } = useRelayClient();
  useEffect(() => {
    log.push(status);
  }, [log, status]);
  return null;
}

describe('RelayProvider', () => {
  it('connects with the first token: connecting, then connected as the token resource', async () => {
    const alice = uniqueResource('alice');
    const { fetchToken } = tokenFetcher(alice);
    const log: ConnectionStatus[] = [];
    renderWithRelay(
      <>
        <StatusLog log={log} />
        <Probe />
      </>,
      { fetchToken },
    );
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    expect(screen.getByTestId('resource')).toHaveTextContent(alice);
    expect(screen.getByTestId('token-status')).toHaveTextContent('ready');
    expect(log).toEqual(['idle', 'connecting', 'connected']);
    expect(fetchToken).toHaveBeenCalledTimes(1);
  });

  it('accepts a fetchToken that resolves { token } (e.g. the JSON body)', async () => {
    const bob = uniqueResource('bob');
    renderWithRelay(<Probe />, {
      fetchToken: async () => ({ token: await getToken(bob) }),
    });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    expect(screen.getByTestId('resource')).toHaveTextContent(bob);
  });

  it('under StrictMode: one client, one socket, one token fetch; destroyed on unmount', async () => {
    // Fake time stands still while the provider mounts twice over and connects: whatever a
    // second (wrong) client, socket or fetch needs besides time passing has happened once
    // everything due now has run and React has committed it; none can be late, however slow
    // the machine.
    vi.useFakeTimers(STILL_TIMERS);
    const { sockets } = countSockets();
    const { fetchToken } = tokenFetcher(uniqueResource('carol'));
    const clients = new Set<RelayClient>();
    const view = renderWithRelay(<Probe onClient={(client) => clients.add(client)} />, {
      fetchToken,
      strict: true,
    });
    await waitStill(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    // StrictMode's simulated unmount scheduled the client's teardown (a zero-delay timer) and its
    // remount cancelled it: run what is due, and commit what that caused.
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(sockets).toHaveLength(1);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(clients.size).toBe(1);
    const [client] = [...clients];

    // The real unmount's teardown on real timers (the fake ones pending, pings, are dropped).
    vi.useRealTimers();
    view.unmount();
    await waitFor(() => expect(client?.store.getState().status).toBe('disconnected'));
    await waitFor(() => expect(sockets[0]?.readyState).toBe(WebSocket.CLOSED));
  });

  it("keeps the token query in the app's QueryClient, and removes it on unmount", async () => {
    const queryClient = new QueryClient();
    const { fetchToken, tokens } = tokenFetcher(uniqueResource('dave'));
    const view = renderWithRelay(<Probe />, { fetchToken, queryClient });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const queries = queryClient.getQueryCache().findAll({ queryKey: ['relaycall', 'token'] });
    expect(queries).toHaveLength(1);
    expect(queries[0]?.state.data).toBe(tokens[0]);

    view.unmount();
    await waitFor(() =>
      expect(queryClient.getQueryCache().findAll({ queryKey: ['relaycall', 'token'] })).toEqual([]),
    );
  });

  it('creates a fresh client when a provider is mounted again', async () => {
    const seen: RelayClient[] = [];
    function Toggle() {
      const [shown, setShown] = useState(true);
      return (
        <>
          <button onClick={() => setShown((value) => !value)}>toggle</button>
          {shown && <Probe onClient={(client) => seen.push(client)} />}
        </>
      );
    }
    const { fetchToken } = tokenFetcher(uniqueResource('erin'));
    const first = renderWithRelay(<Toggle />, { fetchToken });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    first.unmount();
    renderWithRelay(<Toggle />, { fetchToken });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    expect(new Set(seen).size).toBe(2);
    expect(seen[0]?.store.getState().status).toBe('disconnected');
  });
});
