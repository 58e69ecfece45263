/**
 * onTokenExpiring (the v1 refreshToken event): a client without React hears, once per token and
 * its margin before expiry (on the Relay's clock), that it should present a fresher one.
 */
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  createRelayClient,
  type RelayClient,
  type RelayClientOptions,
  type TokenExpiringEvent,
} from 'relaycall/core';
import { ManualClock, startTestRelay, type TestRelay } from 'relaycall/testing';

let relay: TestRelay;
let alice: RelayClient | undefined;

afterEach(async () => {
  alice?.destroy();
  alice = undefined;
  await relay?.close();
});

async function connected(clock: ManualClock, options: Partial<RelayClientOptions> = {}) {
  relay = await startTestRelay({ limits: { heartbeatIntervalMs: 0 } });
  alice = createRelayClient({
    url: relay.url,
    WebSocket: WebSocket as unknown as RelayClientOptions['WebSocket'],
    clock,
    ...options,
  });
  await alice.connect(await relay.issueToken('alice', { expiresIn: 10 }));
  return alice;
}

it('tells the app its margin before expiry, once per token, and again for a fresher one', async () => {
  // The client's clock starts at the real time: the Relay's clock and its JWTs use that.
  const clock = new ManualClock(Date.now());
  const client = await connected(clock, { tokenRefreshMarginMs: 30_000 });
  const heard: TokenExpiringEvent[] = [];
  const stop = client.onTokenExpiring((event) => heard.push(event));
  const { expiresAt, clockOffset } = client.store.getState();
  const due = expiresAt! - clockOffset - 30_000 - clock.now();

  clock.advance(due - 1_000);
  expect(heard).toEqual([]);
  clock.advance(2_000);
  expect(heard).toHaveLength(1);
  expect(heard[0]?.expiresAt).toBe(expiresAt);
  expect(heard[0]?.expiresInMs).toBeGreaterThan(28_000);
  expect(heard[0]?.expiresInMs).toBeLessThanOrEqual(30_000);
  clock.advance(10_000);
  expect(heard).toHaveLength(1);

  // A fresher token is scheduled afresh (its expiry is what the event says).
  await client.updateToken(await relay.issueToken('alice', { expiresIn: 20 }));
  const { expiresAt: fresher, clockOffset: skew } = client.store.getState();
  expect(fresher).toBeGreaterThan(expiresAt!);
  // This clock ran ahead of the Relay's: the skew measured at re-authentication accounts for it.
  clock.advance(fresher! - skew - clock.now() - 29_000);
  expect(heard.map((event) => event.expiresAt)).toEqual([expiresAt, fresher]);

  stop();
});

it('asks for nothing once unsubscribed, disconnected or destroyed, and leaves no timer', async () => {
  const clock = new ManualClock(Date.now());
  const client = await connected(clock);
  const heard: TokenExpiringEvent[] = [];
  const stop = client.onTokenExpiring((event) => heard.push(event));
  const pendingWhileListening = clock.pending().length;
  stop();
  expect(clock.pending().length).toBe(pendingWhileListening - 1);

  client.onTokenExpiring((event) => heard.push(event));
  client.disconnect();
  clock.advance(11 * 60_000);
  expect(heard).toEqual([]);
  client.destroy();
  expect(clock.pending()).toEqual([]);
});
