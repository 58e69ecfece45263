/**
 * The room engine alone, in Node: legs are fakes that record what they are told, and time is a
 * ManualClock. The socket layer's wiring is tested with real sockets elsewhere.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from 'relaycall/testing';
import {
  DEFAULT_LIMITS,
  RelayError,
  RpcErrorCodes,
  toRpcError,
  type Participant,
  type RelayLimits,
  type RoomJoinParams,
  type Scope,
} from '../../src/protocol/index.js';
import { readParams } from '../../src/server/signaling/parseRequest.js';
import { Session } from '../../src/server/signaling/Session.js';
import { LocalSessionRouter } from '../../src/server/signaling/SessionRouter.js';
import { LocalLegDirectory, type Leg, type LegDirectory } from '../../src/server/rooms/Leg.js';
import { RoomManager } from '../../src/server/rooms/RoomManager.js';
import { runRoomMethod } from '../../src/server/rooms/roomMethods.js';
import { readRoomParams } from '../../src/server/rooms/roomParams.js';

const PROJECT = 'acme';
const MEMBER: Scope[] = ['calls:dial', 'calls:receive', 'rooms:join'];
const MODERATOR: Scope[] = [...MEMBER, 'rooms:moderate'];
const CALLS_ONLY: Scope[] = ['calls:dial', 'calls:receive'];

interface Told {
  method: string;
  params: Record<string, unknown>;
}

class FakeLeg implements Leg {
  attached = true;
  /** What acceptsSignal answers. */
  keepsUp = true;
  /** What notify answers: false as a detached leg whose buffer overflowed. */
  fits = true;
  readonly rooms = new Set<string>();
  private told: Told[] = [];

  constructor(
    readonly id: string,
    readonly resource: string,
    readonly scopes: readonly Scope[],
    readonly projectId: string,
  ) {}

  notify(method: string, params: Record<string, unknown>): boolean {
    this.told.push({ method, params: structuredClone(params) });
    return this.fits;
  }

  acceptsSignal(): boolean {
    return this.keepsUp;
  }

  /** What the leg was told since the last call, and forgets it. */
  take(): Told[] {
    return this.told.splice(0);
  }
}

class FakeDirectory implements LegDirectory {
  readonly legs = new Map<string, FakeLeg>();

  get(legId: string): Leg | undefined {
    return this.legs.get(legId);
  }

  ofResource(projectId: string, resource: string): Leg[] {
    return [...this.legs.values()].filter(
      (leg) => leg.projectId === projectId && leg.resource === resource,
    );
  }
}

let clock: ManualClock;
let directory: FakeDirectory;
let overflowed: Leg[];
let rooms: RoomManager;
let nextLeg = 0;

function start(limits: Partial<RelayLimits> = {}) {
  clock = new ManualClock();
  directory = new FakeDirectory();
  overflowed = [];
  rooms = new RoomManager(directory, { ...DEFAULT_LIMITS, ...limits }, clock, (leg) =>
    overflowed.push(leg),
  );
}
beforeEach(() => start());

function leg(resource: string, scopes: readonly Scope[] = MEMBER, projectId = PROJECT): FakeLeg {
  const created = new FakeLeg(`s${++nextLeg}`, resource, scopes, projectId);
  directory.legs.set(created.id, created);
  return created;
}

function join(who: FakeLeg, name = 'standup', params: Partial<RoomJoinParams> = {}) {
  return rooms.join(who, { name, ...params });
}

/** The error `act` throws, checked to be a RelayError. */
function failure(act: () => unknown): RelayError {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(RelayError);
    return error as RelayError;
  }
  throw new Error('expected an error');
}

function participant(overrides: Partial<Participant>): Participant {
  return {
    id: expect.any(String) as string,
    resource: expect.any(String) as string,
    state: 'joined',
    audioMuted: false,
    videoMuted: false,
    moderator: false,
    ...overrides,
  };
}

describe('joining and leaving', () => {
  it('creates a room on the first join, announces later joins, and ends it when the last leaves', () => {
    const alice = leg('alice');
    const bob = leg('bob');
    const first = join(alice, 'standup', { metadata: { name: 'Alice' } });
    expect(first).toEqual({
      roomId: expect.any(String),
      name: 'standup',
      media: 'mesh',
      participantId: expect.any(String),
      participants: [
        participant({ id: first.participantId, resource: 'alice', metadata: { name: 'Alice' } }),
      ],
      maxParticipants: DEFAULT_LIMITS.maxRoomParticipants,
    });
    expect(rooms.size).toBe(1);
    const second = join(bob, 'standup', { audioMuted: true });
    expect(second.roomId).toBe(first.roomId);
    expect(second.participants.map((p) => p.resource)).toEqual(['alice', 'bob']);
    expect(alice.take()).toEqual([
      {
        method: 'room.joined',
        params: {
          roomId: first.roomId,
          from: second.participantId,
          participant: participant({ id: second.participantId, resource: 'bob', audioMuted: true }),
        },
      },
    ]);
    expect(bob.take()).toEqual([]);
    expect(rooms.stats()).toEqual({ rooms: 1, participants: 2, ringing: 0 });

    rooms.leave(bob, first.roomId);
    expect(alice.take()).toEqual([
      {
        method: 'room.left',
        params: {
          roomId: first.roomId,
          from: second.participantId,
          participant: participant({
            id: second.participantId,
            resource: 'bob',
            state: 'left',
            audioMuted: true,
          }),
          reason: 'left',
        },
      },
    ]);
    expect(bob.take()).toEqual([]);
    expect(bob.rooms.size).toBe(0);
    expect(rooms.owns(first.roomId)).toBe(true);

    rooms.leave(alice, first.roomId);
    expect(rooms.size).toBe(0);
    expect(rooms.owns(first.roomId)).toBe(false);
    expect(alice.rooms.size).toBe(0);
    // The name is free again: a new room, with a new id.
    expect(join(alice).roomId).not.toBe(first.roomId);
  });

  it('keeps rooms of different projects apart, though they share a name', () => {
    const here = join(leg('alice'));
    const there = join(leg('alice', MEMBER, 'other-project'));
    expect(there.roomId).not.toBe(here.roomId);
    expect(there.participants).toHaveLength(1);
  });

  it('answers a second join of the same session with its participant, announcing nothing', () => {
    const alice = leg('alice');
    const bob = leg('bob');
    join(alice);
    const first = join(bob);
    alice.take();
    const again = join(bob, 'standup', { audioMuted: true });
    expect(again).toEqual(first);
    expect(alice.take()).toEqual([]);
    expect(rooms.stats().participants).toBe(2);
  });

  it('refuses a join past maxRoomParticipants with room_full', () => {
    start({ maxRoomParticipants: 3 });
    for (const name of ['a', 'b', 'c']) join(leg(name));
    const error = failure(() => join(leg('d')));
    expect(error.code).toBe('room_full');
    expect(error.message).toMatch(/3 participants/);
    expect(error.message).toMatch(/mesh/);
    expect(toRpcError(error).rpcCode).toBe(RpcErrorCodes.roomFull);
  });

  it('requires rooms:join: a calls-only token is refused', () => {
    const error = failure(() => join(leg('carol', CALLS_ONLY)));
    expect(error.code).toBe('forbidden');
    expect(error.message).toMatch(/rooms:join/);
    expect(rooms.size).toBe(0);
  });

  it('keeps a session within maxRoomsPerSession and a project within maxRoomsPerProject', () => {
    start({ maxRoomsPerSession: 2, maxRoomsPerProject: 3 });
    const alice = leg('alice');
    join(alice, 'one');
    join(alice, 'two');
    const perSession = failure(() => join(alice, 'three'));
    expect(perSession.code).toBe('limit_exceeded');
    expect(perSession.message).toMatch(/maxRoomsPerSession/);
    join(leg('bob'), 'three');
    const perProject = failure(() => join(leg('carol'), 'four'));
    expect(perProject.code).toBe('limit_exceeded');
    expect(perProject.message).toMatch(/maxRoomsPerProject/);
    // Other projects have their own count, and joining existing rooms is not creating one.
    expect(() => join(leg('dave', MEMBER, 'other-project'), 'four')).not.toThrow();
    expect(() => join(leg('erin'), 'one')).not.toThrow();
  });

  it('gives a rejoining client its old participant id when free, and a new one otherwise', () => {
    const alice = leg('alice');
    const taken = join(alice, 'standup', { participantId: 'p-alice_1' });
    expect(taken.participantId).toBe('p-alice_1');
    const clash = join(leg('bob'), 'standup', { participantId: 'p-alice_1' });
    expect(clash.participantId).not.toBe('p-alice_1');
    const malformed = join(leg('carol'), 'standup', { participantId: 'not an id!' });
    expect(malformed.participantId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const tooLong = join(leg('dave'), 'standup', { participantId: 'x'.repeat(65) });
    expect(tooLong.participantId).not.toBe('x'.repeat(65));
  });

  it('lists the rooms of a leg', () => {
    const alice = leg('alice');
    const one = join(alice, 'one');
    const two = join(alice, 'two');
    expect(rooms.roomsOf(alice).map((r) => r.roomId)).toEqual([one.roomId, two.roomId]);
    expect(rooms.roomsOf(leg('bob'))).toEqual([]);
  });

  it('refuses to leave a room the session is not in with room_not_found', () => {
    const { roomId } = join(leg('alice'));
    expect(failure(() => rooms.leave(leg('bob'), roomId)).code).toBe('room_not_found');
    expect(failure(() => rooms.leave(leg('bob'), 'no-such-room')).code).toBe('room_not_found');
  });
});

describe('invitations', () => {
  /** alice in a room; bob with two attached sessions, one detached, one without rooms:join. */
  function ringing() {
    const alice = leg('alice');
    const room = join(alice);
    const bob1 = leg('bob');
    const bob2 = leg('bob');
    const bobAway = leg('bob');
    bobAway.attached = false;
    const bobCalls = leg('bob', CALLS_ONLY);
    rooms.invite(alice, { roomId: room.roomId, to: 'bob', metadata: { topic: 'daily' } });
    const [announced] = alice.take();
    const invitee = (announced?.params.participant as Participant).id;
    return { alice, room, bob1, bob2, bobAway, bobCalls, invitee, announced };
  }

  it('rings every attached session of the resource that may join, as one ringing participant', () => {
    const { room, bob1, bob2, bobAway, bobCalls, invitee, announced } = ringing();
    expect(announced).toEqual({
      method: 'room.joined',
      params: {
        roomId: room.roomId,
        from: room.participantId,
        participant: participant({ id: invitee, resource: 'bob', state: 'ringing' }),
      },
    });
    const invited = {
      method: 'room.invited',
      params: {
        roomId: room.roomId,
        from: room.participantId,
        name: 'standup',
        by: 'alice',
        metadata: { topic: 'daily' },
      },
    };
    expect(bob1.take()).toEqual([invited]);
    expect(bob2.take()).toEqual([invited]);
    expect(bobAway.take()).toEqual([]);
    expect(bobCalls.take()).toEqual([]);
    expect(rooms.stats()).toEqual({ rooms: 1, participants: 1, ringing: 1 });
  });

  it('lets a rung session join as the ringing participant; the others stop ringing', () => {
    const { alice, room, bob1, bob2, invitee } = ringing();
    bob1.take();
    bob2.take();
    const joined = join(bob1, 'standup', { participantId: 'ignored' });
    expect(joined.participantId).toBe(invitee);
    expect(joined.participants).toEqual([
      participant({ id: room.participantId, resource: 'alice' }),
      participant({ id: invitee, resource: 'bob' }),
    ]);
    const arrived = {
      method: 'room.joined',
      params: {
        roomId: room.roomId,
        from: invitee,
        participant: participant({ id: invitee, resource: 'bob' }),
      },
    };
    expect(alice.take()).toEqual([arrived]);
    expect(bob2.take()).toEqual([arrived]);
    expect(clock.pending()).toEqual([]);
    // bob2 is no longer rung: it cannot decline, and its end does not touch the participant.
    expect(failure(() => rooms.decline(bob2, room.roomId)).code).toBe('room_not_found');
    rooms.ended(bob2);
    expect(alice.take()).toEqual([]);
  });

  it('ends an unanswered invitation after ringTimeoutMs with no-answer', () => {
    const { alice, room, bob1, bob2, invitee } = ringing();
    bob1.take();
    bob2.take();
    clock.advance(DEFAULT_LIMITS.ringTimeoutMs - 1);
    expect(alice.take()).toEqual([]);
    clock.advance(1);
    const left = {
      method: 'room.left',
      params: {
        roomId: room.roomId,
        from: null,
        participant: participant({ id: invitee, resource: 'bob', state: 'left' }),
        reason: 'no-answer',
      },
    };
    expect(alice.take()).toEqual([left]);
    expect(bob1.take()).toEqual([left]);
    expect(bob2.take()).toEqual([left]);
    expect(rooms.stats().ringing).toBe(0);
    // Joining later is joining anew.
    expect(join(bob1).participantId).not.toBe(invitee);
  });

  it('ends the invitation on every rung session when one declines', () => {
    const { alice, room, bob1, bob2, invitee } = ringing();
    bob1.take();
    bob2.take();
    rooms.decline(bob1, room.roomId);
    const left = {
      method: 'room.left',
      params: {
        roomId: room.roomId,
        from: invitee,
        participant: participant({ id: invitee, resource: 'bob', state: 'left' }),
        reason: 'declined',
      },
    };
    expect(alice.take()).toEqual([left]);
    expect(bob2.take()).toEqual([left]);
    expect(bob1.take()).toEqual([]);
    expect(clock.pending()).toEqual([]);
    expect(failure(() => rooms.decline(bob2, room.roomId)).code).toBe('room_not_found');
    expect(failure(() => rooms.decline(alice, room.roomId)).code).toBe('invalid_state');
  });

  it('ends the invitation with disconnected when the last rung session ends, not when one detaches', () => {
    const { alice, room, bob1, bob2, invitee } = ringing();
    bob1.attached = false;
    rooms.detached(bob1);
    rooms.ended(bob1);
    expect(alice.take()).toEqual([]);
    rooms.ended(bob2);
    expect(alice.take()).toEqual([
      {
        method: 'room.left',
        params: {
          roomId: room.roomId,
          from: null,
          participant: participant({ id: invitee, resource: 'bob', state: 'left' }),
          reason: 'disconnected',
        },
      },
    ]);
  });

  it('counts ringing participants against maxRoomParticipants', () => {
    start({ maxRoomParticipants: 2 });
    const alice = leg('alice');
    const { roomId } = join(alice);
    leg('bob');
    rooms.invite(alice, { roomId, to: 'bob' });
    expect(failure(() => join(leg('carol'))).code).toBe('room_full');
    leg('dave');
    expect(failure(() => rooms.invite(alice, { roomId, to: 'dave' })).code).toBe('room_full');
  });

  it('refuses invitations nobody can take, twice rung, from outside the room or without calls:dial', () => {
    const alice = leg('alice');
    const { roomId } = join(alice);
    const nobody = failure(() => rooms.invite(alice, { roomId, to: 'nobody' }));
    expect(nobody.code).toBe('unavailable');
    leg('carol', CALLS_ONLY);
    expect(failure(() => rooms.invite(alice, { roomId, to: 'carol' })).code).toBe('unavailable');
    // A session already in the room is not rung.
    const bob = leg('bob');
    join(bob);
    expect(failure(() => rooms.invite(alice, { roomId, to: 'bob' })).code).toBe('unavailable');
    leg('dave');
    rooms.invite(alice, { roomId, to: 'dave' });
    expect(failure(() => rooms.invite(alice, { roomId, to: 'dave' })).code).toBe('invalid_state');
    expect(failure(() => rooms.invite(leg('erin'), { roomId, to: 'dave' })).code).toBe(
      'room_not_found',
    );
    const joinOnly = leg('frank', ['rooms:join']);
    join(joinOnly);
    const forbidden = failure(() => rooms.invite(joinOnly, { roomId, to: 'bob' }));
    expect(forbidden.code).toBe('forbidden');
    expect(forbidden.message).toMatch(/calls:dial/);
  });

  it('tells the rung sessions when the room ends as its last participant leaves', () => {
    const { alice, room, bob1, bob2 } = ringing();
    bob1.take();
    bob2.take();
    rooms.leave(alice, room.roomId);
    const ended = {
      method: 'room.ended',
      params: { roomId: room.roomId, from: null, reason: 'empty' },
    };
    expect(bob1.take()).toEqual([ended]);
    expect(bob2.take()).toEqual([ended]);
    expect(clock.pending()).toEqual([]);
    expect(rooms.size).toBe(0);
  });
});

describe('signals and updates', () => {
  function trio() {
    const alice = leg('alice');
    const bob = leg('bob');
    const carol = leg('carol');
    const a = join(alice);
    const b = join(bob);
    const c = join(carol);
    for (const l of [alice, bob, carol]) l.take();
    return {
      alice,
      bob,
      carol,
      roomId: a.roomId,
      a: a.participantId,
      b: b.participantId,
      c: c.participantId,
    };
  }

  it('forwards a signal to the participant named, from the sender', () => {
    const { alice, bob, carol, roomId, a, b } = trio();
    rooms.signal(alice, { roomId, to: b, signal: { sdp: 'offer' } });
    expect(bob.take()).toEqual([
      { method: 'room.signal', params: { roomId, from: a, signal: { sdp: 'offer' } } },
    ]);
    expect(carol.take()).toEqual([]);
    expect(alice.take()).toEqual([]);
  });

  it('refuses signals from outside the room, to unknown, ringing or self participants', () => {
    const { alice, roomId, a } = trio();
    expect(failure(() => rooms.signal(leg('dave'), { roomId, to: a, signal: 1 })).code).toBe(
      'room_not_found',
    );
    expect(failure(() => rooms.signal(alice, { roomId: 'nope', to: a, signal: 1 })).code).toBe(
      'room_not_found',
    );
    expect(failure(() => rooms.signal(alice, { roomId, to: 'ghost', signal: 1 })).code).toBe(
      'invalid_state',
    );
    expect(failure(() => rooms.signal(alice, { roomId, to: a, signal: 1 })).code).toBe(
      'invalid_params',
    );
    leg('erin');
    rooms.invite(alice, { roomId, to: 'erin' });
    const invitee = (alice.take()[0]?.params.participant as Participant).id;
    const ringingTarget = failure(() => rooms.signal(alice, { roomId, to: invitee, signal: 1 }));
    expect(ringingTarget.code).toBe('invalid_state');
    expect(ringingTarget.message).toMatch(/not joined yet/);
  });

  it('refuses a signal to a participant that does not keep up with peer_backlogged', () => {
    const { alice, bob, roomId, b } = trio();
    bob.keepsUp = false;
    const error = failure(() => rooms.signal(alice, { roomId, to: b, signal: 1 }));
    expect(error.code).toBe('peer_backlogged');
    expect(toRpcError(error).rpcCode).toBe(RpcErrorCodes.peerBacklogged);
    expect(bob.take()).toEqual([]);
    bob.keepsUp = true;
    rooms.signal(alice, { roomId, to: b, signal: 1 });
    expect(bob.take()).toHaveLength(1);
  });

  it('tells the others of changed mute flags, and nobody of unchanged ones', () => {
    const { alice, bob, carol, roomId, a } = trio();
    rooms.update(alice, { roomId, videoMuted: true });
    const updated = {
      method: 'room.updated',
      params: {
        roomId,
        from: a,
        participant: participant({ id: a, resource: 'alice', videoMuted: true }),
      },
    };
    expect(bob.take()).toEqual([updated]);
    expect(carol.take()).toEqual([updated]);
    expect(alice.take()).toEqual([]);
    rooms.update(alice, { roomId, videoMuted: true, audioMuted: false });
    expect(bob.take()).toEqual([]);
    expect(failure(() => rooms.update(leg('dave'), { roomId, audioMuted: true })).code).toBe(
      'room_not_found',
    );
  });

  it('reports a leg whose buffer overflowed, and goes on telling the others', () => {
    const { alice, bob, carol, roomId } = trio();
    bob.fits = false;
    rooms.update(alice, { roomId, audioMuted: true });
    expect(overflowed).toEqual([bob]);
    expect(carol.take()).toHaveLength(1);
  });
});

describe('moderation', () => {
  function room() {
    const mod = leg('mod', MODERATOR);
    const alice = leg('alice');
    const bob = leg('bob');
    const m = join(mod);
    const a = join(alice);
    const b = join(bob);
    for (const l of [mod, alice, bob]) l.take();
    return {
      mod,
      alice,
      bob,
      roomId: m.roomId,
      m: m.participantId,
      a: a.participantId,
      b: b.participantId,
      joined: m,
    };
  }

  it('marks participants whose token has rooms:moderate as moderators', () => {
    const { joined } = room();
    expect(joined.participants.map((p) => p.moderator)).toEqual([true]);
  });

  it('mutes a participant: it is told to mute, and everyone sees its flag', () => {
    const { mod, alice, bob, roomId, m, a } = room();
    rooms.mute(mod, { roomId, participantId: a, kind: 'audio' });
    const updated = {
      method: 'room.updated',
      params: {
        roomId,
        from: m,
        participant: participant({ id: a, resource: 'alice', audioMuted: true }),
      },
    };
    expect(alice.take()).toEqual([
      { method: 'room.muted', params: { roomId, from: m, kind: 'audio' } },
      updated,
    ]);
    expect(bob.take()).toEqual([updated]);
    expect(mod.take()).toEqual([updated]);
  });

  it('refuses moderation without rooms:moderate, or from a moderator not in the room', () => {
    const { alice, roomId, b } = room();
    const unscoped = failure(() => rooms.mute(alice, { roomId, participantId: b, kind: 'video' }));
    expect(unscoped.code).toBe('forbidden');
    expect(unscoped.message).toMatch(/rooms:moderate/);
    expect(failure(() => rooms.remove(alice, { roomId, participantId: b })).code).toBe('forbidden');
    expect(failure(() => rooms.end(alice, roomId)).code).toBe('forbidden');
    const outsider = leg('boss', MODERATOR);
    const elsewhere = failure(() =>
      rooms.mute(outsider, { roomId, participantId: b, kind: 'audio' }),
    );
    expect(elsewhere.code).toBe('forbidden');
    expect(elsewhere.message).toMatch(/in this room/);
    expect(failure(() => rooms.remove(outsider, { roomId, participantId: b })).code).toBe(
      'forbidden',
    );
    expect(failure(() => rooms.end(outsider, roomId)).code).toBe('forbidden');
    expect(failure(() => rooms.end(outsider, 'no-such-room')).code).toBe('room_not_found');
    expect(rooms.stats().participants).toBe(3);
  });

  it('removes a participant, telling it too, and refuses its resource while the room lives', () => {
    const { mod, alice, bob, roomId, m, a } = room();
    rooms.remove(mod, { roomId, participantId: a });
    const left = {
      method: 'room.left',
      params: {
        roomId,
        from: m,
        participant: participant({ id: a, resource: 'alice', state: 'left' }),
        reason: 'removed',
      },
    };
    expect(alice.take()).toEqual([left]);
    expect(bob.take()).toEqual([left]);
    expect(mod.take()).toEqual([left]);
    expect(alice.rooms.size).toBe(0);
    const rejoin = failure(() => join(alice));
    expect(rejoin.code).toBe('forbidden');
    expect(rejoin.message).toMatch(/removed from this room by a moderator/);
    expect(failure(() => join(leg('alice'))).code).toBe('forbidden');
    expect(failure(() => rooms.invite(mod, { roomId, to: 'alice' })).code).toBe('forbidden');
    expect(failure(() => rooms.remove(mod, { roomId, participantId: m })).code).toBe(
      'invalid_params',
    );
    expect(failure(() => rooms.remove(mod, { roomId, participantId: a })).code).toBe(
      'invalid_state',
    );
  });

  it('removes a ringing invitee: its rung sessions stop ringing', () => {
    const { mod, alice, roomId, m } = room();
    const carol = leg('carol');
    rooms.invite(mod, { roomId, to: 'carol' });
    const invitee = (alice.take()[0]?.params.participant as Participant).id;
    carol.take();
    rooms.remove(mod, { roomId, participantId: invitee });
    const left = {
      method: 'room.left',
      params: {
        roomId,
        from: m,
        participant: participant({ id: invitee, resource: 'carol', state: 'left' }),
        reason: 'removed',
      },
    };
    expect(carol.take()).toEqual([left]);
    expect(alice.take()).toEqual([left]);
    expect(clock.pending()).toEqual([]);
    expect(failure(() => join(carol)).code).toBe('forbidden');
  });

  it('ends the room for everyone in it and rung into it, but the moderator who ended it', () => {
    const { mod, alice, bob, roomId, m } = room();
    const carol = leg('carol');
    rooms.invite(mod, { roomId, to: 'carol' });
    for (const l of [mod, alice, bob, carol]) l.take();
    rooms.end(mod, roomId);
    const ended = { method: 'room.ended', params: { roomId, from: m, reason: 'ended' } };
    expect(alice.take()).toEqual([ended]);
    expect(bob.take()).toEqual([ended]);
    expect(carol.take()).toEqual([ended]);
    expect(mod.take()).toEqual([]);
    expect(rooms.size).toBe(0);
    expect([mod, alice, bob].map((l) => l.rooms.size)).toEqual([0, 0, 0]);
    expect(clock.pending()).toEqual([]);
    // A removal does not outlive the room.
    expect(join(alice).participants).toHaveLength(1);
  });
});

describe('leg lifecycle', () => {
  it('shows a detached participant as away, and joined again when it resumes', () => {
    const alice = leg('alice');
    const bob = leg('bob');
    const { roomId } = join(alice);
    const b = join(bob).participantId;
    alice.take();
    bob.attached = false;
    rooms.detached(bob);
    const state = (s: Participant['state']) => ({
      method: 'room.updated',
      params: {
        roomId,
        from: null,
        participant: participant({ id: b, resource: 'bob', state: s }),
      },
    });
    expect(alice.take()).toEqual([state('away')]);
    expect(bob.take()).toEqual([]);
    // Signals to an away participant are kept for its resume, as long as it keeps up.
    rooms.signal(alice, { roomId, to: b, signal: 'ice' });
    expect(bob.take()).toHaveLength(1);
    bob.attached = true;
    rooms.resumed(bob);
    expect(alice.take()).toEqual([state('joined')]);
    rooms.resumed(bob);
    expect(alice.take()).toEqual([]);
  });

  it('takes an ended leg out of its rooms with disconnected, ending rooms left empty', () => {
    const alice = leg('alice');
    const bob = leg('bob');
    const shared = join(alice, 'shared');
    const b = join(bob, 'shared').participantId;
    join(bob, 'alone');
    alice.take();
    rooms.ended(bob);
    expect(alice.take()).toEqual([
      {
        method: 'room.left',
        params: {
          roomId: shared.roomId,
          from: null,
          participant: participant({ id: b, resource: 'bob', state: 'left' }),
          reason: 'disconnected',
        },
      },
    ]);
    expect(bob.rooms.size).toBe(0);
    expect(rooms.size).toBe(1);
  });
});

describe('sessions as legs', () => {
  it('serves signaling sessions through the local directory', () => {
    const router = new LocalSessionRouter();
    const session = (id: string, resource: string) =>
      new Session({
        id,
        projectId: PROJECT,
        resource,
        scopes: MEMBER,
        familyId: `family-${id}`,
        expiresAt: clock.now() + 60_000,
        maxBuffered: 16,
        maxBufferedBytes: 64 * 1024,
      });
    const alice = session('a', 'alice');
    const bob = session('b', 'bob');
    router.add(alice);
    router.add(bob);
    const engine = new RoomManager(new LocalLegDirectory(router), DEFAULT_LIMITS, clock, () => {});
    const { roomId } = engine.join(alice, { name: 'standup' });
    engine.join(bob, { name: 'standup' });
    expect([...alice.rooms]).toEqual([roomId]);
    // No socket: detached, so kept for the resume.
    expect(alice.attached).toBe(false);
    const [text] = alice.buffer().outbox;
    expect(JSON.parse(text ?? '')).toMatchObject({
      method: 'room.joined',
      params: { seq: 1, roomId, participant: { resource: 'bob' } },
    });
  });
});

describe('room params', () => {
  const read = (method: Parameters<typeof readRoomParams>[0], params: unknown) =>
    readRoomParams(method, readParams(method, params, DEFAULT_LIMITS));

  it('reads room names as resource names, in NFC', () => {
    expect(read('room.join', { name: 'caf\u0065\u0301' })).toMatchObject({ name: 'caf\u00e9' });
    for (const name of ['', 'a\u0000b', 'x'.repeat(129), 7]) {
      expect(failure(() => read('room.join', { name })).code).toBe('invalid_params');
    }
  });

  it('ignores a malformed participant id to reclaim, and refuses a malformed one to act on', () => {
    expect(read('room.join', { name: 'r', participantId: 42 })).toMatchObject({
      participantId: undefined,
    });
    // However deep it nests (found by the fuzz: the depth check answered invalid_params).
    let deep: unknown = 'p';
    for (let i = 0; i < 40; i++) deep = [{ p: deep }];
    expect(read('room.join', { name: 'r', participantId: deep })).toMatchObject({
      participantId: undefined,
    });
    expect(read('room.join', { name: 'r', participantId: 'p1' })).toMatchObject({
      participantId: 'p1',
    });
    const bad = failure(() => read('room.signal', { roomId: 'r', to: 'a b', signal: null }));
    expect(bad.code).toBe('invalid_params');
    expect(bad.message).toMatch(/"to"/);
    expect(failure(() => read('room.signal', { roomId: 'r', to: 'a' })).code).toBe(
      'invalid_params',
    );
  });

  it('checks flags and kinds', () => {
    expect(failure(() => read('room.update', { roomId: 'r' })).code).toBe('invalid_params');
    expect(failure(() => read('room.update', { roomId: 'r', audioMuted: 'yes' })).code).toBe(
      'invalid_params',
    );
    expect(read('room.update', { roomId: 'r', audioMuted: false })).toMatchObject({
      audioMuted: false,
    });
    expect(
      failure(() => read('room.mute', { roomId: 'r', participantId: 'p', kind: 'screen' })).code,
    ).toBe('invalid_params');
    expect(failure(() => read('room.join', { name: 'r', metadata: 'x'.repeat(5000) })).code).toBe(
      'invalid_params',
    );
  });

  it('runs a method from raw params to result', () => {
    const alice = leg('alice');
    const reader = readParams('room.join', { name: 'standup', videoMuted: true }, DEFAULT_LIMITS);
    const result = runRoomMethod(rooms, alice, 'room.join', reader);
    expect(result.participants[0]).toMatchObject({ resource: 'alice', videoMuted: true });
    const leave = readParams('room.leave', { roomId: result.roomId }, DEFAULT_LIMITS);
    expect(runRoomMethod(rooms, alice, 'room.leave', leave)).toEqual({});
    expect(rooms.size).toBe(0);
  });
});
