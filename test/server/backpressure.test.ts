/**
 * What one party sends must never get another party's session closed, and what a session keeps
 * is bounded in bytes, not only in messages. A caller used to be able to disconnect the person
 * it called: signals it held before the answer, or a burst into the call, were delivered in one
 * turn and the reader's socket was closed with 4010 however fast it read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type RelayServerOptions } from 'relaycall/server';
import { PROJECT, TestClient, startRelay, type RpcFailure, type TestRelay } from './helpers.js';

let relay: TestRelay | undefined;
async function start(limits: RelayServerOptions['limits'] = {}) {
  relay = await startRelay({ limits });
  return relay;
}
afterEach(() => relay?.close());

const KB60 = 'x'.repeat(60 * 1024);

async function answered(r: TestRelay) {
  const alice = await r.connect('alice');
  const bob = await r.connect('bob');
  const { callId } = (await alice.call('call.invite', { to: 'bob' })) as { callId: string };
  await bob.next('call.incoming');
  return { alice, bob, callId };
}

/** Sends every signal at once; resolves which of them the Relay accepted. */
async function burst(client: TestClient, callId: string, count: number) {
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.call('call.signal', { callId, signal: { i, pad: KB60 } }).then(
        () => ({ i, code: 'ok' }),
        (error: RpcFailure) => ({ i, code: error.code ?? String(error.rpcCode) }),
      ),
    ),
  );
  return outcomes;
}

async function received(client: TestClient, count: number): Promise<number[]> {
  const seen: number[] = [];
  for (let n = 0; n < count; n++) {
    const { signal } = await client.next('call.signal');
    seen.push((signal as { i: number }).i);
  }
  return seen;
}

describe('early signals', () => {
  it('holds at most maxEarlySignalBytes, and the callee that answers is not closed for them', async () => {
    const r = await start();
    const { alice, bob, callId } = await answered(r);
    // 64 signals of 60 KB (3.8 MB) used to be held and delivered in one turn: 4010 for bob.
    const outcomes = await burst(alice, callId, 64);
    const held = outcomes.filter((o) => o.code === 'ok').map((o) => o.i);
    expect(held.length).toBe(Math.floor(DEFAULT_LIMITS.maxEarlySignalBytes / (60 * 1024 + 20)));
    expect(new Set(outcomes.filter((o) => o.code !== 'ok').map((o) => o.code))).toEqual(
      new Set(['limit_exceeded']),
    );
    await bob.call('call.answer', { callId });
    expect(await received(bob, held.length)).toEqual(held);
    await expect(bob.call('relay.ping')).resolves.toHaveProperty('serverTime');
    expect(r.relay.stats()).toMatchObject({ sessions: 2, calls: 1 });
  });
});

describe('bursts into an active call', () => {
  it('never closes a reader that reads, and pushes back on the sender instead', async () => {
    const r = await start();
    const { alice, bob, callId } = await answered(r);
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    // 3.8 MB at once. Bob reads in this same process, so while the Relay forwards the burst
    // nothing is read: the burst piles up in the kernel, then in the Relay.
    const outcomes = await burst(alice, callId, 64);
    const sent = outcomes.filter((o) => o.code === 'ok').map((o) => o.i);
    for (const o of outcomes) expect(['ok', 'peer_backlogged']).toContain(o.code);
    expect(await received(bob, sent.length)).toEqual(sent);
    await expect(bob.call('relay.ping')).resolves.toHaveProperty('serverTime');
    // Once bob caught up, the refused ones go through.
    const retried = outcomes.filter((o) => o.code !== 'ok').slice(0, 3);
    for (const { i } of retried) {
      await alice.call('call.signal', { callId, signal: { i, pad: KB60 } });
      expect((await bob.next('call.signal')).signal).toMatchObject({ i });
    }
    expect(r.relay.stats()).toMatchObject({ sessions: 2, calls: 1 });
  });

  it('keeps a reader that falls behind but catches up within slowReaderTimeoutMs', async () => {
    const r = await start({ maxBufferedBytes: 64 * 1024 });
    const { alice, bob, callId } = await answered(r);
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    const socket = (bob.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    let refused = false;
    for (let round = 0; round < 100 && !refused; round++) {
      refused = (await burst(alice, callId, 8)).some((o) => o.code === 'peer_backlogged');
    }
    expect(refused).toBe(true);
    r.clock.advance(DEFAULT_LIMITS.slowReaderTimeoutMs - 1);
    socket.resume();
    // The reply comes after everything bob was sent: once it is here, he has drained it all.
    await bob.settle();
    r.clock.advance(DEFAULT_LIMITS.slowReaderTimeoutMs);
    await expect(bob.call('relay.ping')).resolves.toHaveProperty('serverTime');
    expect(r.relay.stats()).toMatchObject({ sessions: 2, calls: 1 });
  });
});

describe('what a session keeps', () => {
  it('bounds the resume buffer in bytes: an unacknowledging reader keeps resumeBufferBytes', async () => {
    const r = await start({
      resumeBufferBytes: 256 * 1024,
      messagesPerSecond: 1e6,
      messageBurst: 1e6,
    });
    const alice = await r.connect('alice');
    const pair = await r.token({ resource: 'bob' });
    const bob = await TestClient.open(r.wsUrl);
    const { sessionId } = await bob.call('relay.connect', {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    const { callId } = (await alice.call('call.invite', { to: 'bob' })) as { callId: string };
    await bob.next('call.incoming');
    await bob.call('call.answer', { callId });
    // 40 signals of 60 KB (2.4 MB, under 256 messages): bob reads them but acknowledges none.
    for (let i = 0; i < 40; i++) {
      await alice.call('call.signal', { callId, signal: { i, pad: KB60 } });
      await bob.next('call.signal');
    }
    bob.ws.terminate();
    // Only the newest ~256 KB were kept: a resume from before them cannot be honoured...
    const early = await TestClient.open(r.wsUrl);
    const resumedEarly = await early.call('relay.connect', {
      project: PROJECT.id,
      token: (await r.token({ resource: 'bob' })).jwt_token,
      sessionId,
      lastSeq: 1,
    });
    expect(resumedEarly.resumed).toBe(false);
    await early.close();
  });

  it('refuses call metadata over maxMetadataBytes', async () => {
    const r = await start();
    const alice = await r.connect('alice');
    const bob = await r.connect('bob');
    const big = { note: 'x'.repeat(DEFAULT_LIMITS.maxMetadataBytes) };
    await expect(alice.call('call.invite', { to: 'bob', metadata: big })).rejects.toMatchObject({
      rpcCode: -32602,
      code: 'invalid_params',
      message: expect.stringContaining('maxMetadataBytes') as unknown,
    });
    const fits = { note: 'é'.repeat((DEFAULT_LIMITS.maxMetadataBytes - 20) / 2) };
    await alice.call('call.invite', { to: 'bob', metadata: fits });
    expect((await bob.next('call.incoming')).metadata).toEqual(fits);
  });
});
