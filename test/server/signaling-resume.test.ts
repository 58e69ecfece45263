import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloseCodes } from 'relaycall/server';
import { PROJECT, TestClient, startRelay, type RpcFailure, type TestRelay } from './helpers.js';

let relay: TestRelay;
afterEach(() => relay.close());

/** bob's session, connected with its own token so a test can resume it. */
async function connectBob() {
  const pair = await relay.token({ resource: 'bob' });
  const client = await TestClient.open(relay.wsUrl);
  const { sessionId } = await client.call('relay.connect', {
    project: PROJECT.id,
    token: pair.jwt_token,
  });
  return { client, sessionId: sessionId as string, jwt: pair.jwt_token };
}

async function resume(sessionId: string, lastSeq: number, resource = 'bob') {
  const pair = await relay.token({ resource });
  const client = await TestClient.open(relay.wsUrl);
  const result = await client.call('relay.connect', {
    project: PROJECT.id,
    token: pair.jwt_token,
    sessionId,
    lastSeq,
  });
  client.lastSeq = lastSeq;
  return { client, result };
}

async function callBob(alice: TestClient, bob: TestClient) {
  const { callId } = (await alice.call('call.invite', { to: 'bob' })) as { callId: string };
  await bob.next('call.incoming');
  await bob.call('call.answer', { callId });
  await alice.next('call.answered');
  return callId;
}

describe('resuming a dropped session', () => {
  beforeEach(async () => {
    relay = await startRelay();
  });

  it('keeps the call routed and delivers the gap once, in order', async () => {
    const alice = await relay.connect('alice');
    const bob = await connectBob();
    const callId = await callBob(alice, bob.client);
    await alice.call('call.signal', { callId, signal: 'before' });
    expect((await bob.client.next('call.signal')).signal).toBe('before');
    const seenBeforeDrop = bob.client.lastSeq;

    bob.client.ws.terminate();
    expect(await alice.next('call.peer')).toMatchObject({ callId, connected: false });
    for (let i = 0; i < 5; i++) await alice.call('call.signal', { callId, signal: `gap-${i}` });

    const { client, result } = await resume(bob.sessionId, seenBeforeDrop);
    expect(result).toMatchObject({ sessionId: bob.sessionId, resumed: true, resource: 'bob' });
    const replayed = [];
    for (let i = 0; i < 5; i++) replayed.push((await client.next('call.signal')).signal);
    expect(replayed).toEqual(['gap-0', 'gap-1', 'gap-2', 'gap-3', 'gap-4']);
    expect(await alice.next('call.peer')).toMatchObject({ callId, connected: true });

    await client.call('call.signal', { callId, signal: 'after' });
    expect((await alice.next('call.signal')).signal).toBe('after');
    await client.settle();
    expect(client.notifications).toHaveLength(0);
    expect(relay.relay.stats()).toMatchObject({ sessions: 2, calls: 1 });
  });

  it('ends the calls of a session not resumed within the grace period', async () => {
    const alice = await relay.connect('alice');
    const bob = await connectBob();
    const callId = await callBob(alice, bob.client);
    bob.client.ws.terminate();
    await alice.next('call.peer');
    relay.clock.advance(29_999);
    await alice.settle();
    expect(relay.relay.stats().calls).toBe(1);
    relay.clock.advance(1);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
    const { result } = await resume(bob.sessionId, bob.client.lastSeq);
    expect(result.resumed).toBe(false);
    expect(result.sessionId).not.toBe(bob.sessionId);
  });

  it('resumes only for the same resource', async () => {
    const bob = await connectBob();
    bob.client.ws.terminate();
    await bob.client.closed;
    const { result } = await resume(bob.sessionId, 0, 'mallory');
    expect(result).toMatchObject({ resumed: false, resource: 'mallory' });
    expect(result.sessionId).not.toBe(bob.sessionId);
  });

  it('takes over from a half-open socket, closing it with 4006', async () => {
    const alice = await relay.connect('alice');
    const bob = await connectBob();
    const callId = await callBob(alice, bob.client);
    const { client, result } = await resume(bob.sessionId, bob.client.lastSeq);
    expect(result.resumed).toBe(true);
    expect((await bob.client.closed).code).toBe(CloseCodes.sessionTakenOver);
    await alice.call('call.signal', { callId, signal: 'to-new-socket' });
    expect((await client.next('call.signal')).signal).toBe('to-new-socket');
    // Alice never heard bob was away, so she hears no "back" either.
    await alice.settle();
    expect(alice.notifications.filter((m) => m.method === 'call.peer')).toHaveLength(0);
  });

  it('ends a session at once when the client closes normally', async () => {
    const alice = await relay.connect('alice');
    const bob = await connectBob();
    const callId = await callBob(alice, bob.client);
    await bob.client.close(1000);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
    expect(relay.relay.stats().sessions).toBe(1);
  });

  it('tells a ringing device that dropped, on resume, that it stopped ringing', async () => {
    const alice = await relay.connect('alice');
    const bob = await connectBob();
    const other = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.client.next('call.incoming');
    const seen = bob.client.lastSeq;
    bob.client.ws.terminate();
    await bob.client.closed;
    const { client } = await resume(bob.sessionId, seen);
    expect(await client.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
    await other.call('call.answer', { callId });
    expect(await alice.next('call.answered')).toMatchObject({ callId });
  });

  it('does not let a socket closed for an oversized frame resume', async () => {
    const bob = await connectBob();
    bob.client.send({ jsonrpc: '2.0', method: 'relay.ping', params: { pad: 'x'.repeat(70_000) } });
    expect((await bob.client.closed).code).toBe(CloseCodes.messageTooBig);
    await expect.poll(() => relay.relay.stats().sessions).toBe(0);
    const { result } = await resume(bob.sessionId, bob.client.lastSeq);
    expect(result.resumed).toBe(false);
  });

  it('lets a ringing caller resume and still learn of the answer', async () => {
    const alice = await connectBob();
    const carol = await relay.connect('carol');
    // Here "bob" places the call, to carol.
    const { callId } = await alice.client.call('call.invite', { to: 'carol' });
    await carol.next('call.incoming');
    const seen = alice.client.lastSeq;
    alice.client.ws.terminate();
    await alice.client.closed;
    await carol.call('call.answer', { callId });
    expect(await carol.next('call.peer')).toMatchObject({ callId, connected: false });
    const { client } = await resume(alice.sessionId, seen);
    expect(await client.next('call.answered')).toMatchObject({ callId });
    expect(await carol.next('call.peer')).toMatchObject({ callId, connected: true });
  });
});

describe('resume buffer', () => {
  it('refuses signals to a detached leg before they could overflow its buffer', async () => {
    // Signals used to fill a detached leg's buffer until it overflowed, which ended the
    // session: its peer could end it at will. Now the sender is pushed back instead.
    relay = await startRelay({ limits: { resumeBufferMessages: 8 } });
    const alice = await relay.connect('alice');
    const bob = await connectBob();
    const callId = await callBob(alice, bob.client);
    await alice.call('relay.ping');
    bob.client.ws.terminate();
    await alice.next('call.peer');
    const kept: number[] = [];
    for (let i = 0; i < 8; i++) {
      const sent = await alice.call('call.signal', { callId, signal: i }).then(
        () => true,
        (error: RpcFailure) => {
          expect(error).toMatchObject({ rpcCode: -32010, code: 'peer_backlogged' });
          return false;
        },
      );
      if (sent) kept.push(i);
    }
    // Three quarters of 8, less what bob already holds (incoming, answered…): the rest refused.
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(8);
    const { client, result } = await resume(bob.sessionId, bob.client.lastSeq);
    expect(result.resumed).toBe(true);
    for (const i of kept) expect((await client.next('call.signal')).signal).toBe(i);
    await client.call('relay.ping', { ack: client.lastSeq });
    await expect(alice.call('call.signal', { callId, signal: 'after' })).resolves.toEqual({});
  });

  it('drops acknowledged messages, so a client that acks can be far behind the total', async () => {
    relay = await startRelay({ limits: { resumeBufferMessages: 8 } });
    const alice = await relay.connect('alice');
    const bob = await connectBob();
    const callId = await callBob(alice, bob.client);
    for (let i = 0; i < 20; i++) {
      await alice.call('call.signal', { callId, signal: i });
      await bob.client.next('call.signal');
      await bob.client.call('relay.ping', { ack: bob.client.lastSeq });
    }
    bob.client.ws.terminate();
    await alice.next('call.peer');
    await alice.call('call.signal', { callId, signal: 'gap' });
    const { client, result } = await resume(bob.sessionId, bob.client.lastSeq);
    expect(result.resumed).toBe(true);
    expect((await client.next('call.signal')).signal).toBe('gap');
  });

  it('starts fresh when the client is behind what the buffer still holds', async () => {
    relay = await startRelay({ limits: { resumeBufferMessages: 4 } });
    const alice = await relay.connect('alice');
    const bob = await connectBob();
    const callId = await callBob(alice, bob.client);
    for (let i = 0; i < 10; i++) await alice.call('call.signal', { callId, signal: i });
    await bob.client.settle();
    bob.client.ws.terminate();
    await alice.next('call.peer');
    // Claims to have seen only the first message; the buffer no longer has the rest.
    const { result } = await resume(bob.sessionId, 1);
    expect(result.resumed).toBe(false);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
  });
});
