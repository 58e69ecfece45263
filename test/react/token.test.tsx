import { screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { jwtExpiresAt, refreshDelay, useToken, type RelayClient } from 'relaycall';
import { describe, expect, it, vi } from 'vitest';
import {
  countSockets,
  getToken,
  Probe,
  renderWithRelay,
  tokenFetcher,
  uniqueResource,
} from './helpers.js';

const FAKE_TIMERS: Parameters<typeof vi.useFakeTimers>[0] = {
  toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  shouldAdvanceTime: true,
};

// Captured before any test fakes timers.
const realSetTimeout = globalThis.setTimeout;
const realPause = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));

/**
 * Moves fake time forward `ms` in one-second steps, pausing in real time between steps so
 * socket traffic (pings, re-authentication) gets through. The Relay's clock is real: every
 * fake second advanced adds a second of skew, so tests stop advancing just past a due time.
 */
async function advance(ms: number) {
  for (let left = ms; left > 0; left -= 1000) {
    await vi.advanceTimersByTimeAsync(Math.min(1000, left));
    await realPause(5);
  }
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
    const { sockets } = countSockets();
    const { fetchToken, tokens, calledAt } = tokenFetcher(uniqueResource('alice'), 1);
    const { clients, onClient } = connectedClient();
    renderWithRelay(<Probe onClient={onClient} />, { fetchToken, refreshMarginMs: 58_500 });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const client = clients[0]!;
    const { sessionId } = client.store.getState();
    const firstExp = jwtExpiresAt(tokens[0]!)!;

    await waitFor(() => expect(fetchToken).toHaveBeenCalledTimes(2), { timeout: 4000 });
    // Due 58.5 s before a 60 s token's exp (at least 1 s after the fetch).
    const due = Math.max(calledAt[0]! + 1000, firstExp - 58_500);
    expect(calledAt[1]).toBeGreaterThanOrEqual(due - 150);
    expect(calledAt[1]).toBeLessThan(due + 1000);

    await waitFor(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[1]!));
    await waitFor(() => expect(client.store.getState().expiresAt).toBe(jwtExpiresAt(tokens[1]!)));
    expect(client.store.getState()).toMatchObject({ status: 'connected', sessionId });
    expect(sockets).toHaveLength(1);
  });

  it('schedules from exp with the default margin (a fifth of the lifetime)', async () => {
    vi.useFakeTimers(FAKE_TIMERS);
    const { fetchToken, tokens, calledAt } = tokenFetcher(uniqueResource('bob'), 1);
    renderWithRelay(<Probe />, { fetchToken });
    await vi.waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const fetchedAt = calledAt[0]!;
    const dueIn = refreshDelay({ expiresAt: jwtExpiresAt(tokens[0]!)!, now: fetchedAt });
    expect(dueIn).toBeGreaterThan(45_000); // about 48 s for a 60 s token

    await advance(fetchedAt + dueIn - 1500 - Date.now());
    expect(fetchToken).toHaveBeenCalledTimes(1);
    await advance(2500);
    await waitFor(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[1] ?? '-'));
    expect(fetchToken).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('status')).toHaveTextContent('connected');
  });

  it("corrects for a skewed local clock with the client's clockOffset", async () => {
    vi.useFakeTimers(FAKE_TIMERS);
    vi.setSystemTime(Date.now() + 10 * 60_000); // this machine's clock runs 10 minutes fast
    const { fetchToken, tokens } = tokenFetcher(uniqueResource('carol'), 1);
    const { clients, onClient } = connectedClient();
    renderWithRelay(<Probe onClient={onClient} />, { fetchToken });
    await vi.waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    expect(clients[0]!.store.getState().clockOffset).toBeLessThan(-9 * 60_000);

    // Uncorrected, the token would look expired and be refetched every second.
    await advance(30_000);
    expect(fetchToken).toHaveBeenCalledTimes(1);
    // Due about 48 s after the fetch on the Relay's clock.
    await advance(19_500);
    await waitFor(() => expect(screen.getByTestId('token')).toHaveTextContent(tokens[1] ?? '-'));
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
    const bob = uniqueResource('dave');
    const fetchToken = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new Error('The back end is down'))
      .mockImplementation(() => getToken(bob));
    renderWithRelay(<Probe />, { fetchToken });
    await waitFor(() => expect(screen.getByTestId('token-status')).toHaveTextContent('error'));
    expect(screen.getByTestId('token-error')).toHaveTextContent('The back end is down');
    expect(screen.getByTestId('status')).toHaveTextContent('idle');

    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'), {
      timeout: 3000,
    });
    expect(screen.getByTestId('token-status')).toHaveTextContent('ready');
    expect(screen.getByTestId('token-error')).toHaveTextContent('');
    expect(fetchToken).toHaveBeenCalledTimes(2);
  });

  it('re-checks on waking (visibility) and on coming back online, refetching only when due', async () => {
    const { fetchToken, tokens } = tokenFetcher(uniqueResource('erin'), 1);
    renderWithRelay(<Probe />, { fetchToken });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));

    // Not due yet (about 48 s left): waking up and reconnecting do not refetch.
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(new Event('online'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fetchToken).toHaveBeenCalledTimes(1);

    // The device slept for 50 s (only the clock moved; the refresh timer is still pending).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 50_000);
    window.dispatchEvent(new Event('visibilitychange'));
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
