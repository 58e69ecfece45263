import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { createRelayClient, type RelayClient, type RelayClientOptions } from 'relaycall/core';
import { SqliteStore, createRestClient } from 'relaycall/server';
import { ManualClock, startTestRelay, type TestRelay } from 'relaycall/testing';
import { TestClient } from '../server/helpers.js';

let relay: TestRelay;
const clients: RelayClient[] = [];
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const close of closers.splice(0).reverse()) await close();
});

async function start(options: Parameters<typeof startTestRelay>[0] = {}) {
  relay = await startTestRelay({ limits: { heartbeatIntervalMs: 0 }, ...options });
  closers.push(() => relay.close());
  return relay;
}

function client(options: Partial<RelayClientOptions> = {}): RelayClient {
  const created = createRelayClient({
    url: relay.url,
    WebSocket: WebSocket as unknown as RelayClientOptions['WebSocket'],
    ...options,
  });
  clients.push(created);
  return created;
}

/** Resolves when the client's store satisfies `predicate`. */
function until(
  c: RelayClient,
  predicate: (state: ReturnType<RelayClient['store']['getState']>) => boolean,
) {
  return new Promise<void>((resolve) => {
    if (predicate(c.store.getState())) return resolve();
    const unsubscribe = c.store.subscribe((state) => {
      if (predicate(state)) {
        unsubscribe();
        resolve();
      }
    });
  });
}

/**
 * A client clock on a ManualClock whose page can freeze: `freeze(ms)` moves `now()` on without
 * running timers, so the timers due next run that late.
 */
function freezableClock() {
  const manual = new ManualClock();
  let frozenMs = 0;
  const clock: RelayClientOptions['clock'] = {
    now: () => manual.now() + frozenMs,
    setTimeout: (callback, ms) => manual.setTimeout(callback, ms),
    clearTimeout: (handle) => manual.clearTimeout(handle),
  };
  return { clock, manual, freeze: (ms: number) => (frozenMs += ms) };
}

/** A loopback TCP proxy that can go silent, like a dead network path. */
async function proxyTo(target: string) {
  const { port } = new URL(target);
  const sockets = new Set<Socket>();
  let silent = false;
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(port), '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }
    inbound.on('data', (chunk) => silent || outbound.write(chunk));
    outbound.on('data', (chunk) => silent || inbound.write(chunk));
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${address.port}`,
    /** Stops forwarding without closing anything: a silently dead path. */
    silence: () => (silent = true),
    /** Cuts every connection abruptly (no close frame), as a network loss does. */
    cut: () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
  };
}

async function rawClient(resource: string): Promise<TestClient> {
  const socket = await TestClient.open(`${relay.url.replace(/^http/, 'ws')}/api/relay/ws`);
  closers.push(() => void socket.ws.terminate());
  await socket.call('relay.connect', {
    project: relay.project.id,
    token: await relay.issueToken(resource),
  });
  return socket;
}

const fakeStream = { getTracks: () => [] } as unknown as MediaStream;

describe('connection', () => {
  it('connects, authenticates and reports the session', async () => {
    await start();
    const alice = client();
    const statuses: string[] = [];
    alice.store.subscribe((state, previous) => {
      if (state.status !== previous.status) statuses.push(state.status);
    });
    await alice.connect(await relay.issueToken('alice', { expiresIn: 10 }));
    const state = alice.store.getState();
    expect(statuses).toEqual(['connecting', 'connected']);
    expect(state).toMatchObject({ resource: 'alice', scopes: ['calls:dial', 'calls:receive'] });
    expect(state.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(state.expiresAt! - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(Math.abs(state.clockOffset)).toBeLessThan(1000);
    expect(relay.server.stats().sessions).toBe(1);
  });

  it('stops on a refused token, exposing why, and does not retry', async () => {
    await start();
    const clock = new ManualClock();
    const alice = client({ clock });
    await expect(alice.connect('not-a-jwt')).rejects.toMatchObject({ code: 'auth_failed' });
    expect(alice.store.getState()).toMatchObject({
      status: 'failed',
      error: { code: 'auth_failed' },
    });
    expect(clock.pending()).toEqual([]);
  });

  it('re-authenticates in place with a fresher token, keeping the session', async () => {
    await start();
    const alice = client();
    await alice.connect(await relay.issueToken('alice', { expiresIn: 1 }));
    const before = alice.store.getState();
    await alice.updateToken(await relay.issueToken('alice', { expiresIn: 30 }));
    const after = alice.store.getState();
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.expiresAt! - before.expiresAt!).toBeGreaterThan(25 * 60_000);
    expect(relay.server.stats().sockets).toBe(1);
  });

  it('fails with token_revoked when its family is revoked', async () => {
    await start();
    const rest = createRestClient({
      url: relay.url,
      project: relay.project.id,
      token: relay.project.token,
    });
    const pair = await relay.issueTokenPair('alice');
    const alice = client();
    await alice.connect(pair.jwtToken);
    await rest.revokeToken(pair.refreshToken);
    await until(alice, (s) => s.status === 'failed');
    expect(alice.store.getState().error).toMatchObject({ code: 'token_revoked', closeCode: 4005 });
  });

  it('fails with token_expired at expiry, and reconnects when given a fresh token', async () => {
    const serverClock = new ManualClock(Date.now());
    await start({ clock: serverClock });
    const alice = client();
    await alice.connect(await relay.issueToken('alice', { expiresIn: 1 }));
    serverClock.advance(60_000);
    await until(alice, (s) => s.status === 'failed');
    expect(alice.store.getState().error).toMatchObject({ code: 'token_expired', closeCode: 4004 });
    await alice.updateToken(await relay.issueToken('alice', { expiresIn: 5 }));
    expect(alice.store.getState()).toMatchObject({ status: 'connected', error: null });
  });

  it('reconnects with exponential backoff and jitter after the Relay goes away', async () => {
    // A restarted Relay keeps its secret, projects and token families in its SQLite store.
    const file = join(mkdtempSync(join(tmpdir(), 'relaycall-core-')), 'relay.sqlite');
    await start({ store: await SqliteStore.open(file) });
    const { port } = new URL(relay.url);
    const clock = new ManualClock();
    const alice = client({ clock, random: () => 0.5 });
    await alice.connect(await relay.issueToken('alice'));
    const firstSession = alice.store.getState().sessionId;
    await relay.close();
    closers.pop();
    await until(alice, (s) => s.status === 'reconnecting');
    expect(alice.store.getState().error).toMatchObject({
      code: 'connection_closed',
      closeCode: 1001,
    });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const next = clock.pending()[0] ?? -1;
      delays.push(next);
      const previous = alice.store.getState().error;
      clock.advance(next);
      // The refused attempt publishes its error once the next one is scheduled.
      await until(alice, (s) => s.error !== previous);
    }
    expect(delays).toEqual([250, 500, 1000, 2000]);
    relay = await startTestRelay({
      port: Number(port),
      store: await SqliteStore.open(file),
      project: relay.project,
      limits: { heartbeatIntervalMs: 0 },
    });
    closers.push(() => relay.close());
    clock.advance(clock.pending()[0] ?? 0);
    await until(alice, (s) => s.status === 'connected');
    expect(alice.store.getState().sessionId).not.toBe(firstSession);
  });
});

describe('a dead or dropped connection', () => {
  it('notices a silent drop within one ping interval plus the ping timeout', async () => {
    await start();
    const proxy = await proxyTo(relay.url);
    const clock = new ManualClock();
    const alice = client({ url: proxy.url, clock });
    await alice.connect(await relay.issueToken('alice'));
    proxy.silence();
    clock.advance(5_000);
    expect(alice.store.getState().status).toBe('connected');
    clock.advance(4_000);
    expect(alice.store.getState().status).toBe('reconnecting');
  });

  it('keeps a healthy socket when the page was frozen past the ping deadline', async () => {
    await start();
    const { clock, freeze, manual } = freezableClock();
    const alice = client({ clock });
    await alice.connect(await relay.issueToken('alice'));
    manual.advance(5_000); // the ping goes out
    // The page freezes: the deadline runs 2 s late, with the answer queued behind it.
    freeze(2_000);
    manual.advance(4_000);
    expect(alice.store.getState().status).toBe('connected');
    // The answer arrives: the deadline is cleared and the next ping scheduled.
    await vi.waitFor(() => expect(manual.pending()).toEqual([5_000]));
    expect(alice.store.getState().status).toBe('connected');
  });

  it('still drops a dead socket after the page was frozen past the ping deadline', async () => {
    await start();
    const proxy = await proxyTo(relay.url);
    const { clock, freeze, manual } = freezableClock();
    const alice = client({ url: proxy.url, clock });
    await alice.connect(await relay.issueToken('alice'));
    proxy.silence();
    manual.advance(5_000);
    freeze(2_000);
    manual.advance(4_000);
    expect(alice.store.getState().status).toBe('connected');
    // The deadline waited once more, on time now: no answer, so the socket is dead.
    manual.advance(4_000);
    expect(alice.store.getState().status).toBe('reconnecting');
  });

  it('keeps pinging after the Relay refuses a ping for its rate limit', async () => {
    // Bursts of 2 with next to no refill: relay.connect and one re-authentication empty it.
    await start({ limits: { heartbeatIntervalMs: 0, messagesPerSecond: 0.001, messageBurst: 2 } });
    const clock = new ManualClock();
    const alice = client({ clock, pingIntervalMs: 1_000 });
    await alice.connect(await relay.issueToken('alice'));
    await alice.updateToken(await relay.issueToken('alice'));
    expect(clock.pending()).toEqual([1_000]);
    clock.advance(1_000);
    // The ping is refused (rate_limited): the next one is still scheduled.
    await vi.waitFor(() => expect(clock.pending()).toEqual([1_000]));
    expect(alice.store.getState().status).toBe('connected');
  });

  it('resumes its session and processes what it missed, once', async () => {
    await start();
    const proxy = await proxyTo(relay.url);
    const clock = new ManualClock();
    const alice = client({ url: proxy.url, clock, random: () => 0 });
    await alice.connect(await relay.issueToken('alice'));
    const sessionId = alice.store.getState().sessionId;
    // Node has no WebRTC: the caller is a raw socket speaking the protocol.
    const bob = await rawClient('bob');
    await bob.call('call.invite', { to: 'alice', metadata: { name: 'Bob' } });
    await until(alice, (s) => Object.keys(s.calls).length === 1);
    proxy.cut();
    await until(alice, (s) => s.status === 'reconnecting');
    clock.advance(0);
    await until(alice, (s) => s.status === 'connected');
    expect(alice.store.getState().sessionId).toBe(sessionId);
    await until(alice, (s) => Object.values(s.calls)[0]?.state === 'ended');
    const [call] = Object.values(alice.store.getState().calls);
    expect(call).toMatchObject({ direction: 'incoming', remote: 'bob', endReason: 'disconnected' });
  });
});

describe('calls, signaling side', () => {
  it('shows an incoming call and rejects it', async () => {
    await start();
    const alice = client();
    await alice.connect(await relay.issueToken('alice'));
    const bob = await rawClient('bob');
    const { callId } = await bob.call('call.invite', { to: 'alice', metadata: { name: 'Bob' } });
    await until(alice, (s) => Object.keys(s.calls).length === 1);
    const [incoming] = Object.values(alice.store.getState().calls);
    expect(incoming).toMatchObject({
      direction: 'incoming',
      state: 'ringing',
      remote: 'bob',
      metadata: { name: 'Bob' },
    });
    alice.reject(incoming!.id);
    expect(await bob.next('call.ended')).toMatchObject({ callId, reason: 'declined' });
    expect(alice.store.getState().calls[incoming!.id]).toMatchObject({
      state: 'ended',
      endReason: 'declined',
    });
    expect(relay.server.stats().calls).toBe(0);
  });

  it('ends a call at once with forbidden when the token may not dial, before any media', async () => {
    await start();
    const alice = client();
    await alice.connect(await relay.issueToken('alice', { scopes: ['calls:receive'] }));
    const id = alice.call('bob');
    expect(alice.store.getState().calls[id]).toMatchObject({
      state: 'ended',
      endReason: 'forbidden',
      error: { code: 'forbidden' },
    });
  });

  it('fails a call where WebRTC is missing, before anyone is rung', async () => {
    await start();
    const bob = await rawClient('bob');
    const alice = client();
    await alice.connect(await relay.issueToken('alice'));
    const id = alice.call('bob', { localStream: fakeStream });
    await until(alice, (s) => s.calls[id]?.state === 'ended');
    expect(alice.store.getState().calls[id]).toMatchObject({
      endReason: 'failed',
      error: { code: 'call_failed' },
    });
    await bob.settle();
    expect(bob.notifications).toHaveLength(0);
  });

  it('fails a call without media devices with a typed media error', async () => {
    await start();
    const alice = client();
    await alice.connect(await relay.issueToken('alice'));
    const id = alice.call('bob');
    await until(alice, (s) => s.calls[id]?.state === 'ended');
    expect(alice.store.getState().calls[id]?.error).toMatchObject({ code: 'media_failed' });
    expect(relay.server.stats().calls).toBe(0);
  });
});
