/**
 * In-call messages through the Relay (`call.message`, `room.message`) with real sockets: routing
 * to the others or to one (`to`), the sender must be in the call or room, the size limit, and a
 * call whose legs are on two cluster nodes.
 */
import { systemClock, RedisStore } from 'relaycall/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/protocol/index.js';
import { activeCall, refusal, startRelay, type TestClient, type TestRelay } from './helpers.js';
import { assertRedisServerInstalled, startRedisServer, type RedisServer } from './redisServer.js';

const ROOMS = ['calls:dial', 'calls:receive', 'rooms:join'];
const relays: TestRelay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

async function relay(): Promise<TestRelay> {
  const started = await startRelay();
  relays.push(started);
  return started;
}

/** Joins the room; resolves its id and the participant id. */
async function join(client: TestClient, name = 'standup') {
  const result = (await client.call('room.join', { name })) as {
    roomId: string;
    participantId: string;
  };
  return result;
}

describe('call.message', () => {
  it('goes to the other party, both ways, with its id, sender and body', async () => {
    const r = await relay();
    const alice = await r.connect('alice');
    const bob = await r.connect('bob');
    const callId = await activeCall(alice, bob, 'bob');

    const sent = await alice.call('call.message', { callId, id: 'm-1', body: 'hello bob' });
    expect(sent).toEqual({ id: 'm-1' });
    expect(await bob.next('call.message')).toMatchObject({
      callId,
      id: 'm-1',
      resource: 'alice',
      from: expect.any(String),
      body: 'hello bob',
    });

    const body = { kind: 'reaction', emoji: '👍', nested: [1, { a: null }] };
    const { id } = await bob.call('call.message', { callId, body });
    expect(id).toEqual(expect.any(String));
    const received = await alice.next('call.message');
    expect(received).toMatchObject({ callId, id, resource: 'bob', body });
    expect(received).not.toHaveProperty('to');
  });

  it('is refused to a session that is not in the call, and before the answer', async () => {
    const r = await relay();
    const alice = await r.connect('alice');
    const bob = await r.connect('bob');
    const eve = await r.connect('eve');
    const { callId } = (await alice.call('call.invite', { to: 'bob' })) as { callId: string };
    await bob.next('call.incoming');
    expect(await refusal(alice.call('call.message', { callId, body: 'early' }))).toMatchObject({
      code: 'invalid_state',
      message: expect.stringContaining('answered'),
    });
    await bob.call('call.answer', { callId });
    expect(await refusal(eve.call('call.message', { callId, body: 'hi' }))).toMatchObject({
      code: 'call_not_found',
    });
    expect(
      await refusal(eve.call('call.message', { callId: 'no-such-call', body: 'hi' })),
    ).toMatchObject({ code: 'call_not_found' });
  });

  it('refuses an oversized body with payload_too_large, saying the limit, and forwards nothing', async () => {
    const r = await relay();
    const alice = await r.connect('alice');
    const bob = await r.connect('bob');
    const callId = await activeCall(alice, bob, 'bob');
    const max = DEFAULT_LIMITS.maxMessageBytes;
    // Quotes count: a string of max - 2 characters is exactly at the limit.
    await alice.call('call.message', { callId, id: 'fits', body: 'x'.repeat(max - 2) });
    const failure = await refusal(
      alice.call('call.message', { callId, id: 'big', body: 'x'.repeat(max - 1) }),
    );
    expect(failure).toMatchObject({ code: 'payload_too_large' });
    expect(failure.message).toContain(`${max}`);
    expect(failure.message).toContain('maxMessageBytes');
    // Multi-byte characters count in UTF-8.
    expect(
      await refusal(alice.call('call.message', { callId, body: 'é'.repeat(max / 2) })),
    ).toMatchObject({ code: 'payload_too_large' });
    await alice.call('call.message', { callId, id: 'after', body: 'small' });
    expect((await bob.next('call.message')).id).toBe('fits');
    expect((await bob.next('call.message')).id).toBe('after');
  });

  it('counts against the per-socket rate limit like every request', async () => {
    const started = await startRelay({ limits: { messagesPerSecond: 10, messageBurst: 20 } });
    relays.push(started);
    const alice = await started.connect('alice');
    const bob = await started.connect('bob');
    const callId = await activeCall(alice, bob, 'bob');
    // The manual clock stands still: the bucket does not refill. Connect and invite took two.
    const replies = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => alice.call('call.message', { callId, body: i })),
    );
    const refused = replies.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.reason).toMatchObject({ code: 'rate_limited' });
  });

  it('refuses bad params: no body, a bad id or recipient', async () => {
    const r = await relay();
    const alice = await r.connect('alice');
    const bob = await r.connect('bob');
    const callId = await activeCall(alice, bob, 'bob');
    for (const params of [
      { callId },
      { callId, body: 'x', id: 'i'.repeat(65) },
      { callId, body: 'x', id: '' },
      { callId, body: 'x', to: 'not a participant id!' },
      { callId, body: 'x', to: 'nobody-here' },
    ]) {
      expect(await refusal(alice.call('call.message', params))).toMatchObject({
        code: 'invalid_params',
      });
    }
  });
});

describe('messages and supervisors', () => {
  it('a whispering supervisor messages its agent alone, a monitoring one none; it reads the call', async () => {
    const r = await relay();
    const customer = await r.connect('customer');
    const agent = await r.connect('agent');
    const supervisor = await r.connect('sup', { scopes: ['calls:list', 'calls:assist'] });
    const callId = await activeCall(customer, agent, 'agent');
    const monitor = (await supervisor.call('call.assist', { callId, mode: 'monitor' })) as {
      participantId: string;
      parties: { participantId: string; resource: string }[];
    };
    const customerId = monitor.parties[0]!.participantId;
    const agentId = monitor.parties[1]!.participantId;
    expect(
      await refusal(supervisor.call('call.message', { callId, to: agentId, body: 'x' })),
    ).toMatchObject({ code: 'invalid_state', message: expect.stringContaining('monitoring') });

    // The parties' messages reach the supervisor too.
    await customer.call('call.message', { callId, id: 'c1', body: 'hello' });
    expect(await agent.next('call.message')).toMatchObject({ id: 'c1' });
    expect(await supervisor.next('call.message')).toMatchObject({ id: 'c1', from: customerId });

    await supervisor.call('call.assist', { callId, mode: 'whisper', agent: 'agent' });
    await supervisor.call('call.message', { callId, id: 's1', body: 'offer the discount' });
    expect(await agent.next('call.message')).toMatchObject({ id: 's1', resource: 'sup' });
    expect(
      await refusal(supervisor.call('call.message', { callId, to: customerId, body: 'x' })),
    ).toMatchObject({ code: 'forbidden' });
    // The customer's next message is the one after: the whisper never reached it.
    await agent.call('call.message', { callId, id: 'a1', body: 'ok' });
    expect((await customer.next('call.message')).id).toBe('a1');
  });
});

describe('room.message', () => {
  it('goes to everyone else present, or only to its addressee with `to`', async () => {
    const r = await relay();
    const [alice, bob, carol] = await Promise.all(
      ['alice', 'bob', 'carol'].map((name) => r.connect(name, { scopes: ROOMS })),
    );
    const a = await join(alice!);
    const b = await join(bob!);
    await join(carol!);

    await alice!.call('room.message', { roomId: a.roomId, id: 'all', body: 'hi all' });
    for (const client of [bob!, carol!]) {
      expect(await client.next('room.message')).toMatchObject({
        roomId: a.roomId,
        id: 'all',
        from: a.participantId,
        resource: 'alice',
        body: 'hi all',
      });
    }

    await alice!.call('room.message', {
      roomId: a.roomId,
      id: 'to-bob',
      to: b.participantId,
      body: 'psst',
    });
    expect(await bob!.next('room.message')).toMatchObject({ id: 'to-bob', to: b.participantId });
    // carol's next message is the one after: the private one never reached her.
    await bob!.call('room.message', { roomId: a.roomId, id: 'from-bob', body: 'ok' });
    expect((await carol!.next('room.message')).id).toBe('from-bob');
    expect((await alice!.next('room.message')).id).toBe('from-bob');
    expect(alice!.notifications.some((n) => n.method === 'room.message')).toBe(false);
  });

  it('is refused to a session not in the room, oversized, to oneself or to nobody', async () => {
    const r = await relay();
    const alice = await r.connect('alice', { scopes: ROOMS });
    const eve = await r.connect('eve', { scopes: ROOMS });
    const a = await join(alice);
    expect(
      await refusal(eve.call('room.message', { roomId: a.roomId, body: 'let me in' })),
    ).toMatchObject({ code: 'room_not_found', message: expect.stringContaining('Join the room') });
    const big = 'x'.repeat(DEFAULT_LIMITS.maxMessageBytes);
    expect(
      await refusal(alice.call('room.message', { roomId: a.roomId, body: big })),
    ).toMatchObject({ code: 'payload_too_large' });
    expect(
      await refusal(
        alice.call('room.message', { roomId: a.roomId, body: 'me', to: a.participantId }),
      ),
    ).toMatchObject({ code: 'invalid_params' });
    // Alone in the room: a message to everyone reaches nobody, and that is fine.
    expect(await alice.call('room.message', { roomId: a.roomId, id: 'm', body: 'echo?' })).toEqual({
      id: 'm',
    });
  });
});

describe('messages across cluster nodes', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    assertRedisServerInstalled();
    redis = await startRedisServer();
  }, 30_000);
  afterAll(() => redis?.stop());

  async function node(prefix: string): Promise<TestRelay> {
    const started = await startRelay({
      clock: systemClock,
      store: await RedisStore.open(redis.url, { keyPrefix: prefix }),
      cluster: { url: redis.url, prefix, presenceTtlMs: 15_000 },
    });
    relays.push(started);
    return started;
  }

  it('a call and a room with participants on two nodes carry messages both ways', async () => {
    const prefix = `relaycall-messages-${process.pid}:`;
    const a = await node(prefix);
    const b = await node(prefix);
    const alice = await a.connect('alice', { scopes: ROOMS });
    const bob = await b.connect('bob', { scopes: ROOMS });
    const callId = await activeCall(alice, bob, 'bob');
    await bob.call('call.message', { callId, id: 'b1', body: 'from node B' });
    expect(await alice.next('call.message')).toMatchObject({ id: 'b1', body: 'from node B' });
    await alice.call('call.message', { callId, id: 'a1', body: 'from node A' });
    expect(await bob.next('call.message')).toMatchObject({ id: 'a1', resource: 'alice' });
    const eve = await b.connect('eve', { scopes: ROOMS });
    expect(await refusal(eve.call('call.message', { callId, body: 'x' }))).toMatchObject({
      code: 'call_not_found',
    });

    const room = await join(alice, 'across');
    const joined = await join(bob, 'across');
    expect(joined.roomId).toBe(room.roomId);
    await bob.call('room.message', { roomId: room.roomId, id: 'r1', body: { n: 1 } });
    expect(await alice.next('room.message')).toMatchObject({ id: 'r1', body: { n: 1 } });
    await alice.call('room.message', {
      roomId: room.roomId,
      id: 'r2',
      to: joined.participantId,
      body: 2,
    });
    expect(await bob.next('room.message')).toMatchObject({ id: 'r2', to: joined.participantId });
  });
});
