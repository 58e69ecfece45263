/**
 * The 1:1 call, the same tests on every topology: one Relay node, and several nodes on one
 * real redis-server with the caller and the callee's devices on different nodes (the caller
 * is leg 0, the callee's devices legs 1, 2, 3: see topologies.ts). Each session takes one
 * call at a time (maxCallsPerSession: 1), so a call a node forgot to clear from a session
 * shows: that session could not be rung again (see ringsAgain).
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until, type TestClient } from './helpers.js';
import {
  startTopologies,
  stopTopologies,
  topologies,
  type Deployment,
  type DeploymentOptions,
} from './topologies.js';

const LIMITS = { maxCallsPerSession: 1 };

let deployment: Deployment | undefined;
afterEach(async () => {
  await deployment?.close();
  deployment = undefined;
});
beforeAll(() => startTopologies(), 30_000);
afterAll(() => stopTopologies());

/** alice invites bob: resolves the call id once every device rang and alice got call.ringing. */
async function invite(alice: TestClient, devices: TestClient[], metadata?: unknown) {
  const { callId } = (await alice.call('call.invite', {
    to: 'bob',
    ...(metadata === undefined ? {} : { metadata }),
  })) as { callId: string };
  for (const device of devices) {
    expect(await device.next('call.incoming', (p) => p.callId === callId)).toMatchObject({
      callId,
      from: 'alice',
      ...(metadata === undefined ? {} : { metadata }),
    });
  }
  expect(await alice.next('call.ringing')).toMatchObject({ callId });
  return callId;
}

/**
 * The call left nothing behind: alice can call again and every device rings (with one call
 * per session, a leg still holding the old call would not), then she cancels.
 */
async function ringsAgain(alice: TestClient, devices: TestClient[]) {
  const callId = await invite(alice, devices);
  await alice.call('call.hangup', { callId });
  for (const device of devices) {
    expect(await device.next('call.ended', (p) => p.callId === callId)).toMatchObject({
      reason: 'cancelled',
    });
  }
}

/**
 * Checks that `client` got no `method` notification (about `callId`, or about any call), once
 * its node answered a ping. What its own node sent it before is in by then, and so is what the
 * node of a request the test just awaited had sent its node (one channel keeps its order).
 */
async function nothingYet(client: TestClient, method: string, callId?: string) {
  await client.settle();
  expect(
    client.notifications.filter(
      (m) => m.method === method && (callId === undefined || m.params?.callId === callId),
    ),
  ).toEqual([]);
}

describe.each(topologies)('1:1 calls on $name', (topology) => {
  async function start(options: DeploymentOptions = {}) {
    deployment = await topology.start({ ...options, limits: { ...LIMITS, ...options.limits } });
    return deployment;
  }

  it('rings, answers, forwards signals both ways in order, and hangs up', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob], { name: 'Alice' });
    // Held until the answer, then delivered to the answering device first.
    await alice.call('call.signal', { callId, signal: { type: 'offer', sdp: 'v=0' } });
    await expect(bob.call('call.signal', { callId, signal: {} })).rejects.toMatchObject({
      code: 'invalid_state',
    });
    await bob.call('call.answer', { callId });
    expect(await alice.next('call.answered')).toMatchObject({ callId });
    expect(await bob.next('call.signal')).toMatchObject({ callId, signal: { type: 'offer' } });

    for (let i = 0; i < 20; i++)
      alice.send({ jsonrpc: '2.0', method: 'call.signal', params: { callId, signal: { i } } });
    for (let i = 0; i < 20; i++) await bob.call('call.signal', { callId, signal: { j: i } });
    await alice.settle();
    const toBob = [];
    for (let i = 0; i < 20; i++) toBob.push((await bob.next('call.signal')).signal);
    expect(toBob).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
    const toAlice = [];
    for (let i = 0; i < 20; i++) toAlice.push((await alice.next('call.signal')).signal);
    expect(toAlice).toEqual(Array.from({ length: 20 }, (_, i) => ({ j: i })));
    // Exactly once: nothing further queued.
    await bob.settle();
    expect(bob.notifications.filter((m) => m.method === 'call.signal')).toEqual([]);

    // The callee hangs up: the caller is told, neither leg keeps the call.
    await bob.call('call.hangup', { callId });
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    await expect(alice.call('call.signal', { callId, signal: {} })).rejects.toMatchObject({
      code: 'call_not_found',
    });
    await expect(bob.call('call.signal', { callId, signal: {} })).rejects.toMatchObject({
      code: 'call_not_found',
    });
    expect(d.nodes.map((node) => node.relay.stats().calls)).toEqual(d.nodes.map(() => 0));
    await ringsAgain(alice, [bob]);

    // And the caller hanging up an active call.
    const second = await invite(alice, [bob]);
    await bob.call('call.answer', { callId: second });
    await alice.next('call.answered');
    await alice.call('call.hangup', { callId: second });
    expect(await bob.next('call.ended')).toMatchObject({ callId: second, reason: 'hangup' });
    await ringsAgain(alice, [bob]);
  });

  it('lets the caller cancel while every device rings', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const devices = [await d.connect('bob', 1), await d.connect('bob', 2)];
    const callId = await invite(alice, devices);
    await alice.call('call.hangup', { callId });
    for (const device of devices) {
      expect(await device.next('call.ended')).toMatchObject({ callId, reason: 'cancelled' });
      await expect(device.call('call.answer', { callId })).rejects.toMatchObject({
        code: 'call_not_found',
      });
    }
    await ringsAgain(alice, devices);
  });

  it('a decline stops every ringing device: the caller and the other devices get declined', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const devices = [
      await d.connect('bob', 1),
      await d.connect('bob', 2),
      await d.connect('bob', 3),
    ];
    const [decliner, ...others] = devices as [TestClient, ...TestClient[]];
    const callId = await invite(alice, devices);
    await decliner.call('call.reject', { callId, reason: 'declined' });
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'declined' });
    for (const other of others) {
      expect(await other.next('call.ended')).toMatchObject({ callId, reason: 'declined' });
    }
    // The decliner is not told its own decline, and no longer has the call.
    await nothingYet(decliner, 'call.ended', callId);
    await expect(decliner.call('call.answer', { callId })).rejects.toMatchObject({
      code: 'call_not_found',
    });
    await ringsAgain(alice, devices);

    // A ringing device hanging up declines just the same.
    const again = await invite(alice, devices);
    await (others[0] as TestClient).call('call.hangup', { callId: again });
    expect(await alice.next('call.ended')).toMatchObject({ callId: again, reason: 'declined' });
    for (const device of [decliner, others[1] as TestClient]) {
      expect(await device.next('call.ended')).toMatchObject({ callId: again, reason: 'declined' });
    }
    await ringsAgain(alice, devices);
  });

  it('busy: a device rejecting busy stops ringing only there; the last one ends the call busy', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const first = await d.connect('bob', 1);
    const second = await d.connect('bob', 2);
    const callId = await invite(alice, [first, second]);
    await first.call('call.reject', { callId, reason: 'busy' });
    // Nobody is told; the call rings on.
    await nothingYet(alice, 'call.ended', callId);
    await nothingYet(second, 'call.ended', callId);
    await expect(first.call('call.answer', { callId })).rejects.toMatchObject({
      code: 'call_not_found',
    });
    await second.call('call.reject', { callId, reason: 'busy' });
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'busy' });
    await nothingYet(first, 'call.ended', callId);
    await nothingYet(second, 'call.ended', callId);
    await ringsAgain(alice, [first, second]);

    // One device busy, the other answering: the call goes on with the one that answered.
    const next = await invite(alice, [first, second]);
    await first.call('call.reject', { callId: next, reason: 'busy' });
    await second.call('call.answer', { callId: next });
    expect(await alice.next('call.answered')).toMatchObject({ callId: next });
    await alice.call('call.signal', { callId: next, signal: 'to-second' });
    expect(await second.next('call.signal')).toMatchObject({ signal: 'to-second' });
  });

  it('an invite rings only the devices with room for a call, and is busy when none has', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const carol = await d.connect('carol', 0);
    const dave = await d.connect('dave', 0);
    const first = await d.connect('bob', 1);
    const second = await d.connect('bob', 2);
    // carol's call takes the first device (maxCallsPerSession: 1).
    const carols = (await carol.call('call.invite', { to: 'bob' })).callId as string;
    await first.next('call.incoming', (p) => p.callId === carols);
    await second.next('call.incoming', (p) => p.callId === carols);
    await first.call('call.answer', { callId: carols });
    expect(await second.next('call.ended')).toMatchObject({
      callId: carols,
      reason: 'answered-elsewhere',
    });
    // alice rings the second device only.
    const callId = await invite(alice, [second]);
    await nothingYet(first, 'call.incoming', callId);
    await second.call('call.reject', { callId, reason: 'busy' });
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'busy' });
    // dave's call takes the second device: now every device is full.
    const daves = (await dave.call('call.invite', { to: 'bob' })).callId as string;
    await second.next('call.incoming', (p) => p.callId === daves);
    await second.call('call.answer', { callId: daves });
    await expect(alice.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'busy',
      rpcCode: -32006,
    });
    // Nobody rang, and alice has no call left behind.
    await nothingYet(first, 'call.incoming');
    await first.call('call.hangup', { callId: carols });
    await carol.next('call.ended');
    const after = await invite(alice, [first]);
    await alice.call('call.hangup', { callId: after });
  });

  it('ends with no-answer after the ring timeout, for the caller and every ringing device', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const devices = [await d.connect('bob', 1), await d.connect('bob', 2)];
    const callId = await invite(alice, devices);
    d.clock.advance(59_999);
    await nothingYet(alice, 'call.ended', callId);
    d.clock.advance(1);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'no-answer' });
    for (const device of devices) {
      expect(await device.next('call.ended')).toMatchObject({ callId, reason: 'no-answer' });
    }
    await ringsAgain(alice, devices);
  });

  it('the first answer wins: the other devices get answered-elsewhere, signals reach only it', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const devices = [
      await d.connect('bob', 1),
      await d.connect('bob', 2),
      await d.connect('bob', 3),
    ];
    const [late, answerer, other] = devices as [TestClient, TestClient, TestClient];
    const callId = await invite(alice, devices);
    await alice.call('call.signal', { callId, signal: 'early' });
    await answerer.call('call.answer', { callId });
    expect(await alice.next('call.answered')).toMatchObject({ callId });
    expect(await answerer.next('call.signal')).toMatchObject({ signal: 'early' });
    for (const device of [late, other]) {
      expect(await device.next('call.ended')).toMatchObject({
        callId,
        reason: 'answered-elsewhere',
      });
    }
    await expect(late.call('call.answer', { callId })).rejects.toMatchObject({
      code: 'answered_elsewhere',
    });
    await expect(late.call('call.signal', { callId, signal: 'x' })).rejects.toMatchObject({
      code: 'call_not_found',
    });
    await alice.call('call.signal', { callId, signal: 'only-the-answerer' });
    expect(await answerer.next('call.signal')).toMatchObject({ signal: 'only-the-answerer' });
    for (const device of [late, other]) {
      await device.settle();
      expect(device.notifications.filter((m) => m.method === 'call.signal')).toEqual([]);
    }
    await answerer.call('call.hangup', { callId });
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    await ringsAgain(alice, devices);
  });

  it('a ringing device that closes stops ringing there only; the last one ends the call', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const first = await d.connect('bob', 1);
    const second = await d.connect('bob', 2);
    const callId = await invite(alice, [first, second]);
    await first.close(1001); // the tab closes
    await second.call('call.answer', { callId });
    expect(await alice.next('call.answered')).toMatchObject({ callId });
    await second.call('call.hangup', { callId });
    await alice.next('call.ended');

    // The only ringing device closes: the caller learns at once.
    const again = await invite(alice, [second]);
    await second.close(1000);
    expect(await alice.next('call.ended')).toMatchObject({ callId: again, reason: 'disconnected' });
    expect(d.nodes.map((node) => node.relay.stats().calls)).toEqual(d.nodes.map(() => 0));
  });

  it('a ringing device whose socket drops stops ringing there, and learns so when it resumes', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const dropped = await d.connect('bob', 1);
    const other = await d.connect('bob', 2);
    const callId = await invite(alice, [dropped, other]);
    dropped.ws.terminate();
    await dropped.closed;
    // It comes back through another node (the same one on a single node).
    const { client: back, result } = await d.resume(dropped, 3);
    expect(result).toMatchObject({ resumed: true });
    expect(await back.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
    await expect(back.call('call.answer', { callId })).rejects.toMatchObject({
      code: 'call_not_found',
    });
    await other.call('call.answer', { callId });
    expect(await alice.next('call.answered')).toMatchObject({ callId });
    await alice.call('call.hangup', { callId });
    await other.next('call.ended');
    await ringsAgain(alice, [back, other]);

    // The only ringing device drops: the caller gets disconnected.
    const again = await invite(alice, [back, other]);
    await other.call('call.reject', { callId: again, reason: 'busy' });
    back.ws.terminate();
    expect(await alice.next('call.ended')).toMatchObject({ callId: again, reason: 'disconnected' });
  });

  it('holds at most maxEarlySignals early signals: limit_exceeded to the caller', async () => {
    const d = await start({ limits: { maxEarlySignals: 3 } });
    const alice = await d.connect('alice', 0);
    const devices = [await d.connect('bob', 1), await d.connect('bob', 2)];
    const callId = await invite(alice, devices);
    for (let i = 0; i < 3; i++) await alice.call('call.signal', { callId, signal: { i } });
    await expect(alice.call('call.signal', { callId, signal: { i: 3 } })).rejects.toMatchObject({
      code: 'limit_exceeded',
      rpcCode: -32008,
    });
    // The call goes on; the answering device gets the held signals, in order.
    const answerer = devices[1] as TestClient;
    await answerer.call('call.answer', { callId });
    for (let i = 0; i < 3; i++) {
      expect(await answerer.next('call.signal')).toMatchObject({ signal: { i } });
    }
    // After the answer the limit no longer applies.
    await alice.next('call.answered');
    for (let i = 0; i < 5; i++) await alice.call('call.signal', { callId, signal: { after: i } });
    for (let i = 0; i < 5; i++) {
      expect(await answerer.next('call.signal')).toMatchObject({ signal: { after: i } });
    }
  });

  it('holds at most maxEarlySignalBytes of early signals, also from a caller resumed on another node', async () => {
    const d = await start({ limits: { maxEarlySignalBytes: 100 } });
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    await alice.call('call.signal', { callId, signal: 'a'.repeat(60) }); // 62 characters of JSON
    // The caller's socket drops; it comes back through another node, its call held where it was.
    alice.ws.terminate();
    await alice.closed;
    const { client: caller, result } = await d.resume(alice, 2);
    expect(result).toMatchObject({ resumed: true });
    await expect(
      caller.call('call.signal', { callId, signal: 'b'.repeat(40) }),
    ).rejects.toMatchObject({ code: 'limit_exceeded' });
    await caller.call('call.signal', { callId, signal: 'c'.repeat(30) });
    await bob.call('call.answer', { callId });
    expect(await caller.next('call.answered')).toMatchObject({ callId });
    expect(await bob.next('call.signal')).toMatchObject({ signal: 'a'.repeat(60) });
    expect(await bob.next('call.signal')).toMatchObject({ signal: 'c'.repeat(30) });
    await caller.call('call.hangup', { callId });
    expect(await bob.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    await ringsAgain(caller, [bob]);
  });

  it('tells the other leg when a leg drops and when it comes back, both ways', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');

    // The callee drops, the caller signals meanwhile, the callee resumes on another node.
    bob.ws.terminate();
    expect(await alice.next('call.peer')).toMatchObject({ callId, connected: false });
    await alice.call('call.signal', { callId, signal: 'while-away' });
    const { client: bobBack, result } = await d.resume(bob, 2);
    expect(result).toMatchObject({ resumed: true });
    expect(await bobBack.next('call.signal')).toMatchObject({ callId, signal: 'while-away' });
    expect(await alice.next('call.peer')).toMatchObject({ callId, connected: true });

    // The caller drops and resumes on another node; the callee hears both.
    alice.ws.terminate();
    expect(await bobBack.next('call.peer')).toMatchObject({ callId, connected: false });
    await bobBack.call('call.signal', { callId, signal: 'while-caller-away' });
    const { client: aliceBack } = await d.resume(alice, 1);
    expect(await aliceBack.next('call.signal')).toMatchObject({ signal: 'while-caller-away' });
    expect(await bobBack.next('call.peer')).toMatchObject({ callId, connected: true });
    await aliceBack.call('call.signal', { callId, signal: 'both-back' });
    expect(await bobBack.next('call.signal')).toMatchObject({ signal: 'both-back' });

    // Away for longer than the grace period: the call ends for the other leg.
    bobBack.ws.terminate();
    expect(await aliceBack.next('call.peer')).toMatchObject({ callId, connected: false });
    d.clock.advance(30_000);
    expect(await aliceBack.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
  });

  it('refuses signals to a detached leg once its resume buffer is three quarters full', async () => {
    // The resume buffer keeps 256 notifications: 192 at most are signals. No rate limit here.
    const d = await start({ limits: { messageBurst: 1_000 } });
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    bob.ws.terminate();
    expect(await alice.next('call.peer')).toMatchObject({ callId, connected: false });
    let accepted = 0;
    for (; accepted < 300; accepted++) {
      const sent = await alice.call('call.signal', { callId, signal: { i: accepted } }).then(
        () => true,
        (error: { code?: string }) => {
          expect(error).toMatchObject({ code: 'peer_backlogged' });
          return false;
        },
      );
      if (!sent) break;
    }
    // Three quarters of 256, less the call.incoming bob never acknowledged: on every node.
    expect(accepted).toBe(191);
    // Nothing overflowed: the leg resumes, with every signal accepted, in order.
    const { client: back, result } = await d.resume(bob, 2);
    expect(result).toMatchObject({ resumed: true });
    for (let i = 0; i < accepted; i++) {
      expect(await back.next('call.signal')).toMatchObject({ signal: { i } });
    }
    await back.call('relay.ping', { ack: back.lastSeq });
    await alice.call('call.signal', { callId, signal: 'caught-up' });
    expect(await back.next('call.signal')).toMatchObject({ signal: 'caught-up' });
  }, 15_000);

  it('refuses signals to a leg that does not read, and forwards them again once it caught up', async () => {
    // maxBufferedBytes (1 MiB) unread and the sender is refused; 4 MiB and the reader is closed.
    // A leg on another node is heard of one round trip late, well within that margin.
    const d = await start({ limits: { messageBurst: 10_000 } });
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    const socket = (bob.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // Until the kernel's buffers and then the Relay's fill up: the sender is refused.
    const pad = 'x'.repeat(32 * 1024);
    let accepted = 0;
    for (let refused = false; !refused && accepted < 5_000;) {
      refused = await alice.call('call.signal', { callId, signal: { i: accepted, pad } }).then(
        () => (accepted++, false),
        (error: { code?: string }) => {
          expect(error).toMatchObject({ code: 'peer_backlogged' });
          return true;
        },
      );
    }
    expect(accepted).toBeLessThan(5_000);
    socket.resume();
    // The reply comes after everything bob was sent: once it is here, he has drained it all.
    await bob.settle();
    for (let i = 0; i < accepted; i++) {
      expect(await bob.next('call.signal')).toMatchObject({ signal: { i } });
    }
    // The sender may send again (its node learns it at once on one node, shortly on several).
    await until('the signal to be accepted again', () =>
      alice.call('call.signal', { callId, signal: 'again' }).then(() => true),
    );
    expect(await bob.next('call.signal')).toMatchObject({ signal: 'again' });
    expect(d.nodes.map((node) => node.relay.stats().calls).reduce((a, b) => a + b)).toBe(1);
  }, 15_000);

  it('tells a callee who answers while the caller is away, and the caller coming back', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    alice.ws.terminate();
    await alice.closed;
    await bob.call('call.answer', { callId });
    expect(await bob.next('call.peer')).toMatchObject({ callId, connected: false });
    const { client: aliceBack } = await d.resume(alice, 2);
    expect(await aliceBack.next('call.answered')).toMatchObject({ callId });
    expect(await bob.next('call.peer')).toMatchObject({ callId, connected: true });
  });

  it('tells the callee the caller is away also after the caller moved to another node', async () => {
    const d = await start();
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    // The caller comes back through the callee's node, then drops again there, still ringing.
    alice.ws.terminate();
    await alice.closed;
    const { client: moved } = await d.resume(alice, 1);
    await moved.settle();
    const sockets = d.node(1).relay.stats().sockets;
    moved.ws.terminate();
    // Its node saw the drop (and told the call's node) before the answer below leaves it.
    await until('the drop to reach the node', async () => {
      return d.node(1).relay.stats().sockets === sockets - 1;
    });
    await bob.call('call.answer', { callId });
    expect(await bob.next('call.peer')).toMatchObject({ callId, connected: false });
    const { client: back, result } = await d.resume(moved, 2);
    expect(result).toMatchObject({ resumed: true });
    expect(await back.next('call.answered')).toMatchObject({ callId });
    expect(await bob.next('call.peer')).toMatchObject({ callId, connected: true });
    await back.call('call.signal', { callId, signal: 'back' });
    expect(await bob.next('call.signal')).toMatchObject({ signal: 'back' });
    await bob.call('call.hangup', { callId });
    expect(await back.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    await ringsAgain(back, [bob]);
  });
});

describe('the cluster on the Relay clock', () => {
  const PRESENCE_TTL_MS = 1_000;
  const cluster = topologies.find((t) => t.nodes === 3) as (typeof topologies)[number];

  /** Resolves once the stopped node `index` is no longer alive in Redis (its key expired). */
  async function stoppedAndGone(d: Deployment, index: number) {
    const { url, prefix } = d.redis as { url: string; prefix: string };
    const before = await aliveNodes(url, prefix);
    await d.stopNode(index);
    await until('the stopped node to be dead in Redis', async () => {
      return (await aliveNodes(url, prefix)).length === before.length - 1;
    });
  }

  it('sweeps for dead owners on the injected clock: their calls end for the legs elsewhere', async () => {
    deployment = await cluster.start({ limits: LIMITS, presenceTtlMs: PRESENCE_TTL_MS });
    const d = deployment;
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    await stoppedAndGone(d, 0);
    // The next sweep is due a third of the presence TTL later, on the Relay's clock.
    d.clock.advance(PRESENCE_TTL_MS / 3);
    expect(await bob.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
    await expect(bob.call('call.signal', { callId, signal: {} })).rejects.toMatchObject({
      code: 'call_not_found',
    });
  }, 15_000);

  it('a callee whose node died: the caller hears it is away, and it resumes on the caller node', async () => {
    deployment = await cluster.start({ limits: LIMITS, presenceTtlMs: PRESENCE_TTL_MS });
    const d = deployment;
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    await bob.settle();
    await stoppedAndGone(d, 1);
    d.clock.advance(PRESENCE_TTL_MS / 3);
    expect(await alice.next('call.peer')).toMatchObject({ callId, connected: false });
    // Within the resume grace after its node was last seen, on the Relay's clock.
    const { client: back, result } = await d.resume(bob, 0);
    expect(result).toMatchObject({ resumed: true });
    expect(await alice.next('call.peer')).toMatchObject({ callId, connected: true });
    await alice.call('call.signal', { callId, signal: 'still-here' });
    expect(await back.next('call.signal')).toMatchObject({ signal: 'still-here' });
  }, 15_000);

  it('passes what reaches a node for a session it handed over on to the node holding it now', async () => {
    deployment = await cluster.start({ limits: LIMITS });
    const d = deployment;
    const { url, prefix } = d.redis as { url: string; prefix: string };
    const alice = await d.connect('alice', 0);
    const bob = await d.connect('bob', 1);
    const callId = await invite(alice, [bob]);
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    const bobId = d.sessionOf(bob);
    const [nodeA, nodeB] = await withRedis(url, (redis) =>
      Promise.all(
        [d.sessionOf(alice), bobId].map((id) =>
          redis.hget(`${prefix}session-record:${id}`, 'node'),
        ),
      ),
    );
    bob.ws.terminate();
    const { client: back, result } = await d.resume(bob, 2);
    expect(result).toMatchObject({ resumed: true });
    // A notification the call's node sent to B before it heard of the move, arriving only now.
    const late = { type: 'notify', sessionId: bobId, method: 'call.signal' };
    await withRedis(url, (redis) =>
      redis.publish(
        `${prefix}node:${nodeB}`,
        JSON.stringify([{ from: nodeA, message: { ...late, params: { callId, signal: 'late' } } }]),
      ),
    );
    expect(await back.next('call.signal')).toMatchObject({ callId, signal: 'late' });
    // The call's node itself now reaches the session where it is.
    await alice.call('call.signal', { callId, signal: 'direct' });
    expect(await back.next('call.signal')).toMatchObject({ callId, signal: 'direct' });
  }, 15_000);

  it("counts a dead node's resume grace on the injected clock", async () => {
    deployment = await cluster.start({ limits: LIMITS, presenceTtlMs: PRESENCE_TTL_MS });
    const d = deployment;
    const carol = await d.connect('carol', 1);
    const dave = await d.connect('dave', 1);
    await carol.settle();
    await dave.settle();
    await stoppedAndGone(d, 1);
    expect((await d.resume(carol, 0)).result).toMatchObject({ resumed: true });
    // The presence TTL and the resume grace (30 s) after the node was last seen alive.
    d.clock.advance(PRESENCE_TTL_MS + 30_000 + 1);
    expect((await d.resume(dave, 2)).result).toMatchObject({ resumed: false });
  }, 15_000);
});

/** Runs `run` with a connection of its own to the deployment's Redis. */
async function withRedis<T>(url: string, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}

/** The liveness keys of the nodes in Redis under `prefix`. */
function aliveNodes(url: string, prefix: string): Promise<string[]> {
  return withRedis(url, (redis) => redis.keys(`${prefix}node:*:alive`));
}
