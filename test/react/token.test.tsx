import { QueryClient } from '@tanstack/react-query';
import { screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { jwtExpiresAt, refreshDelay, useToken, type RelayClient } from 'relaycall';
import { describe, expect, it, vi } from 'vitest';
import {
  advanceStill,
  countSockets,
  getToken,
  Probe,
  renderWithRelay,
  STILL_TIMERS,
  tokenFetcher,
  uniqueResource,
  waitStill,
} from './helpers.js';

/**
 * When the provider will refetch a token fetched at `fetchedAt` (local clock), from first
 * principles: `marginMs` (default a fifth of the lifetime left, 5 s to 60 s) before its exp,
 * exp being on the Relay's clock, which is `clockOffset` ahead of the local one.
 */
function dueAfterFetch(token: string, fetchedAt: number, clockOffset: number, marginMs?: number) {
  const lifetimeLeft = jwtExpiresAt(token)! - (fetchedAt + clockOffset);
  const margin = marginMs ?? Math.min(60_000, Math.max(5_000, lifetimeLeft / 5));
  return { lifetimeLeft, dueIn: Math.max(1000, lifetimeLeft - margin) };
}

function RefreshButton() {
  const { refresh, status } = useToken();
  return (
    <button onClick={() => void refresh()} disabled={status === 'loading'}>
      Refresh token
    </button>
  );
}

function connectedClient() {
  const clients: RelayClient[] = [];
  return { clients, onClient: (client: RelayClient) => void clients.push(client) };
}

describe('token refresh', () => {
  it('fetches the next token a margin before exp and re-authenticates in place', async () => {
    vi.useFakeTimers(STILL_TIMERS);
    const { sockets, unanswered } = countSockets();
    const { fetchToken, tokens, calledAt } = tokenFetcher(uniqueResource('alice'), 1);
    const { clients, onClient } = connectedClient();
    renderWithRelay(<Probe onClient={onClient} />, { fetchToken, refreshMarginMs: 58_500 });
    await waitStill(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const client = clients[0]!;
    const { sessionId, clockOffset } = client.store.getState();

    // Due 58.5 s before a 60 s token's exp (at least 1 s after the fetch).
    const { dueIn } = dueAfterFetch(tokens[0]!, calledAt[0]!, clockOffset, 58_500);
    expect(dueIn).toBeLessThanOrEqual(1500);
    await advanceStill(dueIn - 100, unanswered);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await advanceStill(200, unanswered);
    expect(fetchToken).toHaveBeenCalledTimes(2);

    await waitStill(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[1]!));
    await waitStill(() => expect(client.store.getState().expiresAt).toBe(jwtExpiresAt(tokens[1]!)));
    expect(client.store.getState()).toMatchObject({ status: 'connected', sessionId });
    expect(sockets).toHaveLength(1);
  });

  it('schedules from exp with the default margin (a fifth of the lifetime)', async () => {
    vi.useFakeTimers(STILL_TIMERS);
    const { unanswered } = countSockets();
    const { fetchToken, tokens, calledAt } = tokenFetcher(uniqueResource('bob'), 1);
    const { clients, onClient } = connectedClient();
    renderWithRelay(<Probe onClient={onClient} />, { fetchToken });
    await waitStill(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const { clockOffset } = clients[0]!.store.getState();
    const { lifetimeLeft, dueIn } = dueAfterFetch(tokens[0]!, calledAt[0]!, clockOffset);
    // The library's own arithmetic agrees: about 48 s for a 60 s token.
    expect(
      refreshDelay({ expiresAt: jwtExpiresAt(tokens[0]!)!, clockOffset, now: calledAt[0]! }),
    ).toBe(dueIn);
    expect(lifetimeLeft).toBeGreaterThan(40_000);
    expect(lifetimeLeft).toBeLessThanOrEqual(60_000);
    expect(dueIn).toBeCloseTo(lifetimeLeft * 0.8, 6);

    await advanceStill(dueIn - 500, unanswered);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await advanceStill(1000, unanswered);
    expect(fetchToken).toHaveBeenCalledTimes(2);
    await waitStill(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[1] ?? '-'));
    expect(screen.getByTestId('status')).toHaveTextContent('connected');
  });

  it("corrects for a skewed local clock with the client's clockOffset", async () => {
    vi.useFakeTimers(STILL_TIMERS);
    vi.setSystemTime(Date.now() + 10 * 60_000); // this machine's clock runs 10 minutes fast
    const { unanswered } = countSockets();
    const { fetchToken, tokens, calledAt } = tokenFetcher(uniqueResource('carol'), 1);
    const { clients, onClient } = connectedClient();
    renderWithRelay(<Probe onClient={onClient} />, { fetchToken });
    // Until the client knows its offset, the token looks expired and its refetch is 1 s away:
    // connecting takes no fake time, so that second cannot run out however long it takes.
    await waitStill(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const { clockOffset } = clients[0]!.store.getState();
    expect(clockOffset).toBeLessThan(-9 * 60_000);
    // Due about 48 s after the fetch on the Relay's clock.
    const { lifetimeLeft, dueIn } = dueAfterFetch(tokens[0]!, calledAt[0]!, clockOffset);
    expect(lifetimeLeft).toBeGreaterThan(40_000);
    expect(lifetimeLeft).toBeLessThanOrEqual(60_000);

    // Uncorrected, the token would look expired and be refetched every second.
    await advanceStill(dueIn - 500, unanswered);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await advanceStill(1000, unanswered);
    await waitStill(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[1] ?? '-'));
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it('refresh() fetches a token now and re-authenticates the same session', async () => {
    const { fetchToken, tokens } = tokenFetcher(uniqueResource('frank'));
    const { clients, onClient } = connectedClient();
    renderWithRelay(
      <>
        <Probe onClient={onClient} />
        <RefreshButton />
      </>,
      { fetchToken },
    );
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const { sessionId } = clients[0]!.store.getState();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Refresh token' }));
    await waitFor(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[1] ?? '-'));
    expect(fetchToken).toHaveBeenCalledTimes(2);
    await waitFor(() =>
      expect(clients[0]!.store.getState().expiresAt).toBe(jwtExpiresAt(tokens[1]!)),
    );
    expect(clients[0]!.store.getState()).toMatchObject({ status: 'connected', sessionId });
  });

  it('shows a failing fetchToken in useToken, retries with backoff and recovers', async () => {
    vi.useFakeTimers(STILL_TIMERS);
    const { unanswered } = countSockets();
    const bob = uniqueResource('dave');
    const fetchToken = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new Error('The back end is down'))
      .mockImplementation(() => getToken(bob));
    renderWithRelay(<Probe />, { fetchToken });
    await waitStill(() => expect(screen.getByTestId('token-status')).toHaveTextContent('error'));
    expect(screen.getByTestId('token-error')).toHaveTextContent('The back end is down');
    expect(screen.getByTestId('status')).toHaveTextContent('idle');
    expect(fetchToken).toHaveBeenCalledTimes(1);

    // The first retry is a backoff step later (1 s), not at once.
    await advanceStill(900, unanswered);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await advanceStill(200, unanswered);
    await waitStill(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    expect(screen.getByTestId('token-status')).toHaveTextContent('ready');
    expect(screen.getByTestId('token-error')).toHaveTextContent('');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it('re-checks on waking (visibility) and on coming back online, refetching only when due', async () => {
    const { fetchToken, tokens } = tokenFetcher(uniqueResource('erin'), 1);
    const queryClient = new QueryClient();
    renderWithRelay(<Probe />, { fetchToken, queryClient });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));

    // Not due yet (about 48 s left): waking up and reconnecting do not refetch. The query cache
    // decides at once, when it hears of the event: a refetch would have started by the time
    // its onFocus / onOnline returned.
    const cache = queryClient.getQueryCache();
    const heard = { focus: 0, online: 0 };
    const fetchesWhenHeard: number[] = [];
    const onFocus = cache.onFocus.bind(cache);
    const onOnline = cache.onOnline.bind(cache);
    vi.spyOn(cache, 'onFocus').mockImplementation(() => {
      onFocus();
      heard.focus += 1;
      fetchesWhenHeard.push(fetchToken.mock.calls.length);
    });
    vi.spyOn(cache, 'onOnline').mockImplementation(() => {
      onOnline();
      heard.online += 1;
      fetchesWhenHeard.push(fetchToken.mock.calls.length);
    });
    // As a browser fires it: at the document, bubbling to the window.
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(new Event('online'));
    await waitFor(() => expect(heard).toEqual({ focus: 1, online: 1 }));
    expect(fetchesWhenHeard).toEqual([1, 1]);
    expect(queryClient.isFetching()).toBe(0);
    expect(fetchToken).toHaveBeenCalledTimes(1);

    // The device slept for 50 s (only the clock moved; the refresh timer is still pending).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 50_000);
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    await waitFor(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[1] ?? '-'));
    await waitFor(() => expect(screen.getByTestId('token-status')).toHaveTextContent('ready'));
    expect(fetchToken).toHaveBeenCalledTimes(2);

    vi.setSystemTime(Date.now() + 50_000);
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(new Event('online'));
    await waitFor(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[2] ?? '-'));
    expect(fetchToken).toHaveBeenCalledTimes(3);
  });
});
