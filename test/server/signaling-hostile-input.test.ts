// Regressions found by the hostile-input fuzzing (test/reliability/fuzz.test.ts).
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCodes, systemClock, type RelayServerOptions } from 'relaycall/server';
import { CLOSE_GRACE_MS, closeReason } from '../../src/server/signaling/Connection.js';
import { PROJECT, TestClient, startRelay, type TestRelay } from './helpers.js';

let relay: TestRelay | undefined;
async function start(limits: RelayServerOptions['limits'] = {}) {
  relay = await startRelay({ limits });
  return relay;
}
afterEach(() => relay?.close());

async function until(predicate: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return predicate();
}

describe('close reasons', () => {
  it('closes with 4011, and does not crash, when a multibyte resource is at its session limit', async () => {
    // The limit message names the resource; 60 three-byte characters made the close reason
    // longer than a close frame allows, ws threw, and the rejection went unhandled.
    const rejections: unknown[] = [];
    const onRejection = (error: unknown) => rejections.push(error);
    process.on('unhandledRejection', onRejection);
    try {
      const r = await start({ maxSessionsPerResource: 1 });
      const resource = '群'.repeat(60);
      await r.connect(resource);
      const pair = await r.token({ resource });
      const client = await TestClient.open(r.wsUrl);
      await expect(
        client.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token }),
      ).rejects.toMatchObject({ code: 'limit_exceeded' });
      const closed = await client.closed;
      expect(closed.code).toBe(CloseCodes.sessionLimit);
      expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
      expect(closed.reason.startsWith(`"${'群'.repeat(10)}`)).toBe(true);
      expect(await until(() => r.relay.stats().unauthenticated === 0)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('cuts a close reason to 123 bytes at a character boundary', () => {
    expect(closeReason('token expired')).toBe('token expired');
    const emoji = closeReason('😀'.repeat(40));
    expect(Buffer.byteLength(emoji)).toBe(120);
    expect(emoji).toBe('😀'.repeat(30));
    expect(Buffer.byteLength(closeReason(`a${'é'.repeat(100)}`))).toBe(123);
    expect(Buffer.byteLength(closeReason('\ud800'.repeat(50)))).toBeLessThanOrEqual(123);
  });
});

describe('peers that stop reading', () => {
  /** Completes a WebSocket handshake over a raw socket, then never reads or answers again. */
  async function silentSocket(url: string): Promise<Socket> {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'GET /api/relay/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause();
    socket.on('error', () => undefined);
    return socket;
  }

  it('frees the unauthenticated place of a socket it closes at once, and cuts it off later', async () => {
    // It used to hold its place under maxUnauthenticatedSockets for ws's 30 s after the 4001,
    // then for the 5 s close grace: a peer that never answers kept others out meanwhile.
    const r = await start({ maxUnauthenticatedSockets: 1, authTimeoutMs: 1_000 });
    const silent = await silentSocket(r.url);
    expect(r.relay.stats().unauthenticated).toBe(1);
    await expect(TestClient.open(r.wsUrl)).rejects.toThrow(/503/);
    r.clock.advance(1_000); // closed with 4001; the peer does not answer
    expect(r.relay.stats().unauthenticated).toBe(0);
    await expect(r.connect('alice')).resolves.toBeDefined();
    r.clock.advance(CLOSE_GRACE_MS - 1);
    expect(r.relay.stats().sockets).toBe(2);
    r.clock.advance(1);
    expect(await until(() => r.relay.stats().sockets === 1)).toBe(true);
    silent.destroy();
  });

  it('lets a peer that answers the close frame finish the handshake, and forgets the timer', async () => {
    const r = await start({ authTimeoutMs: 1_000 });
    const client = await TestClient.open(r.wsUrl);
    r.clock.advance(1_000);
    expect((await client.closed).code).toBe(CloseCodes.authTimeout);
    expect(await until(() => r.relay.stats().sockets === 0)).toBe(true);
    expect(r.relay.stats().unauthenticated).toBe(0);
    expect(r.clock.pending().filter((ms) => ms <= CLOSE_GRACE_MS)).toEqual([]);
  });
});

describe('session timers', () => {
  it('leave nothing behind once cleared, though every session expiry has its own duration', () => {
    // Node kept an empty timer list per duration of an unref'd timer until that duration had
    // passed: ~140 bytes per session, for up to a day (the longest JWT).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50_000; i++) {
      systemClock.clearTimeout(systemClock.setTimeout(() => undefined, 15 * 60_000 + i));
    }
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 * 1024 * 1024);
  });
});
