/**
 * Faults around the token, through <RelayProvider> in Chromium (StrictMode):
 * - the app's token endpoint fails for a while: the call goes on, useToken() shows the error, and
 *   the provider re-authenticates in place once the endpoint is back;
 * - the page's clock is 5 minutes off the Relay's (either way): the refresh still happens its
 *   margin before the token's real expiry.
 * Tokens live 60 s (the test endpoint's shortest, `expires_in=1`) and the refresh margins are
 * 55-57 s, so the first refresh is due a few seconds after mounting.
 * RELAYCALL_SOAK=1 adds an outage that outlasts the token: the session expires, the call goes on
 * peer to peer, and the provider reconnects when the endpoint is back.
 */
import { StrictMode, useEffect } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  RelayProvider,
  createRelayClient,
  jwtExpiresAt,
  useCall,
  useRelayClient,
  useToken,
  type RelayClient,
  type TokenState,
} from 'relaycall';
import { fetchToken, until, watchFrames } from './faultKit.js';
import { actAsync, actSync, framesPresented, playInVideo, untilTrue } from './helpers.js';

const { soak } = inject('reliability');
let relay: { id: string; url: string; tokenUrl: string };
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  relay = await commands.startRelay();
});
afterAll(() => commands.stopRelay(relay.id));
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  document.body.replaceChildren();
});

/** Real time, whatever a test does to Date.now. */
const trueNow = () => performance.timeOrigin + performance.now();

/** A plain core client that answers whatever rings. */
async function autoAnswering(resource: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  cleanups.push(() => client.destroy());
  await client.connect(await fetchToken(relay.tokenUrl, resource));
  client.store.subscribe((state) => {
    for (const call of Object.values(state.calls)) {
      if (call.direction === 'incoming' && call.state === 'ringing') void client.answer(call.id);
    }
  });
  return client;
}

/** What the rendered app exposes to the test. */
interface Seen {
  client: RelayClient | null;
  token: TokenState | null;
  call: ReturnType<typeof useCall> | null;
}

function App({ to, report }: { to: string; report: (seen: Seen) => void }) {
  const { client, status } = useRelayClient();
  const token = useToken();
  const call = useCall(to);
  useEffect(() => {
    report({ client, token, call });
  });
  return (
    <div>
      <p data-testid="status">{status}</p>
      <p data-testid="token">{token.status}</p>
      <p data-testid="token-error">{token.error?.message ?? ''}</p>
      <p data-testid="call">{call.state}</p>
    </div>
  );
}

async function mount(
  fetchToken: () => Promise<{ token: string }>,
  to: string,
  refreshMarginMs: number,
): Promise<Seen> {
  const seen: Seen = { client: null, token: null, call: null };
  const host = document.createElement('div');
  document.body.append(host);
  const root: Root = createRoot(host);
  await actAsync(async () => {
    root.render(
      <StrictMode>
        <RelayProvider url={relay.url} fetchToken={fetchToken} refreshMarginMs={refreshMarginMs}>
          <App to={to} report={(latest) => Object.assign(seen, latest)} />
        </RelayProvider>
      </StrictMode>,
    );
  });
  cleanups.push(() => actSync(() => root.unmount()));
  return seen;
}

const waitFor = untilTrue;

const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent;

/** Mounts the provider for `resource` with a switchable token endpoint and an active call. */
async function activeCallWithFlakyEndpoint(resource: string, refreshMarginMs: number) {
  const peer = `${resource}-peer`;
  await autoAnswering(peer);
  const endpoint = { failing: false, fetches: 0, failures: 0 };
  const seen = await mount(
    async () => {
      endpoint.fetches += 1;
      if (endpoint.failing) {
        endpoint.failures += 1;
        throw new Error('token endpoint down (test)');
      }
      return { token: await fetchToken(relay.tokenUrl, resource, 1) };
    },
    peer,
    refreshMarginMs,
  );
  await waitFor(() => text('status') === 'connected', 'connected');
  await actAsync(async () => void seen.call!.start());
  await waitFor(() => text('call') === 'active', 'call active');
  const remote = await playInVideo(seen.call!.remoteStream!);
  await framesPresented(remote, 5, 'frames before the outage');
  const client = seen.client!;
  const statuses: string[] = [];
  const stopStatuses = client.store.subscribe((state, previous) => {
    if (state.status !== previous.status) statuses.push(state.status);
  });
  cleanups.push(stopStatuses);
  return { seen, endpoint, remote, client, statuses };
}

describe('the token endpoint failing for a while', () => {
  it('keeps the call, shows the error in useToken, and re-authenticates in place once back', async () => {
    // Due 5 s before the 60 s token expires… minus 55 s: about 4 s after mounting.
    const { seen, endpoint, remote, client, statuses } = await activeCallWithFlakyEndpoint(
      'alice-flaky',
      55_000,
    );
    const { sessionId, expiresAt } = client.store.getState();
    const frames = watchFrames(remote);
    endpoint.failing = true;

    await waitFor(() => text('token') === 'error', 'useToken shows the error', 10_000);
    expect(text('token-error')).toBe('token endpoint down (test)');
    expect(seen.token).toMatchObject({
      status: 'error',
      error: { message: 'token endpoint down (test)' },
    });
    // Retried with backoff: let a second attempt fail too.
    await waitFor(() => endpoint.failures >= 2, 'a retry fails too', 5000);
    expect(text('call')).toBe('active');
    expect(client.store.getState()).toMatchObject({ status: 'connected', sessionId });

    endpoint.failing = false;
    await waitFor(() => text('token') === 'ready', 'token fetched again', 10_000);
    await until(client, (s) => s.expiresAt! > expiresAt!, 're-authenticated with the new token');
    const gap = frames.stop();
    expect(text('token-error')).toBe('');
    // The same session throughout: never reconnected, the call never dropped, media never paused.
    expect(statuses).toEqual([]);
    expect(client.store.getState()).toMatchObject({ status: 'connected', sessionId });
    expect(text('call')).toBe('active');
    expect(gap.frames).toBeGreaterThan(30);
    expect(gap.longestGapMs).toBeLessThan(1000);
    console.log(
      `token endpoint down: ${endpoint.failures} failed fetches, call active throughout, ` +
        `${gap.frames} frames, longest gap ${gap.longestGapMs} ms, same session`,
    );
    await commands.writeResults('faults', 'tokenEndpointDown', {
      failedFetches: endpoint.failures,
      sameSession: true,
      framesDuringOutage: gap.frames,
      longestFrameGapMs: gap.longestGapMs,
    });
  }, 30_000);

  it.runIf(soak)(
    'keeps media flowing past the token expiry, and reconnects once the endpoint is back',
    async () => {
      const { seen, endpoint, remote, client, statuses } = await activeCallWithFlakyEndpoint(
        'alice-expiring',
        55_000,
      );
      const { sessionId, expiresAt } = client.store.getState();
      const frames = watchFrames(remote);
      endpoint.failing = true;
      // The Relay ends the session at expiry (4004); the call goes on peer to peer.
      await until(client, (s) => s.status === 'failed', 'session expired', 75_000);
      expect(client.store.getState().error).toMatchObject({ code: 'token_expired' });
      expect(trueNow()).toBeGreaterThanOrEqual(expiresAt!);
      expect(text('token')).toBe('error');
      await framesPresented(remote, 10, 'frames after the expiry');
      expect(text('call')).toBe('active');

      endpoint.failing = false;
      // The provider's retry backoff is capped at 30 s.
      await until(client, (s) => s.status === 'connected', 'reconnected', 40_000);
      expect(client.store.getState().sessionId).not.toBe(sessionId);
      await waitFor(() => text('token') === 'ready', 'token ready');
      const gap = frames.stop();
      expect(text('call')).toBe('active');
      expect(statuses).toContain('failed');
      expect(gap.longestGapMs).toBeLessThan(1000);
      // Hung up over the data channel: the new session knows nothing of the call.
      await actAsync(async () => seen.call!.hangup());
      await waitFor(() => text('call') === 'ended', 'hung up');
    },
    180_000,
  );
});

describe('a page clock 5 minutes off the Relay', () => {
  it.each([
    ['ahead', 5 * 60_000],
    ['behind', -5 * 60_000],
  ])(
    'refreshes the token its margin before the real expiry (%s)',
    async (_, skewMs) => {
      const realNow = Date.now;
      Date.now = () => realNow.call(Date) + skewMs;
      cleanups.push(() => (Date.now = realNow));
      const marginMs = 57_000;
      const fetches: { at: number; exp: number }[] = [];
      const seen = await mount(
        async () => {
          const token = await fetchToken(relay.tokenUrl, 'alice-skewed', 1);
          fetches.push({ at: trueNow(), exp: jwtExpiresAt(token)! });
          return { token };
        },
        'nobody',
        marginMs,
      );
      await waitFor(() => text('status') === 'connected', 'connected');
      const client = seen.client!;
      // The client measured the skew from the Relay's serverTime.
      expect(Math.abs(client.store.getState().clockOffset + skewMs)).toBeLessThan(1000);
      const first = fetches[0]!;
      await waitFor(
        () => fetches.length >= 2,
        'the refresh',
        first.exp - marginMs - trueNow() + 5000,
      );
      const refreshedAt = fetches[1]!.at;
      const due = first.exp - marginMs;
      console.log(
        `clock ${skewMs > 0 ? '+' : '-'}5 min: refreshed ${Math.round(refreshedAt - due)} ms after ` +
          `due (exp − ${marginMs / 1000} s), ${Math.round(first.exp - refreshedAt)} ms before expiry`,
      );
      // Neither early (clock read as is: +5 min would refresh at once) nor late (−5 min: 5 min late).
      await commands.writeResults('faults', `clockSkew${skewMs > 0 ? 'Ahead' : 'Behind'}`, {
        skewMs,
        refreshMarginMs: marginMs,
        refreshedAfterDueMs: Math.round(refreshedAt - due),
        refreshedBeforeExpiryMs: Math.round(first.exp - refreshedAt),
      });
      expect(refreshedAt).toBeGreaterThan(due - 500);
      expect(refreshedAt).toBeLessThan(due + 1500);
      await until(client, (s) => s.expiresAt! > first.exp, 're-authenticated with the new token');
      expect(client.store.getState().status).toBe('connected');
      expect(text('token')).toBe('ready');
    },
    20_000,
  );
});
