import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCodes, DEFAULT_LIMITS, type RelayServerOptions } from 'relaycall/server';
import { PROJECT, TestClient, startRelay, type RpcFailure, type TestRelay } from './helpers.js';

let relay: TestRelay | undefined;
async function start(limits: RelayServerOptions['limits'] = {}) {
  relay = await startRelay({ limits });
  return relay;
}
afterEach(() => relay?.close());

describe('frames', () => {
  it('closes with 1009 on a frame over maxFrameBytes, and others carry on', async () => {
    const r = await start({ maxFrameBytes: 4096 });
    const bystander = await r.connect('carol');
    const client = await r.connect('alice');
    client.send({ jsonrpc: '2.0', method: 'relay.ping', params: { pad: 'x'.repeat(5000) } });
    expect((await client.closed).code).toBe(CloseCodes.messageTooBig);
    await bystander.settle();
  });

  it('closes with 1003 on a binary frame', async () => {
    const r = await start();
    const client = await r.connect('alice');
    client.ws.send(Buffer.from([1, 2, 3]));
    expect((await client.closed).code).toBe(CloseCodes.unsupportedData);
  });

  it('answers malformed requests with JSON-RPC errors, then closes on a run of them', async () => {
    const r = await start();
    const client = await r.connect('alice');
    client.send('{"jsonrpc": "2.0", "method": ');
    expect((await client.nextRaw((m) => m.id === null)).error).toMatchObject({ code: -32700 });
    client.send([{ jsonrpc: '2.0', id: 1, method: 'relay.ping' }]);
    expect((await client.nextRaw((m) => m.id === null)).error).toMatchObject({ code: -32600 });
    await expect(client.call('no.such.method')).rejects.toMatchObject({
      rpcCode: -32601,
      code: 'method_not_found',
    });
    await expect(client.call('call.invite', { to: 7 })).rejects.toMatchObject({ rpcCode: -32602 });
    await expect(client.call('call.invite', 'bob')).rejects.toMatchObject({ rpcCode: -32602 });
    // A valid request in between resets the count; twenty in a row close the socket.
    for (let i = 0; i < 20; i++) client.send('nope');
    expect((await client.closed).code).toBe(CloseCodes.protocolViolation);
  });

  it('refuses signals nested deeper than the payload limit', async () => {
    const r = await start();
    const alice = await r.connect('alice');
    await r.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = { deep };
    await expect(alice.call('call.signal', { callId, signal: deep })).rejects.toMatchObject({
      code: 'invalid_params',
    });
  });
});

describe('rate limit', () => {
  it('refuses messages over the burst, then closes a sustained flood with 4008', async () => {
    const r = await start({ messagesPerSecond: 10, messageBurst: 20 });
    const bystander = await r.connect('carol');
    const client = await r.connect('alice');
    // The manual clock stands still, so the bucket does not refill.
    // relay.connect took one of the 20.
    for (let i = 0; i < 18; i++) client.send({ jsonrpc: '2.0', method: 'relay.ping' });
    await expect(client.call('relay.ping')).resolves.toHaveProperty('serverTime');
    await expect(client.call('relay.ping')).rejects.toMatchObject({
      rpcCode: -32009,
      code: 'rate_limited',
    });
    r.clock.advance(1000);
    await expect(client.call('relay.ping')).resolves.toHaveProperty('serverTime');
    for (let i = 0; i < 60; i++) client.send({ jsonrpc: '2.0', method: 'relay.ping' });
    expect((await client.closed).code).toBe(CloseCodes.rateLimited);
    await bystander.settle();
  });
});

describe('rate limit over time', () => {
  it('closes with 4008 a flood just fast enough to be let through now and then', async () => {
    // 15 messages per refill at 10/s: every 15th is let through, so 100 refusals in a row
    // never happen. Such a socket used to be answered -32009 forever.
    const r = await start({ messagesPerSecond: 10, messageBurst: 20, maxRateLimitedMs: 5_000 });
    const client = await r.connect('alice');
    const flood = () =>
      Promise.allSettled(Array.from({ length: 15 }, () => client.call('relay.ping')));
    const outcomes = await flood(); // the burst's 19 tokens left, then refusals
    expect(outcomes.some((o) => o.status === 'rejected')).toBe(false);
    for (let ms = 0; ms < 5_000; ms += 100) {
      if (client.ws.readyState !== client.ws.OPEN) break;
      await flood();
      r.clock.advance(100);
    }
    await flood().catch(() => undefined);
    expect((await client.closed).code).toBe(CloseCodes.rateLimited);
    expect(r.relay.stats().sessions).toBe(0);
  });

  it('forgives a client that pauses for a second between bursts', async () => {
    const r = await start({ messagesPerSecond: 10, messageBurst: 10, maxRateLimitedMs: 2_000 });
    const client = await r.connect('alice');
    for (let round = 0; round < 6; round++) {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 15 }, () => client.call('relay.ping')),
      );
      expect(outcomes.some((o) => o.status === 'rejected')).toBe(true);
      r.clock.advance(1_000);
    }
    await expect(client.call('relay.ping')).resolves.toHaveProperty('serverTime');
  });
});

describe('WebSocket pings', () => {
  /** A masked, empty ping frame, as a client sends it. */
  const PING = Buffer.from([0x89, 0x80, 1, 2, 3, 4]);
  const raw = (client: TestClient) => (client.ws as unknown as { _socket: Socket })._socket;

  it('answers pings within the rate limit', async () => {
    const r = await start();
    const client = await r.connect('alice');
    let pongs = 0;
    client.ws.on('pong', () => (pongs += 1));
    raw(client).write(Buffer.concat(Array.from({ length: 10 }, () => PING)));
    await client.settle();
    expect(pongs).toBe(10);
  });

  it('ends the session of a ping flood with 4008, as for any flood', async () => {
    // ws cut a socket off after 60 pings in one read without a close frame, so the session was
    // only detached, waiting for a resume, contrary to "violations end the session".
    const r = await start({ messagesPerSecond: 50, messageBurst: 100 });
    const bystander = await r.connect('carol');
    const client = await r.connect('alice');
    raw(client).write(Buffer.concat(Array.from({ length: 500 }, () => PING)));
    expect((await client.closed).code).toBe(CloseCodes.rateLimited);
    await bystander.settle();
    expect(r.relay.stats().sessions).toBe(1);
  });
});

describe('session and call limits', () => {
  it('limits sessions per resource with 4011', async () => {
    const r = await start({ maxSessionsPerResource: 2 });
    await r.connect('alice');
    await r.connect('alice');
    await expect(r.connect('alice')).rejects.toThrow();
    const pair = await r.token({ resource: 'alice' });
    const client = await TestClient.open(r.wsUrl);
    await expect(
      client.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token }),
    ).rejects.toMatchObject({
      code: 'limit_exceeded',
    });
    expect((await client.closed).code).toBe(CloseCodes.sessionLimit);
    await expect(r.connect('bob')).resolves.toBeDefined();
  });

  it('limits sessions per project', async () => {
    const r = await start({ maxSessionsPerProject: 2 });
    await r.connect('alice');
    await r.connect('bob');
    await expect(r.connect('carol')).rejects.toThrow(/closed \(4011\)|limit/);
  });

  it('limits concurrent calls per session, and treats a full callee as busy', async () => {
    const r = await start({ maxCallsPerSession: 1 });
    const alice = await r.connect('alice');
    await r.connect('bob');
    const carol = await r.connect('carol');
    await alice.call('call.invite', { to: 'bob' });
    await expect(alice.call('call.invite', { to: 'carol' })).rejects.toMatchObject({
      code: 'limit_exceeded',
    });
    await expect(carol.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'busy',
      rpcCode: -32006,
    });
  });

  it('limits signals held before the answer', async () => {
    const r = await start({ maxEarlySignals: 3 });
    const alice = await r.connect('alice');
    await r.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    for (let i = 0; i < 3; i++) await alice.call('call.signal', { callId, signal: i });
    await expect(alice.call('call.signal', { callId, signal: 3 })).rejects.toMatchObject({
      code: 'limit_exceeded',
    });
  });

  it('refuses new sockets with 503 past maxUnauthenticatedSockets', async () => {
    const r = await start({ maxUnauthenticatedSockets: 2 });
    await TestClient.open(r.wsUrl);
    await TestClient.open(r.wsUrl);
    await expect(TestClient.open(r.wsUrl)).rejects.toThrow(/503/);
    await r.connect('alice').catch(() => undefined);
    expect(r.relay.stats().unauthenticated).toBe(2);
  });

  it('does not count a malformed handshake against maxUnauthenticatedSockets', async () => {
    const r = await start({ maxUnauthenticatedSockets: 1 });
    const { port } = new URL(r.url);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'GET /api/relay/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: nope\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1.1 400/);
    expect(r.relay.stats().unauthenticated).toBe(0);
    await expect(r.connect('alice')).resolves.toBeDefined();
  });

  it('pushes back on the sender of a reader that never drains, then closes it with 4010', async () => {
    const r = await start({
      maxBufferedBytes: 16 * 1024,
      messagesPerSecond: 1e6,
      messageBurst: 1e6,
    });
    const alice = await r.connect('alice');
    const bob = await r.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.next('call.incoming');
    await bob.call('call.answer', { callId });
    // Bob stops reading: the kernel buffers fill, then the Relay's send buffer.
    (bob.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const signal = 'x'.repeat(8 * 1024);
    let refused: RpcFailure | undefined;
    for (let i = 0; i < 3000 && !refused; i++) {
      refused = await alice.call('call.signal', { callId, signal }).then(
        () => undefined,
        (error: RpcFailure) => error,
      );
    }
    expect(refused).toMatchObject({ rpcCode: -32010, code: 'peer_backlogged' });
    // Not closed for what it was sent, only for not reading it in time.
    expect(r.relay.stats().calls).toBe(1);
    r.clock.advance(DEFAULT_LIMITS.slowReaderTimeoutMs);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
    expect(r.relay.stats().sessions).toBe(1);
  });
});

describe('heartbeat', () => {
  it('drops a socket that stops answering pings, and keeps one that answers', async () => {
    relay = await startRelay({ limits: { heartbeatIntervalMs: 15_000 } });
    const r = relay;
    const live = await r.connect('alice');
    const pair = await r.token({ resource: 'bob' });
    const silent = await TestClient.open(r.wsUrl, { autoPong: false });
    await silent.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token });
    r.clock.advance(15_000);
    await live.settle();
    await silent.settle();
    r.clock.advance(15_000);
    expect((await silent.closed).code).toBe(1006);
    await live.settle();
    // The dropped session waits for a resume.
    expect(r.relay.stats().sessions).toBe(2);
  });
});
