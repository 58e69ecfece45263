/**
 * Rooms, the same tests on every topology: one Relay node, and several nodes on one real
 * redis-server with the participants spread over them (participant `i` connects through node
 * `i mod n`: see topologies.ts). A room lives on the node its first participant joined through;
 * the others take part through theirs.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { until, type TestClient } from './helpers.js';
import { startTopologies, stopTopologies, topologies, type Deployment } from './topologies.js';

const ROOMS = ['calls:dial', 'calls:receive', 'rooms:join'];
const MODERATOR = [...ROOMS, 'rooms:moderate'];

let deployment: Deployment | undefined;
afterEach(async () => {
  await deployment?.close();
  deployment = undefined;
});
beforeAll(() => startTopologies(), 30_000);
afterAll(() => stopTopologies());

interface Joined {
  roomId: string;
  participantId: string;
  participants: { id: string; resource: string; state: string }[];
}

const join = async (client: TestClient, name = 'standup', extra: Record<string, unknown> = {}) =>
  (await client.call('room.join', { name, ...extra })) as unknown as Joined;

describe.each(topologies)('rooms on $name', (topology) => {
  async function start(presenceTtlMs?: number) {
    deployment = await topology.start(presenceTtlMs ? { presenceTtlMs } : {});
    return deployment;
  }

  it('meets participants of every node in one room, and routes their signals by id', async () => {
    const d = await start();
    const ann = await d.connect('ann', 0, { scopes: ROOMS });
    const ben = await d.connect('ben', 1, { scopes: ROOMS });
    const cat = await d.connect('cat', 2, { scopes: ROOMS });
    const a = await join(ann);
    const b = await join(ben);
    expect(b.roomId).toBe(a.roomId);
    expect(b.participants.map((p) => p.resource).sort()).toEqual(['ann', 'ben']);
    expect(await ann.next('room.joined')).toMatchObject({
      roomId: a.roomId,
      from: b.participantId,
      participant: { id: b.participantId, resource: 'ben', state: 'joined' },
    });
    const c = await join(cat);
    expect(c.roomId).toBe(a.roomId);
    expect(c.participants).toHaveLength(3);
    for (const client of [ann, ben]) {
      expect(await client.next('room.joined')).toMatchObject({ participant: { resource: 'cat' } });
    }

    await cat.call('room.signal', { roomId: c.roomId, to: a.participantId, signal: { n: 1 } });
    await ben.call('room.signal', { roomId: b.roomId, to: c.participantId, signal: { n: 2 } });
    expect(await ann.next('room.signal')).toMatchObject({
      from: c.participantId,
      signal: { n: 1 },
    });
    expect(await cat.next('room.signal')).toMatchObject({
      from: b.participantId,
      signal: { n: 2 },
    });
    await expect(
      ben.call('room.signal', { roomId: b.roomId, to: 'nobody', signal: {} }),
    ).rejects.toMatchObject({ code: 'invalid_state' });

    // Leaving is not ending: the others stay; the last one out ends it, and the name is free.
    await cat.call('room.leave', { roomId: c.roomId });
    for (const client of [ann, ben]) {
      expect(await client.next('room.left')).toMatchObject({
        participant: { id: c.participantId },
        reason: 'left',
      });
    }
    await expect(
      cat.call('room.signal', { roomId: c.roomId, to: a.participantId, signal: {} }),
    ).rejects.toMatchObject({ code: 'room_not_found' });
    await ann.call('room.leave', { roomId: a.roomId });
    await ben.call('room.leave', { roomId: b.roomId });
    const again = await join(cat);
    expect(again.roomId).not.toBe(a.roomId);
    expect(again.participants).toHaveLength(1);
  });

  it('rings invitees on any node: one joins as the ringing participant, another declines', async () => {
    const d = await start();
    const ann = await d.connect('ann', 0, { scopes: ROOMS });
    const ben = await d.connect('ben', 1, { scopes: ROOMS });
    const cat = await d.connect('cat', 2, { scopes: ROOMS });
    const a = await join(ann);
    await ann.call('room.invite', { roomId: a.roomId, to: 'ben', metadata: { why: 'standup' } });
    const ringing = await ann.next('room.joined');
    expect(ringing).toMatchObject({ participant: { resource: 'ben', state: 'ringing' } });
    expect(await ben.next('room.invited')).toMatchObject({
      roomId: a.roomId,
      name: 'standup',
      by: 'ann',
      metadata: { why: 'standup' },
    });
    const b = await join(ben);
    expect(b).toMatchObject({
      roomId: a.roomId,
      participantId: (ringing.participant as { id: string }).id,
    });
    expect(await ann.next('room.joined')).toMatchObject({
      participant: { id: b.participantId, state: 'joined' },
    });

    await ben.call('room.invite', { roomId: b.roomId, to: 'cat' });
    expect(await cat.next('room.invited')).toMatchObject({ roomId: a.roomId, by: 'ben' });
    await cat.call('room.decline', { roomId: a.roomId });
    for (const client of [ann, ben]) {
      expect(await client.next('room.left', (p) => p.reason === 'declined')).toMatchObject({
        participant: { resource: 'cat' },
      });
    }
    await expect(cat.call('room.decline', { roomId: a.roomId })).rejects.toMatchObject({
      code: 'room_not_found',
    });
  });

  it('lets a moderator on one node remove a participant on another, for good', async () => {
    const d = await start();
    const mod = await d.connect('mod', 0, { scopes: MODERATOR });
    const eve = await d.connect('eve', 1, { scopes: ROOMS });
    const m = await join(mod, 'townhall');
    const e = await join(eve, 'townhall');
    await mod.next('room.joined');
    await expect(
      eve.call('room.remove', { roomId: e.roomId, participantId: m.participantId }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await mod.call('room.remove', { roomId: m.roomId, participantId: e.participantId });
    expect(await eve.next('room.left')).toMatchObject({
      participant: { id: e.participantId },
      reason: 'removed',
    });
    await expect(
      eve.call('room.signal', { roomId: e.roomId, to: m.participantId, signal: {} }),
    ).rejects.toMatchObject({ code: 'room_not_found' });
    await expect(join(eve, 'townhall')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('shows a participant away while its socket is down, and back once it resumed on another node', async () => {
    const d = await start();
    const ann = await d.connect('ann', 0, { scopes: ROOMS });
    const ben = await d.connect('ben', 1, { scopes: ROOMS });
    const a = await join(ann);
    const b = await join(ben);
    await ann.next('room.joined');
    ben.ws.terminate();
    expect(await ann.next('room.updated')).toMatchObject({
      participant: { id: b.participantId, state: 'away' },
    });
    // Sent while it is away: kept for it, and replayed on resume.
    await ann.call('room.signal', { roomId: a.roomId, to: b.participantId, signal: 'held' });
    const { client: back, result } = await d.resume(ben, 2);
    expect(result).toMatchObject({ resumed: true });
    expect(await back.next('room.signal')).toMatchObject({ from: a.participantId, signal: 'held' });
    expect(await ann.next('room.updated')).toMatchObject({
      participant: { id: b.participantId, state: 'joined' },
    });
    await back.call('room.signal', { roomId: b.roomId, to: a.participantId, signal: 'back' });
    expect(await ann.next('room.signal')).toMatchObject({ signal: 'back' });
    await ann.call('room.signal', { roomId: a.roomId, to: b.participantId, signal: 'again' });
    expect(await back.next('room.signal')).toMatchObject({ signal: 'again' });
    // Its session ends: it leaves the room for the others.
    await back.close();
    expect(await ann.next('room.left')).toMatchObject({
      participant: { id: b.participantId },
      reason: 'disconnected',
    });
  });
});

describe('rooms across nodes', () => {
  const PRESENCE_TTL_MS = 1_000;
  const cluster = topologies.find((t) => t.nodes === 2) as (typeof topologies)[number];

  it('a room whose node stopped ends for the others (disconnected); they meet again by name', async () => {
    deployment = await cluster.start({ presenceTtlMs: PRESENCE_TTL_MS });
    const d = deployment;
    const { url, prefix } = d.redis as { url: string; prefix: string };
    const ann = await d.connect('ann', 0, { scopes: ROOMS });
    const ben = await d.connect('ben', 1, { scopes: ROOMS });
    const cat = await d.connect('cat', 3, { scopes: ROOMS });
    const a = await join(ann);
    const b = await join(ben);
    const c = await join(cat);
    expect([b.roomId, c.roomId]).toEqual([a.roomId, a.roomId]);
    await d.stopNode(0);
    await until('the stopped node to be dead in Redis', async () => {
      const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        return (await redis.keys(`${prefix}node:*:alive`)).length === 1;
      } finally {
        redis.disconnect();
      }
    });
    d.clock.advance(PRESENCE_TTL_MS / 3);
    for (const client of [ben, cat]) {
      expect(await client.next('room.ended')).toMatchObject({
        roomId: a.roomId,
        from: null,
        reason: 'disconnected',
      });
    }
    // The next join takes the room over on a live node; the others join it there, as before.
    const b2 = await join(ben, 'standup', { participantId: b.participantId });
    const c2 = await join(cat, 'standup', { participantId: c.participantId });
    expect(b2.roomId).not.toBe(a.roomId);
    expect(c2.roomId).toBe(b2.roomId);
    expect([b2.participantId, c2.participantId]).toEqual([b.participantId, c.participantId]);
  }, 15_000);
});
