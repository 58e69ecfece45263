/**
 * Several Relay nodes on one real redis-server: calls between sessions on different nodes,
 * revocation on every node, and a stopped node's sessions leaving presence.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisStore, systemClock } from 'relaycall/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  PROJECT,
  basic,
  connectWith,
  rest,
  startRelay,
  until,
  TestClient,
  type TestRelay,
} from './helpers.js';
import { assertRedisServerInstalled, startRedisServer, type RedisServer } from './redisServer.js';

let redis: RedisServer;
const nodes: TestRelay[] = [];

beforeAll(async () => {
  assertRedisServerInstalled();
  redis = await startRedisServer();
}, 30_000);
afterAll(() => redis?.stop());
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});

/** A Relay node on the shared Redis (store and cluster), on the real clock. */
async function node(presenceTtlMs = 15_000): Promise<TestRelay> {
  const relay = await startRelay({
    clock: systemClock,
    store: await RedisStore.open(redis.url, { keyPrefix: prefix }),
    cluster: { url: redis.url, prefix, presenceTtlMs },
  });
  nodes.push(relay);
  return relay;
}

// A fresh key space per test: nothing one test leaves in Redis reaches the next.
let prefix = '';
let run = 0;
function freshPrefix() {
  prefix = `relaycall-test-${process.pid}-${++run}:`;
}

describe('calls across nodes', () => {
  it('alice on node A calls bob on node B: ring, answer, signals in order both ways, hang up', async () => {
    freshPrefix();
    const a = await node();
    const b = await node();
    const alice = await a.connect('alice');
    const bob = await b.connect('bob');

    const { callId } = await alice.call('call.invite', { to: 'bob', metadata: { n: 1 } });
    expect(await bob.next('call.incoming')).toMatchObject({
      callId,
      from: 'alice',
      metadata: { n: 1 },
    });
    expect(await alice.next('call.ringing')).toMatchObject({ callId });
    // An early signal from the caller is held until the answer, then reaches bob on B.
    await alice.call('call.signal', { callId, signal: { type: 'offer', sdp: 'v=0' } });
    await bob.call('call.answer', { callId });
    expect(await alice.next('call.answered')).toMatchObject({ callId });
    expect(await bob.next('call.signal')).toMatchObject({ signal: { type: 'offer' } });

    for (let i = 0; i < 10; i++) await bob.call('call.signal', { callId, signal: { i } });
    for (let i = 0; i < 10; i++) await alice.call('call.signal', { callId, signal: { j: i } });
    const toAlice = [];
    for (let i = 0; i < 10; i++) toAlice.push((await alice.next('call.signal')).signal);
    expect(toAlice).toEqual(Array.from({ length: 10 }, (_, i) => ({ i })));
    const toBob = [];
    for (let i = 0; i < 10; i++) toBob.push((await bob.next('call.signal')).signal);
    expect(toBob).toEqual(Array.from({ length: 10 }, (_, i) => ({ j: i })));

    await bob.call('call.hangup', { callId });
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    await expect(alice.call('call.signal', { callId, signal: {} })).rejects.toMatchObject({
      code: 'call_not_found',
    });
    expect(a.relay.stats().calls).toBe(0);
  });

  it('rings the callee on every node, and the first answer wins', async () => {
    freshPrefix();
    const a = await node();
    const b = await node();
    const c = await node();
    const alice = await a.connect('alice');
    const bobOnB = await b.connect('bob');
    const bobOnC = await c.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bobOnB.next('call.incoming');
    await bobOnC.next('call.incoming');
    await bobOnC.call('call.answer', { callId });
    expect(await bobOnB.next('call.ended')).toMatchObject({ callId, reason: 'answered-elsewhere' });
    // As on one node (docs/PROTOCOL.md, call.answer): a late answer is told so.
    await expect(bobOnB.call('call.answer', { callId })).rejects.toMatchObject({
      code: 'answered_elsewhere',
    });
    expect(await alice.next('call.answered')).toMatchObject({ callId });
  });

  it('answers unavailable for a resource connected nowhere, and busy when every session is full', async () => {
    freshPrefix();
    const a = await node();
    const b = await node();
    const alice = await a.connect('alice');
    await expect(alice.call('call.invite', { to: 'nobody' })).rejects.toMatchObject({
      code: 'unavailable',
    });
    const bob = await b.connect('bob');
    const callers: TestClient[] = [];
    for (let i = 0; i < 4; i++) {
      const caller = await a.connect(`caller-${i}`);
      callers.push(caller);
      await caller.call('call.invite', { to: 'bob' });
      await bob.next('call.incoming');
    }
    await expect(alice.call('call.invite', { to: 'bob' })).rejects.toMatchObject({ code: 'busy' });
  });

  it('ends the call for the other node when a leg disconnects', async () => {
    freshPrefix();
    const a = await node();
    const b = await node();
    const alice = await a.connect('alice');
    const bob = await b.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.next('call.incoming');
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    bob.ws.close(1000);
    expect(await alice.next('call.ended')).toMatchObject({ callId, reason: 'disconnected' });
  });
  it('rings by the scopes a session has now: re-authentication is seen by the other nodes', async () => {
    freshPrefix();
    const a = await node();
    const b = await node();
    const alice = await a.connect('alice');
    const bob = await b.connect('bob', { scopes: ['calls:dial'] });
    await expect(alice.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'unavailable',
    });
    const receiving = await b.token({ resource: 'bob' });
    await bob.call('relay.reauthenticate', { token: receiving.jwt_token });
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    expect(await bob.next('call.incoming')).toMatchObject({ callId });
  });
});

describe('revocation across nodes', () => {
  it('a refresh token reused on node B revokes the family: its sessions on A and B close', async () => {
    freshPrefix();
    const a = await node();
    const b = await node();
    const first = await a.token({ resource: 'carol' });
    const rotated = await rest(
      a.url,
      'PUT',
      { refresh_token: first.refresh_token },
      basic(PROJECT),
    );
    expect(rotated.status).toBe(200);
    const second = rotated.json as { jwt_token: string; refresh_token: string };
    const onA = await connectWith(a.wsUrl, {
      project: PROJECT.id,
      token: first.jwt_token,
    });
    const onB = await connectWith(b.wsUrl, {
      project: PROJECT.id,
      token: second.jwt_token,
    });
    // The old refresh token again, at the other node: reuse.
    const reused = await rest(b.url, 'PUT', { refresh_token: first.refresh_token }, basic(PROJECT));
    expect(reused.status).toBe(400);
    expect(reused.json).toMatchObject({ error: { code: 'refresh_token_reused' } });
    expect((await onA.client.closed).code).toBe(4005);
    expect((await onB.client.closed).code).toBe(4005);
  });
});

describe('a node that shuts down', () => {
  it('takes its sessions out of presence; calls between the other nodes go on', async () => {
    freshPrefix();
    const a = await node(1_000);
    const b = await node(1_000);
    const c = await node(1_000);
    const dave = await a.connect('dave');
    void dave;
    const alice = await b.connect('alice');
    const bob = await c.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.next('call.incoming');
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');

    nodes.splice(nodes.indexOf(a), 1);
    await a.relay.close();
    const erin = await b.connect('erin');
    await expect(erin.call('call.invite', { to: 'dave' })).rejects.toMatchObject({
      code: 'unavailable',
    });
    // alice (B) and bob (C) are still in their call.
    await alice.call('call.signal', { callId, signal: { still: true } });
    expect(await bob.next('call.signal')).toMatchObject({ signal: { still: true } });
  });
});

describe('resuming a session on another node', () => {
  it('a dropped client comes back through another node: nothing lost, the call goes on', async () => {
    freshPrefix();
    const a = await node();
    const b = await node();
    const c = await node();
    const pair = await a.token({ resource: 'alice' });
    const { client: alice, result } = await connectWith(a.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    const bob = await b.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.next('call.incoming');
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    await alice.settle();
    const lastSeq = alice.lastSeq;

    // The socket dies without a close frame; bob goes on signalling meanwhile.
    alice.ws.terminate();
    expect(await bob.next('call.peer')).toMatchObject({ callId, connected: false });
    await bob.call('call.signal', { callId, signal: { while: 'away' } });

    // The load balancer sends her back in through node C.
    const back = await TestClient.open(c.wsUrl);
    const resumed = await back.call('relay.connect', {
      project: PROJECT.id,
      token: pair.jwt_token,
      sessionId: result.sessionId,
      lastSeq,
    });
    expect(resumed).toMatchObject({ resumed: true, sessionId: result.sessionId });
    expect(await back.next('call.signal')).toMatchObject({ callId, signal: { while: 'away' } });
    expect(await bob.next('call.peer')).toMatchObject({ callId, connected: true });
    await back.call('call.signal', { callId, signal: { from: 'C' } });
    expect(await bob.next('call.signal')).toMatchObject({ signal: { from: 'C' } });
    await bob.call('call.hangup', { callId });
    expect(await back.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    back.ws.terminate();
  });

  it('a node killed with SIGKILL: its client resumes on another node with what it had not seen', async () => {
    prefix = 'relaycall:'; // the CLI's

    const b = await node(1_000);
    const killed = await cliNode();
    try {
      const pair = await b.token({ resource: 'alice' });
      const { client: alice, result } = await connectWith(killed.wsUrl, {
        project: PROJECT.id,
        token: pair.jwt_token,
      });
      const bob = await b.connect('bob');
      // bob calls alice; the call lives on B. alice has not read the ring when her node dies.
      const { callId } = await bob.call('call.invite', { to: 'alice' });
      await alice.next('call.incoming');
      const lastSeq = alice.lastSeq - 1; // as if call.incoming had been lost with the node
      killed.kill();
      await alice.closed;

      const back = await TestClient.open(b.wsUrl);
      const resumed = await back.call('relay.connect', {
        project: PROJECT.id,
        token: pair.jwt_token,
        sessionId: result.sessionId,
        lastSeq,
      });
      expect(resumed).toMatchObject({ resumed: true });
      expect(await back.next('call.incoming')).toMatchObject({ callId, from: 'bob' });
      back.ws.terminate();
    } finally {
      killed.kill();
    }
  });
});

/** A Relay node in its own process (the built CLI), so it can be killed outright. */
async function cliNode(): Promise<{ wsUrl: string; kill: () => void }> {
  const bin = fileURLToPath(new URL('../../bin/relaycall.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--port', '0', '--project', `${PROJECT.id}:${PROJECT.token}`],
    { env: { ...process.env, RELAYCALL_STORE: redis.url }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /Relay listening on (http:\/\/[^\s]+)/.exec(out);
      if (found?.[1]) resolve(found[1]);
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`relaycall serve exited with ${code}: ${out}`)));
  });
  return {
    wsUrl: `${url.replace(/^http/, 'ws')}/api/relay/ws`,
    kill: () => child.kill('SIGKILL'),
  };
}

describe('Redis coming back', () => {
  it('writes presence again after Redis lost it, so sessions can be rung again', async () => {
    freshPrefix();
    const a = await node();
    const b = await node();
    const alice = await a.connect('alice');
    const bob = await b.connect('bob');
    // Redis restarts empty (no persistence in this test): presence is gone with it.
    await redis.kill();
    await redis.restart();
    let callId: unknown;
    await until('alice to ring bob across the nodes again', async () => {
      callId = (await alice.call('call.invite', { to: 'bob' })).callId;
      return true;
    });
    expect(await bob.next('call.incoming')).toMatchObject({ callId });
  }, 20_000);
});
