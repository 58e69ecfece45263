/**
 * Supervisors across Relay nodes on one real redis-server: a supervisor on one node lists,
 * watches and assists calls that live on another.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, systemClock, type CallRecord } from 'relaycall/server';
import { activeCall, startRelay, until, type TestRelay } from './helpers.js';
import { assertRedisServerInstalled, startRedisServer, type RedisServer } from './redisServer.js';

let redis: RedisServer;
const nodes: TestRelay[] = [];
let prefix = '';
let run = 0;

beforeAll(async () => {
  assertRedisServerInstalled();
  redis = await startRedisServer();
}, 30_000);
afterAll(() => redis?.stop());
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});

async function node(): Promise<TestRelay> {
  const relay = await startRelay({
    clock: systemClock,
    store: await RedisStore.open(redis.url, { keyPrefix: prefix }),
    cluster: { url: redis.url, prefix },
  });
  nodes.push(relay);
  return relay;
}

const SUPERVISOR = ['calls:list', 'calls:assist'];

describe('supervisors across nodes', () => {
  it('lists and watches the calls of every node, and assists a call that lives on another node', async () => {
    prefix = `relaycall-sup-${process.pid}-${++run}:`;
    const a = await node();
    const b = await node();
    const supervisor = await b.connect('sup', { scopes: SUPERVISOR });
    await supervisor.call('calls.watch', {});
    const customer = await a.connect('customer');
    const agent = await a.connect('agent');
    const local = await b.connect('carol');
    const localCallee = await b.connect('dave');
    const callId = await activeCall(customer, agent, 'agent');
    const localCall = await activeCall(local, localCallee, 'dave');

    // Watched from node B: A's call rang, then was answered.
    const active = await supervisor.next(
      'calls.updated',
      (p) => (p.call as CallRecord).id === callId && (p.call as CallRecord).state === 'active',
    );
    expect((active.call as CallRecord).participants.map((p) => p.resource)).toEqual([
      'customer',
      'agent',
    ]);
    const { calls } = (await supervisor.call('calls.list', {})) as { calls: CallRecord[] };
    expect(calls.map((c) => c.id).sort()).toEqual([callId, localCall].sort());
    // Node A lists B's call too, and REST on either node answers both.
    const fromA = await a.relay.listCalls('acme', { resource: 'dave' });
    expect(fromA.calls.map((c) => c.id)).toEqual([localCall]);

    // The supervisor on B joins A's call; signals reach the agent on A and come back.
    const result = (await supervisor.call('call.assist', { callId, mode: 'monitor' })) as {
      participantId: string;
      parties: { participantId: string; resource: string }[];
    };
    expect(result.parties.map((p) => p.resource)).toEqual(['customer', 'agent']);
    const told = await agent.next('call.assisted');
    expect(told.supervisors).toMatchObject([{ resource: 'sup', mode: 'monitor' }]);
    expect((await supervisor.next('call.assisted')).participantId).toBe(result.participantId);
    const agentId = result.parties[1]?.participantId;
    await supervisor.call('call.signal', { callId, to: agentId, signal: { type: 'offer' } });
    expect(await agent.next('call.signal', (p) => p.from !== undefined)).toMatchObject({
      from: result.participantId,
    });
    await agent.call('call.signal', { callId, to: result.participantId, signal: { ok: 1 } });
    expect(await supervisor.next('call.signal')).toMatchObject({
      from: agentId,
      signal: { ok: 1 },
    });
    await until('the assist to be listed on B', async () => {
      const listed = (await supervisor.call('calls.list', { resource: 'sup' })) as {
        calls: CallRecord[];
      };
      return listed.calls[0]?.assists[0]?.mode === 'monitor';
    });

    // The call ends on A: the supervisor on B hears it, and the watchers see it go.
    await customer.call('call.hangup', { callId });
    expect(await supervisor.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    await supervisor.next(
      'calls.updated',
      (p) => (p.call as CallRecord).id === callId && p.ended === true,
    );
    const after = (await supervisor.call('calls.list', {})) as { calls: CallRecord[] };
    expect(after.calls.map((c) => c.id)).toEqual([localCall]);
  });

  it('drops the calls of a node that closed, or died, from every list', async () => {
    prefix = `relaycall-sup-${process.pid}-${++run}:`;
    const a = await node();
    const b = await node();
    const customer = await a.connect('customer');
    const agent = await a.connect('agent');
    await activeCall(customer, agent, 'agent');
    const supervisor = await b.connect('sup', { scopes: SUPERVISOR });
    await until('A’s call to be listed on B', async () => {
      const { calls } = (await supervisor.call('calls.list', {})) as { calls: CallRecord[] };
      return calls.length === 1;
    });
    nodes.splice(nodes.indexOf(a), 1);
    await a.close();
    await until('A’s call to be gone from B’s list', async () => {
      const { calls } = (await supervisor.call('calls.list', {})) as { calls: CallRecord[] };
      return calls.length === 0;
    });
    // A node that died leaves its records behind: they are dropped once its liveness expired.
    const dead = { id: 'call-of-a-dead-node', kind: 'call', startedAt: 0, participants: [] };
    const writer = new Redis(redis.url);
    await writer.hset(
      `${prefix}calls:acme`,
      dead.id,
      JSON.stringify({ node: 'node-that-died', record: dead }),
    );
    const { calls } = (await supervisor.call('calls.list', {})) as { calls: CallRecord[] };
    expect(calls).toEqual([]);
    expect(await writer.hexists(`${prefix}calls:acme`, dead.id)).toBe(0);
    writer.disconnect();
  });
});
