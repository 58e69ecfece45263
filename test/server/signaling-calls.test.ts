import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OTHER_PROJECT, startRelay, type TestClient, type TestRelay } from './helpers.js';

let relay: TestRelay;
beforeEach(async () => {
  relay = await startRelay();
});
afterEach(() => relay.close());

/** alice calls bob; bob answers. */
async function activeCall(alice: TestClient, bob: TestClient) {
  const { callId } = (await alice.call('call.invite', {
    to: 'bob',
    metadata: { name: 'Alice' },
  })) as {
    callId: string;
  };
  await bob.next('call.incoming', (p) => p.callId === callId);
  await bob.call('call.answer', { callId });
  await alice.next('call.answered', (p) => p.callId === callId);
  return callId;
}

describe('a call between two sessions', () => {
  it("sends one turn's messages to a socket in one frame, and ends a frame at each reply", async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const aliceFrames: string[] = [];
    alice.ws.on('message', (data) => aliceFrames.push(data.toString()));
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await alice.next('call.ringing');
    // The reply is alone in its frame; call.ringing, sent after it, comes in the next one.
    expect(JSON.parse(aliceFrames[0] ?? '')).toMatchObject({
      id: expect.anything(),
      result: { callId },
    });
    expect(JSON.parse(aliceFrames[1] ?? '')).toMatchObject({ method: 'call.ringing' });
    await bob.next('call.incoming');
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');

    const bobFrames: string[] = [];
    bob.ws.on('message', (data) => bobFrames.push(data.toString()));
    // Ten signals in one TCP write: the Relay reads them in one turn.
    const socket = (alice.ws as unknown as { _socket: Socket })._socket;
    socket.cork();
    for (let i = 0; i < 10; i++)
      alice.send({ jsonrpc: '2.0', method: 'call.signal', params: { callId, signal: { i } } });
    socket.uncork();
    const received = [];
    for (let i = 0; i < 10; i++) received.push((await bob.next('call.signal')).signal);
    expect(received).toEqual(Array.from({ length: 10 }, (_, i) => ({ i })));
    expect(bobFrames).toHaveLength(1);
    const batch = JSON.parse(bobFrames[0] ?? '') as { params: { seq: number } }[];
    expect(batch).toHaveLength(10);
    // In seq order, each a complete notification.
    const seqs = batch.map((m) => m.params.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('rings, answers, forwards signals both ways in order, and hangs up', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob', metadata: { name: 'Alice' } });
    expect(await bob.next('call.incoming')).toMatchObject({
      callId,
      from: 'alice',
      metadata: { name: 'Alice' },
    });
    expect(await alice.next('call.ringing')).toMatchObject({ callId });

    await bob.call('call.answer', { callId });
    expect(await alice.next('call.answered')).toMatchObject({ callId });

    for (let i = 0; i < 20; i++)
      alice.send({ jsonrpc: '2.0', method: 'call.signal', params: { callId, signal: { i } } });
    for (let i = 0; i < 20; i++)
      await bob.call('call.signal', { callId, signal: { candidate: i } });
    await alice.settle();
    const toBob = [];
    for (let i = 0; i < 20; i++) toBob.push((await bob.next('call.signal')).signal);
    expect(toBob).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    const toAlice = [];
    for (let i = 0; i < 20; i++) toAlice.push((await alice.next('call.signal')).signal);
    expect(toAlice).toEqual(Array.from({ length: 20 }, (_, i) => ({ candidate: i })));
    // Exactly once: nothing further queued.
    await bob.settle();
    expect(bob.notifications.filter((m) => m.method === 'call.signal')).toHaveLength(0);

    await alice.call('call.hangup', { callId });
    expect(await bob.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    expect(relay.relay.stats().calls).toBe(0);
    await expect(bob.call('call.signal', { callId, signal: {} })).rejects.toMatchObject({
      code: 'call_not_found',
    });
  });

  it('holds the caller signals sent before the answer and delivers them, in order, to the answerer', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await alice.call('call.signal', { callId, signal: { type: 'offer', sdp: 'v=0' } });
    await alice.call('call.signal', { callId, signal: { candidate: 'c1' } });
    await bob.next('call.incoming');
    await expect(bob.call('call.signal', { callId, signal: {} })).rejects.toMatchObject({
      code: 'invalid_state',
    });
    await bob.call('call.answer', { callId });
    expect((await bob.next('call.signal')).signal).toEqual({ type: 'offer', sdp: 'v=0' });
    expect((await bob.next('call.signal')).signal).toEqual({ candidate: 'c1' });
  });

  it('fails at once with unavailable when the resource has no session, and queues nothing', async () => {
    const alice = await relay.connect('alice');
    await expect(alice.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'unavailable',
      rpcCode: -32005,
    });
    const bob = await relay.connect('bob');
    await bob.settle();
    expect(bob.notifications).toHaveLength(0);
    expect(relay.relay.stats().calls).toBe(0);
  });

  it('never rings a resource of another project', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob', { project: OTHER_PROJECT });
    await expect(alice.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'unavailable',
    });
    await bob.settle();
    expect(bob.notifications).toHaveLength(0);
  });

  it('lets the caller cancel while ringing', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.next('call.incoming');
    await alice.call('call.hangup', { callId });
    expect(await bob.next('call.ended')).toMatchObject({ callId, reason: 'cancelled' });
    await expect(bob.call('call.answer', { callId })).rejects.toMatchObject({
      code: 'call_not_found',
    });
  });

  it('tells the caller when the callee declines', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.call('call.reject', { callId });
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'declined' });
  });

  it('ends with no-answer after the ring timeout', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    relay.clock.advance(59_999);
    await alice.settle();
    expect(alice.notifications.some((m) => m.method === 'call.ended')).toBe(false);
    relay.clock.advance(1);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'no-answer' });
    expect(await bob.next('call.ended')).toMatchObject({ callId, reason: 'no-answer' });
  });

  it('tells the other leg when a session leaves for good', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const callId = await activeCall(alice, bob);
    await bob.close(1000);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
    expect(relay.relay.stats()).toMatchObject({ calls: 0, sessions: 1 });
  });

  it('closes with 1001 on shutdown without telling anyone a call ended', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    await activeCall(alice, bob);
    await relay.relay.close();
    expect((await alice.closed).code).toBe(1001);
    expect((await bob.closed).code).toBe(1001);
    // Media may still flow peer to peer: the Relay going away is not a hangup.
    expect([...alice.notifications, ...bob.notifications].map((m) => m.method)).not.toContain(
      'call.ended',
    );
  });

  it('refuses call operations from a session that is not part of the call', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const mallory = await relay.connect('mallory');
    const callId = await activeCall(alice, bob);
    for (const method of ['call.answer', 'call.hangup', 'call.reject']) {
      await expect(mallory.call(method, { callId })).rejects.toMatchObject({
        code: 'call_not_found',
      });
    }
    await expect(mallory.call('call.signal', { callId, signal: { x: 1 } })).rejects.toMatchObject({
      code: 'call_not_found',
    });
    await alice.call('call.signal', { callId, signal: 'still-private' });
    expect((await bob.next('call.signal')).signal).toBe('still-private');
  });
});

describe('several sessions of one resource', () => {
  it('rings them all; the first answer wins and the others hear answered-elsewhere', async () => {
    const alice = await relay.connect('alice');
    const tab1 = await relay.connect('bob');
    const tab2 = await relay.connect('bob');
    const tab3 = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    for (const tab of [tab1, tab2, tab3])
      expect(await tab.next('call.incoming')).toMatchObject({ callId });
    await tab2.call('call.answer', { callId });
    await expect(tab1.call('call.answer', { callId })).rejects.toMatchObject({
      code: 'answered_elsewhere',
    });
    expect(await tab1.next('call.ended')).toMatchObject({ callId, reason: 'answered-elsewhere' });
    expect(await tab3.next('call.ended')).toMatchObject({ callId, reason: 'answered-elsewhere' });
    await alice.call('call.signal', { callId, signal: 'only-tab2' });
    expect((await tab2.next('call.signal')).signal).toBe('only-tab2');
    await tab1.settle();
    expect(tab1.notifications.filter((m) => m.method === 'call.signal')).toHaveLength(0);
  });

  it('ends busy only when every ringing session answered busy', async () => {
    const alice = await relay.connect('alice');
    const tab1 = await relay.connect('bob');
    const tab2 = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await tab1.call('call.reject', { callId, reason: 'busy' });
    await alice.settle();
    expect(alice.notifications.some((m) => m.method === 'call.ended')).toBe(false);
    await tab2.call('call.reject', { callId, reason: 'busy' });
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'busy' });
  });

  it('stops ringing every session when one declines', async () => {
    const alice = await relay.connect('alice');
    const tab1 = await relay.connect('bob');
    const tab2 = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await tab1.call('call.reject', { callId, reason: 'declined' });
    expect(await alice.next('call.ended')).toMatchObject({ reason: 'declined' });
    expect(await tab2.next('call.ended')).toMatchObject({ callId, reason: 'declined' });
  });

  it('keeps ringing the other sessions when one ringing tab closes', async () => {
    const alice = await relay.connect('alice');
    const tab1 = await relay.connect('bob');
    const tab2 = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await tab1.next('call.incoming');
    await tab1.close(1001);
    await tab2.call('call.answer', { callId });
    expect(await alice.next('call.answered')).toMatchObject({ callId });
    await tab2.close(1001);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
  });

  it('tells the caller when the only ringing session leaves', async () => {
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.close(1000);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
  });

  it('does not ring the calling session itself but rings the resource other sessions', async () => {
    const tab1 = await relay.connect('alice');
    const tab2 = await relay.connect('alice');
    const { callId } = await tab1.call('call.invite', { to: 'alice' });
    expect(await tab2.next('call.incoming')).toMatchObject({ callId, from: 'alice' });
    await tab1.settle();
    expect(tab1.notifications.some((m) => m.method === 'call.incoming')).toBe(false);
  });
});

describe('scopes', () => {
  it('refuses to invite without the dial scope', async () => {
    const alice = await relay.connect('alice', { scopes: ['calls:receive'] });
    await relay.connect('bob');
    await expect(alice.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'forbidden',
      rpcCode: -32003,
    });
  });

  it('never rings a session without the receive scope', async () => {
    const alice = await relay.connect('alice');
    const deaf = await relay.connect('bob', { scopes: ['calls:dial'] });
    await expect(alice.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'unavailable',
    });
    const hearing = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    expect(await hearing.next('call.incoming')).toMatchObject({ callId });
    await deaf.settle();
    expect(deaf.notifications).toHaveLength(0);
  });
});
