/**
 * Room requests (protocol version 2: docs/PROTOCOL.md "Rooms", "Room errors", "Scopes"), hostile
 * and valid-but-odd, each with the one answer the docs promise for it.
 *
 * A {@link RoomGen} keeps a model of the socket's rooms ({@link RoomModel}): the rooms its
 * session is in, is rung into or has left, who else is in each (the lane's partner and filler
 * sessions, joined or being rung), the resources removed from each, and the rooms that ended.
 * Only this socket changes those rooms while it lives (the partner acts between lives; the room
 * names are the lane's own), so the model is the Relay's state: every frame knows its answer when
 * it is generated, and the model moves on as the Relay will when it handles the frame. What only
 * the Relay decides (room and participant ids) is learned from replies and events, which are in
 * before the next batch (each batch is fenced).
 *
 * Categories, and the answers each may get (every frame expects exactly one of them, two for
 * moderation in another lane's room, which may end at any time):
 * - room-params: malformed params for every room.* method (wrong types, huge strings, deep
 *   nesting, names with lone surrogates, bidi or control characters, metadata over
 *   maxMetadataBytes, malformed participant ids and kinds), a signal to oneself, a moderator
 *   removing itself: -32602; -32003 when the method's scope is missing (checked first).
 * - room-forbidden: room.join without rooms:join; room.mute/remove/end without rooms:moderate,
 *   or in a room the session is not in; room.invite of a resource removed from the room: -32003
 *   (-32011 too for another lane's room, which may have ended).
 * - room-unknown: unknown, ended, foreign and left room ids: -32011; unknown or ringing
 *   participants, room.decline from a participant: -32007.
 * - room-limits: joins past maxRoomsPerSession: -32008; joining or inviting into a full room:
 *   -32012; invites nobody can take: -32005; invites of a resource being rung: -32007.
 * - room-valid: valid-but-odd requests (names in NFD, at the length limit, of emoji and RTL
 *   text; joining again, joining with a taken, free, malformed or huge participantId, taking an
 *   invitation, rejoining an ended room's name; flags, signals, invites, declines, moderation):
 *   a result, checked; -32010 for signals to a partner that is behind.
 *
 * Where two documented answers apply, the one the Relay checks first: params that are not an
 * object; the method's scope (its METHODS row); the params; then the room, in the order of
 * docs/PROTOCOL.md "Room errors" as RoomManager checks it (for room.join: already in it,
 * maxRoomsPerSession, an invitation of its resource, room_full).
 */
import { RpcErrorCodes, normalizeIdentity, resourceProblem } from 'relaycall/server';
import type { Built, Frame, FrameGen, Outcome } from './frames.js';

const E = RpcErrorCodes;
/** String params are at most this long (docs/PROTOCOL.md, Messages). */
const MAX_STRING = 8192;
const MAX_DEPTH = 16;
/** docs/PROTOCOL.md, Rooms: participant ids are 1–64 characters of A–Z a–z 0–9 _ -. */
const PARTICIPANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Placeholder value replaced by nested JSON text after stringifying. */
const DEEP = '\ue000room-deep\ue000';

export const ROOM_CATEGORIES = [
  'room-params',
  'room-forbidden',
  'room-unknown',
  'room-limits',
  'room-valid',
] as const;
export type RoomCategory = (typeof ROOM_CATEGORIES)[number];

const ROOM_METHODS = [
  'room.join',
  'room.leave',
  'room.invite',
  'room.decline',
  'room.signal',
  'room.update',
  'room.mute',
  'room.remove',
  'room.end',
] as const;
type RoomMethod = (typeof ROOM_METHODS)[number];
const MODERATION = ['room.mute', 'room.remove', 'room.end'] as const;

/** The room scopes of a lane's token (every lane's token has calls:dial and calls:receive). */
export interface RoomScopes {
  join: boolean;
  moderate: boolean;
}

/** Someone else in a room of the model: the lane's partner or filler, joined or being rung. */
export interface RoomOther {
  resource: string;
  state: 'joined' | 'ringing';
  /** Known from a join result, or for a ringing one from the room.joined event it caused. */
  id?: string;
}

export interface RoomState {
  /** In NFC, as the Relay keeps it. */
  name: string;
  /** Other spellings naming the same room (the raw spelling it was joined with, NFD). */
  spellings: string[];
  /** Known once the Relay answered (join result), or from the partner's join. */
  id?: string;
  /** In it (joined), rung into it (an invitation of its resource rings on it), or neither. */
  self: 'in' | 'rung' | 'out';
  /** This session's participant id while it is in the room (when known). */
  selfId?: string;
  /** Bumped whenever `self` changes: a reply checked later records ids only if unchanged. */
  epoch: number;
  others: RoomOther[];
  /** Resources a moderator removed: refused while the room lives. */
  removed: Set<string>;
  ended: boolean;
}

export interface RoomModel {
  scopes: RoomScopes;
  /** The session's own resource (NFC). */
  resource: string;
  /** The lane's partner: has rooms:join, joins rooms with the lane between batches. */
  partner: string;
  /** The lane's filler: has rooms:join, sits in the lane's full room; may be rung. */
  filler: string;
  /** Resources with a session but without rooms:join (bystanders, crowd): never rung. */
  roomless: readonly string[];
  /** Room-name prefix unique to the lane and life (names are project-wide). */
  prefix: string;
  fresh: number;
  rooms: RoomState[];
  /** Ids that left a room: unknown in every room now. */
  departed: string[];
  /** Room signals sent to the partner (it receives these, less the refused). */
  forwarded: number;
  /** Of those, sent as notifications (no reply tells whether they were refused). */
  unconfirmed: number;
  /**
   * Set when a request that changes the rooms got an answer the model did not predict (a
   * failure, reported as such): the model no longer is the Relay's state, so from then on the
   * life sends only room requests whose answer does not depend on it, and no failure follows
   * from the first.
   */
  diverged: boolean;
}

export function newRoom(name: string, self: RoomState['self'], spelling = name): RoomState {
  const spellings = [...new Set([spelling, name, name.normalize('NFD')])].filter(
    (s) => s !== name && resourceProblem(s) === undefined,
  );
  return {
    name,
    spellings,
    self,
    epoch: 0,
    others: [],
    removed: new Set(),
    ended: false,
  };
}

/** Participants counted against maxRoomParticipants: joined, away and ringing. */
export function roomSize(room: RoomState): number {
  return (room.self === 'out' ? 0 : 1) + room.others.length;
}

/** Names that are valid but odd: NFD, compatibility forms, emoji, RTL, zero-width, quotes. */
const ODD_NAMES = [
  '',
  '',
  ' x ',
  'Rene\u0301e',
  'Ren\u00e9e',
  '\u212b', // ANGSTROM SIGN: NFC is U+00C5
  '\u1100\u1161', // Hangul jamo: NFC composes them
  'e\u0301\u0301',
  '群衆',
  '😀👻',
  'שלום',
  'مرحبا',
  'a\u200bb',
  'a\u200fb', // RIGHT-TO-LEFT MARK: not one of the refused bidi controls
  '\ufeffbom',
  'q"uo\\te',
  '<b>&amp;',
  '../..',
  '\ufb01', // LATIN SMALL LIGATURE FI: NFC keeps it
  'ｆｕｌｌ',
];

/** Names the Relay refuses (each checked with resourceProblem when used). */
function badNames(max: number): unknown[] {
  return [
    undefined,
    '',
    5,
    null,
    true,
    [],
    {},
    ['room'],
    'x\ud800',
    '\udfffx',
    'a\ud800\ud800b',
    'a\u202eb',
    '\u2066x\u2069',
    'a\u202ab',
    'a\u0000b',
    'tab\tname',
    'line\nbreak',
    '\u0085',
    '\u009f',
    'del\u007f',
    'n'.repeat(max + 1),
    '\u00e9'.repeat(max + 1),
    'e\u0301'.repeat(max + 1),
    'x'.repeat(4 * max + 1),
  ];
}

/** Participant ids the Relay refuses to act on (each checked against PARTICIPANT_ID). */
const BAD_PARTICIPANT_IDS: unknown[] = [
  undefined,
  '',
  5,
  null,
  true,
  [],
  {},
  ['p'],
  'a b',
  'x'.repeat(65),
  '\u00e9',
  'p\u0000',
  'p\ud800',
  '../p',
  'p.q',
  'p\n',
  ' p',
  '{p}',
  '+',
  '\u0663', // ARABIC-INDIC DIGIT THREE
  'Ａ',
];

const BAD_ROOM_IDS: unknown[] = [
  undefined,
  '',
  5,
  0,
  null,
  true,
  false,
  [],
  {},
  ['r'],
  { id: 'r' },
];
const BAD_FLAGS: unknown[] = ['true', 'false', 1, 0, null, [], {}, 'yes'];
const BAD_KINDS: unknown[] = [
  undefined,
  'Audio',
  'VIDEO',
  'screen',
  '',
  5,
  null,
  ['audio'],
  'audio ',
  true,
];

/** What a room request expects, and what it changes. */
interface Plan {
  category: RoomCategory;
  sub: string;
  method: RoomMethod;
  params?: unknown;
  /** The request's text when it is not `params` stringified (padded, spliced). */
  built?: Built;
  accept: Outcome[];
  /** The request's effect on the model (applied when generated; requests are handled in order). */
  apply?: () => void;
  check?: (result: unknown) => string | undefined;
  /** A signal to the partner: forwarded unless refused with peer_backlogged. */
  forward?: boolean;
}

/** A room id a request names, and the model's room of that id (if any). */
interface Target {
  id: string;
  room?: RoomState;
  /** Another lane's room: it may have ended by now. */
  foreign?: boolean;
}

export class RoomGen {
  private scratch: RoomModel | undefined;

  constructor(private readonly g: FrameGen) {}

  /** The socket's rooms; a model of no rooms for a socket that is not authenticated. */
  get m(): RoomModel {
    if (this.g.model.rooms) return this.g.model.rooms;
    this.scratch ??= {
      scopes: { join: false, moderate: false },
      resource: '',
      partner: 'fz-nobody',
      filler: 'fz-nobody',
      roomless: [],
      prefix: 'fz-unauthenticated.',
      fresh: 0,
      rooms: [],
      departed: [],
      forwarded: 0,
      unconfirmed: 0,
      diverged: false,
    };
    return this.scratch;
  }

  frame(category: RoomCategory): Frame {
    if (this.m.diverged) return this.emit(this.g.rng.chance(0.5) ? this.params() : this.blind());
    const plan =
      category === 'room-params'
        ? this.params()
        : category === 'room-forbidden'
          ? (this.forbidden() ?? this.unknown())
          : category === 'room-unknown'
            ? this.unknown()
            : category === 'room-limits'
              ? (this.limits() ?? this.forbidden() ?? this.unknown())
              : (this.valid() ?? this.limits() ?? this.forbidden() ?? this.unknown());
    return this.emit(plan);
  }

  /** The join a lane's setup sends for its main room (with or without the partner in it). */
  setupJoin(name: string, participantId: string): Frame {
    return this.emit(this.join(name, { participantId }, 'setup'));
  }

  private emit(plan: Plan): Frame {
    const g = this.g;
    const built = plan.built ?? g.request(plan.method, plan.params);
    const frame = g.out(plan.category, plan.sub, built, g.when(plan.accept));
    if (!g.model.authed) return frame;
    plan.apply?.();
    const m = this.m;
    if (frame.reply && plan.check) {
      const check = plan.check;
      frame.reply.check = (result) => {
        const problem = check(result);
        if (problem) m.diverged = true;
        return problem;
      };
    }
    if (frame.reply && plan.apply) frame.reply.onUnexpected = () => (m.diverged = true);
    if (plan.forward) {
      this.m.forwarded += 1;
      frame.roomForward = true;
      frame.reply?.accept.push(E.peerBacklogged);
    }
    return frame;
  }

  // ---- the model ----------------------------------------------------------------------

  private get limitsOf() {
    return this.g.env.limits;
  }

  /** Rooms that live, with a known id, matching `pick`. */
  private live(pick: (room: RoomState) => boolean = () => true): RoomState[] {
    return this.m.rooms.filter((room) => !room.ended && room.id !== undefined && pick(room));
  }

  private present(): RoomState[] {
    return this.live((room) => room.self === 'in');
  }

  private inCount(): number {
    return this.m.rooms.filter((room) => !room.ended && room.self === 'in').length;
  }

  private named(name: string): RoomState | undefined {
    return this.m.rooms.find((room) => !room.ended && room.name === name);
  }

  private target(room: RoomState): Target {
    return { id: room.id as string, room };
  }

  private end(room: RoomState): void {
    for (const other of room.others) if (other.id) this.m.departed.push(other.id);
    if (room.selfId) this.m.departed.push(room.selfId);
    room.others = [];
    room.self = 'out';
    room.selfId = undefined;
    room.epoch += 1;
    room.ended = true;
  }

  private hasScope(method: RoomMethod): boolean {
    const { scopes } = this.m;
    if (method === 'room.join') return scopes.join;
    if ((MODERATION as readonly string[]).includes(method)) return scopes.moderate;
    return true; // room.invite needs calls:dial, which every lane's token has
  }

  // ---- values ---------------------------------------------------------------------------

  private freshName(): { spelling: string; name: string } {
    const r = this.g.rng;
    const m = this.m;
    const max = this.limitsOf.maxResourceLength;
    const base = `${m.prefix}${m.fresh++}`;
    let spelling = `${base}${r.pick(ODD_NAMES)}`;
    if (r.chance(0.12)) {
      // Exactly at the length limit, once in NFC (decomposed, twice as long before).
      const pad = max - base.length;
      spelling = `${base}${r.chance(0.5) ? '\u00e9'.repeat(pad) : 'e\u0301'.repeat(pad)}`;
    }
    if (resourceProblem(spelling, max)) throw new Error(`generator bug: bad room name ${spelling}`);
    return { spelling, name: normalizeIdentity(spelling) };
  }

  /** A participant id that is well-formed and names nobody the model knows. */
  private strangerId(room?: RoomState): string {
    const r = this.g.rng;
    const known = new Set([room?.selfId, ...(room?.others.map((o) => o.id) ?? [])].filter(Boolean));
    const departed = this.m.departed.filter((id) => !known.has(id));
    if (departed.length > 0 && r.chance(0.25)) return r.pick(departed);
    return r.pick([
      () => uuidShaped(r.string(32, '0123456789abcdef')),
      () =>
        `p-${r.string(r.range(1, 40), 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-')}`,
      () => r.pick(['-', '_', '0', 'A'.repeat(64), '--__--']),
    ])();
  }

  /** Any well-formed participant id: of someone in the room, or not. */
  private anyParticipantId(room?: RoomState): string {
    const ids = [room?.selfId, ...(room?.others.map((o) => o.id) ?? [])].filter(
      (id): id is string => id !== undefined,
    );
    return ids.length > 0 && this.g.rng.chance(0.5) ? this.g.rng.pick(ids) : this.strangerId(room);
  }

  /** A valid resource that no session with rooms:join has: nobody can be rung. */
  private nobody(): string {
    const r = this.g.rng;
    const m = this.m;
    const options = [
      ...m.roomless,
      m.resource || 'fz-self',
      `ghost-${r.string(r.range(1, 40))}`,
      `👻${r.pick(ODD_NAMES)}`,
      'Rene\u0301e-ghost',
    ];
    for (;;) {
      const to = r.pick(options);
      if (!resourceProblem(to, this.limitsOf.maxResourceLength)) return normalizeIdentity(to);
    }
  }

  /** A room id of no live room of this socket: unknown, ended, another lane's or odd text. */
  private unknownTarget(): Target {
    const r = this.g.rng;
    const ended = this.m.rooms.filter((room) => room.ended && room.id !== undefined);
    const foreign = this.g.env.foreignRoomIds();
    const roll = r.int(10);
    if (roll < 2 && ended.length > 0) {
      const room = r.pick(ended);
      return { id: room.id as string, room };
    }
    if (roll < 5 && foreign.length > 0) return { id: r.pick(foreign), foreign: true };
    const own = this.live();
    const id = r.pick([
      () => uuidShaped(r.string(32, '0123456789abcdef')),
      () => '00000000-0000-0000-0000-000000000000',
      () => r.unicode(r.range(1, 60)) || 'x',
      () => `\ud800${r.string(8)}`,
      () => `\u202e${uuidShaped(r.string(32, '0123456789abcdef'))}`,
      () => 'r'.repeat(MAX_STRING),
      () => ' ',
      // Another spelling of a room id this socket knows: ids are compared as they are.
      () => (own.length > 0 ? (r.pick(own).id as string).toUpperCase() : 'ROOM'),
      () => (own.length > 0 ? `${r.pick(own).id as string} ` : 'room '),
    ])();
    return { id };
  }

  private signalValue(): unknown {
    const r = this.g.rng;
    return r.chance(0.15) ? null : this.g.payload(MAX_DEPTH, 3000);
  }

  private flags(): { audioMuted?: boolean; videoMuted?: boolean } {
    const r = this.g.rng;
    const out: { audioMuted?: boolean; videoMuted?: boolean } = {};
    const roll = r.int(3);
    if (roll !== 1) out.audioMuted = r.chance(0.5);
    if (roll !== 0) out.videoMuted = r.chance(0.5);
    return out;
  }

  /** Unknown keys a valid request may carry: ignored. */
  private junk(): Record<string, unknown> {
    const r = this.g.rng;
    if (!r.chance(0.2)) return {};
    const out: Record<string, unknown> = {};
    for (const key of [r.pick(['__proto__', 'constructor', 'toString', 'seq', 'from', 'x'])]) {
      Object.defineProperty(out, key, {
        value: this.g.payload(3, 200),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  // ---- requests, each with the answer the model says ----------------------------------

  /**
   * room.join: already in the room (its participant again), maxRoomsPerSession, taking an
   * invitation of its resource, room_full, or a new participant (the participantId asked for
   * when well-formed and free).
   */
  private join(spelling: string, extra: Record<string, unknown>, sub: string): Plan {
    const m = this.m;
    const name = normalizeIdentity(spelling);
    const params = { ...this.junk(), name: spelling, ...extra };
    const plan = (category: RoomCategory, tail: string, accept: Outcome[]): Plan => ({
      category,
      sub: `${sub}/${tail}`,
      method: 'room.join',
      params,
      accept,
    });
    if (!m.scopes.join) return plan('room-forbidden', 'no-rooms:join', [E.forbidden]);
    const found = this.named(name);
    if (found?.self === 'in') {
      return {
        ...plan('room-valid', 'already-in', ['result']),
        check: this.joinCheck(found, { already: true, asked: extra.participantId }),
      };
    }
    if (this.inCount() >= this.limitsOf.maxRoomsPerSession) {
      return plan('room-limits', 'rooms-per-session', [E.limitExceeded]);
    }
    if (found?.self === 'rung') {
      const room = found;
      return {
        ...plan('room-valid', 'takes-invitation', ['result']),
        apply: () => {
          room.self = 'in';
          room.selfId = undefined;
          room.epoch += 1;
        },
        check: this.joinCheck(room, { already: false, params: extra, taken: true }),
      };
    }
    if (found && roomSize(found) >= this.limitsOf.maxRoomParticipants) {
      return plan('room-limits', 'room-full', [E.roomFull]);
    }
    const asked = extra.participantId;
    const room = found ?? newRoom(name, 'out', spelling);
    const free =
      typeof asked === 'string' &&
      PARTICIPANT_ID.test(asked) &&
      !room.others.some((other) => other.id === asked);
    return {
      ...plan('room-valid', found ? 'rejoin' : 'new-room', ['result']),
      apply: () => {
        if (!found) this.m.rooms.push(room);
        room.self = 'in';
        room.selfId = free ? asked : undefined;
        room.epoch += 1;
      },
      check: this.joinCheck(room, { already: false, params: extra, asked, free }),
    };
  }

  /** Checks a room.join result against the model, and records the ids it tells. */
  private joinCheck(
    room: RoomState,
    want: {
      already: boolean;
      params?: Record<string, unknown>;
      asked?: unknown;
      /** The asked participantId was well-formed and free: it must be the one given. */
      free?: boolean;
      /** The session took the ringing participant of its resource. */
      taken?: boolean;
    },
  ): (result: unknown) => string | undefined {
    const m = this.m;
    const limits = this.limitsOf;
    // The room as it will be once this join is handled (the plan is applied right after).
    const epoch = want.already ? room.epoch : room.epoch + 1;
    const others = room.others.map((other) => ({ ...other }));
    const size = others.length + 1;
    return (result) => {
      if (result === undefined) return undefined;
      const res = result as Partial<Record<string, unknown>>;
      const participants = res.participants as Record<string, unknown>[] | undefined;
      const pid = res.participantId;
      if (typeof res.roomId !== 'string' || typeof pid !== 'string') {
        return `room.join answered without roomId or participantId: ${JSON.stringify(result).slice(0, 200)}`;
      }
      if (room.id === undefined) room.id = res.roomId;
      else if (room.id !== res.roomId) return `joined room ${res.roomId}, expected ${room.id}`;
      if (res.name !== room.name)
        return `room.join answered name ${String(res.name)}, expected ${room.name}`;
      if (res.media !== 'mesh') return `room.join answered media ${String(res.media)}`;
      if (res.maxParticipants !== limits.maxRoomParticipants) {
        return `room.join answered maxParticipants ${String(res.maxParticipants)}`;
      }
      if (!PARTICIPANT_ID.test(pid)) return `a malformed participant id ${JSON.stringify(pid)}`;
      if (want.free && pid !== want.asked) {
        return `asked for the free id ${String(want.asked)}, got ${pid}`;
      }
      if (!want.free && !want.already && !want.taken && pid === want.asked) {
        return `got the id ${pid} asked for, though it was taken or malformed`;
      }
      if (room.epoch === epoch) {
        if (room.selfId === undefined) room.selfId = pid;
        else if (room.selfId !== pid) return `participant ${pid}, expected ${room.selfId}`;
      }
      if (!Array.isArray(participants) || participants.length !== size) {
        return `room.join listed ${Array.isArray(participants) ? participants.length : 'no'} participants, expected ${size}`;
      }
      for (const p of participants) {
        if (
          typeof p.id !== 'string' ||
          !PARTICIPANT_ID.test(p.id) ||
          typeof p.resource !== 'string' ||
          !['joined', 'away', 'ringing'].includes(String(p.state)) ||
          typeof p.audioMuted !== 'boolean' ||
          typeof p.videoMuted !== 'boolean' ||
          typeof p.moderator !== 'boolean'
        ) {
          return `a malformed participant: ${JSON.stringify(p).slice(0, 200)}`;
        }
      }
      const self = participants.find((p) => p.id === pid);
      if (!self || self.state !== 'joined' || self.resource !== m.resource) {
        return `this participant is not listed as joined: ${JSON.stringify(self ?? null).slice(0, 200)}`;
      }
      if (self.moderator !== m.scopes.moderate) return `moderator ${String(self.moderator)}`;
      if (want.params && !want.already) {
        const { audioMuted = false, videoMuted = false, metadata } = want.params;
        if (self.audioMuted !== audioMuted || self.videoMuted !== videoMuted) {
          return `joined with audioMuted ${String(audioMuted)} videoMuted ${String(videoMuted)}, listed ${String(self.audioMuted)} ${String(self.videoMuted)}`;
        }
        if (JSON.stringify(self.metadata) !== JSON.stringify(metadata)) {
          return `metadata listed as ${JSON.stringify(self.metadata)?.slice(0, 100)}, joined with ${JSON.stringify(metadata)?.slice(0, 100)}`;
        }
      }
      for (const other of others) {
        const listed = participants.find((p) =>
          other.id !== undefined
            ? p.id === other.id
            : p.resource === other.resource && p.state === 'ringing' && p.id !== pid,
        );
        if (!listed || listed.resource !== other.resource) {
          return `${other.resource} (${other.state}) is not listed: ${JSON.stringify(participants).slice(0, 300)}`;
        }
        const expected = other.state === 'joined' ? ['joined', 'away'] : ['ringing'];
        if (!expected.includes(String(listed.state))) {
          return `${other.resource} listed as ${String(listed.state)}, expected ${other.state}`;
        }
        const live = room.others.find(
          (o) => o.resource === other.resource && o.state === other.state,
        );
        if (live && live.id === undefined && room.epoch === epoch) live.id = String(listed.id);
      }
      return undefined;
    };
  }

  private leave(t: Target): Plan {
    const room = t.room && !t.room.ended && t.room.self === 'in' ? t.room : undefined;
    const base = { method: 'room.leave' as const, params: { ...this.junk(), roomId: t.id } };
    if (!room)
      return { ...base, category: 'room-unknown', sub: 'not-in-room', accept: [E.roomNotFound] };
    return {
      ...base,
      category: 'room-valid',
      sub: 'leave',
      accept: ['result'],
      check: emptyResult,
      apply: () => {
        if (room.selfId) this.m.departed.push(room.selfId);
        room.self = 'out';
        room.selfId = undefined;
        room.epoch += 1;
        // The room ends when nobody is joined or away in it (ringing invitees do not count).
        if (!room.others.some((other) => other.state === 'joined')) this.end(room);
      },
    };
  }

  private update(t: Target): Plan {
    const present = t.room && !t.room.ended && t.room.self === 'in';
    const params = { ...this.junk(), roomId: t.id, ...this.flags() };
    return present
      ? {
          category: 'room-valid',
          sub: 'update',
          method: 'room.update',
          params,
          accept: ['result'],
          check: emptyResult,
        }
      : {
          category: 'room-unknown',
          sub: 'update-not-in-room',
          method: 'room.update',
          params,
          accept: [E.roomNotFound],
        };
  }

  /** room.invite: room_not_found, a removed resource, already rung, room_full, nobody, or rung. */
  private invite(t: Target, to: string): Plan {
    const m = this.m;
    const params: Record<string, unknown> = { ...this.junk(), roomId: t.id, to };
    if (this.g.rng.chance(0.3)) params.metadata = this.g.payload(MAX_DEPTH, 1500);
    const plan = (category: RoomCategory, sub: string, accept: Outcome[]): Plan => ({
      category,
      sub: `invite/${sub}`,
      method: 'room.invite',
      params,
      accept,
    });
    const room = t.room && !t.room.ended && t.room.self === 'in' ? t.room : undefined;
    if (!room) return plan('room-unknown', 'not-in-room', [E.roomNotFound]);
    const resource = normalizeIdentity(to);
    if (room.removed.has(resource)) return plan('room-forbidden', 'removed', [E.forbidden]);
    if (room.others.some((o) => o.state === 'ringing' && o.resource === resource)) {
      return plan('room-limits', 'already-ringing', [E.invalidState]);
    }
    if (roomSize(room) >= this.limitsOf.maxRoomParticipants) {
      return plan('room-limits', 'room-full', [E.roomFull]);
    }
    // Rung: every attached session of `to` with rooms:join that is not in the room. The
    // partner's and the filler's are the only ones (the filler never joins the lane's rooms).
    const ringable =
      (resource === m.partner || resource === m.filler) &&
      !room.others.some((o) => o.resource === resource && o.state === 'joined');
    if (!ringable) return plan('room-limits', 'nobody', [E.unavailable]);
    return {
      ...plan('room-valid', resource === m.partner ? 'partner' : 'filler', ['result']),
      check: emptyResult,
      apply: () => room.others.push({ resource, state: 'ringing' }),
    };
  }

  private decline(t: Target): Plan {
    const room = t.room && !t.room.ended ? t.room : undefined;
    const base = { method: 'room.decline' as const, params: { ...this.junk(), roomId: t.id } };
    if (room?.self === 'rung') {
      return {
        ...base,
        category: 'room-valid',
        sub: 'decline',
        accept: ['result'],
        check: emptyResult,
        apply: () => {
          room.self = 'out';
          room.epoch += 1;
          if (!room.others.some((other) => other.state === 'joined')) this.end(room);
        },
      };
    }
    if (room?.self === 'in') {
      return {
        ...base,
        category: 'room-unknown',
        sub: 'decline-participant',
        accept: [E.invalidState],
      };
    }
    return { ...base, category: 'room-unknown', sub: 'decline-not-rung', accept: [E.roomNotFound] };
  }

  private signal(t: Target, to: string, signal: unknown = this.signalValue()): Plan {
    const params = { ...this.junk(), roomId: t.id, to, signal };
    const plan = (category: RoomCategory, sub: string, accept: Outcome[]): Plan => ({
      category,
      sub: `signal/${sub}`,
      method: 'room.signal',
      params,
      accept,
    });
    const room = t.room && !t.room.ended && t.room.self === 'in' ? t.room : undefined;
    if (!room) return plan('room-unknown', 'not-in-room', [E.roomNotFound]);
    if (to === room.selfId) return plan('room-params', 'to-self', [E.invalidParams]);
    const other = room.others.find((o) => o.id === to);
    if (!other) return plan('room-unknown', 'unknown-participant', [E.invalidState]);
    if (other.state === 'ringing')
      return plan('room-unknown', 'ringing-participant', [E.invalidState]);
    return { ...plan('room-valid', 'forwarded', ['result']), check: emptyResult, forward: true };
  }

  /** The checks every moderation method starts with; undefined when they pass. */
  private moderated(method: RoomMethod, t: Target, params: unknown): Plan | RoomState {
    const base = { method, params };
    if (!this.m.scopes.moderate) {
      return {
        ...base,
        category: 'room-forbidden',
        sub: `${method}/no-rooms:moderate`,
        accept: [E.forbidden],
      };
    }
    if (t.foreign) {
      // Another lane's room: a moderator not in it, or gone by now.
      return {
        ...base,
        category: 'room-forbidden',
        sub: `${method}/foreign-room`,
        accept: [E.forbidden, E.roomNotFound],
      };
    }
    const room = t.room && !t.room.ended ? t.room : undefined;
    if (!room)
      return {
        ...base,
        category: 'room-unknown',
        sub: `${method}/unknown-room`,
        accept: [E.roomNotFound],
      };
    if (room.self !== 'in') {
      return {
        ...base,
        category: 'room-forbidden',
        sub: `${method}/not-in-room`,
        accept: [E.forbidden],
      };
    }
    return room;
  }

  private mute(t: Target, participantId: string): Plan {
    const kind = this.g.rng.pick(['audio', 'video']);
    const params = { ...this.junk(), roomId: t.id, participantId, kind };
    const gate = this.moderated('room.mute', t, params);
    if (!('self' in gate)) return gate;
    const room = gate;
    const plan = (category: RoomCategory, sub: string, accept: Outcome[]): Plan => ({
      category,
      sub: `mute/${sub}`,
      method: 'room.mute',
      params,
      accept,
    });
    if (participantId === room.selfId)
      return { ...plan('room-valid', 'self', ['result']), check: emptyResult };
    const other = room.others.find((o) => o.id === participantId);
    if (!other) return plan('room-unknown', 'unknown-participant', [E.invalidState]);
    if (other.state === 'ringing')
      return plan('room-unknown', 'ringing-participant', [E.invalidState]);
    return { ...plan('room-valid', 'other', ['result']), check: emptyResult };
  }

  private remove(t: Target, participantId: string): Plan {
    const params = { ...this.junk(), roomId: t.id, participantId };
    const gate = this.moderated('room.remove', t, params);
    if (!('self' in gate)) return gate;
    const room = gate;
    const plan = (category: RoomCategory, sub: string, accept: Outcome[]): Plan => ({
      category,
      sub: `remove/${sub}`,
      method: 'room.remove',
      params,
      accept,
    });
    const other = room.others.find((o) => o.id === participantId);
    if (participantId === room.selfId) return plan('room-params', 'self', [E.invalidParams]);
    if (!other) return plan('room-unknown', 'unknown-participant', [E.invalidState]);
    return {
      ...plan('room-valid', other.state, ['result']),
      check: emptyResult,
      apply: () => {
        room.others = room.others.filter((o) => o !== other);
        room.removed.add(other.resource);
        this.m.departed.push(participantId);
      },
    };
  }

  private endRoom(t: Target): Plan {
    const params = { ...this.junk(), roomId: t.id };
    const gate = this.moderated('room.end', t, params);
    if (!('self' in gate)) return gate;
    const room = gate;
    return {
      category: 'room-valid',
      sub: 'end',
      method: 'room.end',
      params,
      accept: ['result'],
      check: emptyResult,
      apply: () => this.end(room),
    };
  }

  // ---- categories ---------------------------------------------------------------------

  /** Malformed params for every room method (and the two self-targeting refusals). */
  private params(): Plan {
    const g = this.g;
    const r = g.rng;
    const m = this.m;
    const max = this.limitsOf.maxResourceLength;
    const method = r.pick(ROOM_METHODS);
    const refused: Outcome[] = [this.hasScope(method) ? E.invalidParams : E.forbidden];
    const plan = (sub: string, params: unknown, built?: Built): Plan => ({
      category: 'room-params',
      sub: `${method}/${sub}`,
      method,
      params,
      built,
      accept: refused,
    });
    const present = this.present();
    const own = present.length > 0 ? r.pick(present) : undefined;
    // Short ids only: the deep and huge variants need the rest of the frame small.
    const unknownId = this.unknownTarget().id;
    const roomId =
      own && r.chance(0.6)
        ? (own.id as string)
        : unknownId.length <= 100
          ? unknownId
          : uuidShaped(r.string(32, '0123456789abcdef'));

    const roll = r.int(20);
    if (roll === 0) {
      // Checked before the scope: params must be an object.
      const notObject = r.pick<unknown>([[], [1, 2], 'params', 42, null, true, [{ roomId }]]);
      return { ...plan('params-not-object', notObject), accept: [E.invalidParams] };
    }
    // The two refusals of a request aimed at oneself (docs/PROTOCOL.md, Room errors).
    if (roll < 4 && own?.selfId && !m.diverged && method === 'room.signal') {
      return this.signal(this.target(own), own.selfId);
    }
    if (roll < 4 && own?.selfId && !m.diverged && method === 'room.remove') {
      return this.remove(this.target(own), own.selfId);
    }

    // Valid params for the method, one of which is then spoiled.
    const valid: Record<string, unknown> = {};
    if (method === 'room.join') {
      valid.name = `${m.prefix}${m.fresh++}`;
    } else {
      valid.roomId = roomId;
    }
    if (method === 'room.invite') valid.to = this.nobody();
    if (method === 'room.signal') {
      valid.to = this.anyParticipantId(own);
      valid.signal = this.signalValue();
    }
    if (method === 'room.update') Object.assign(valid, { audioMuted: r.chance(0.5) });
    if (method === 'room.mute' || method === 'room.remove') {
      valid.participantId = this.anyParticipantId(own);
    }
    if (method === 'room.mute') valid.kind = r.pick(['audio', 'video']);
    const spoil = (field: string, value: unknown): Record<string, unknown> => {
      const params = { ...valid };
      if (value === undefined) delete params[field];
      else params[field] = value;
      return params;
    };
    const sized = (sub: string, field: string, head: string): Plan =>
      plan(
        sub,
        undefined,
        g.sized(g.nearLimit(), (pad, id) =>
          g.request(method, { ...valid, [field]: `${head}${pad}` }, id),
        ),
      );
    const deep = (sub: string, field: string): Plan => {
      // The nesting takes up to most of a frame: a signal beside it stays small.
      const small =
        field !== 'signal' && 'signal' in valid
          ? { signal: { type: 'candidate', candidate: null } }
          : {};
      const built = g.request(method, { ...valid, ...small, [field]: DEEP });
      return plan(sub, undefined, {
        ...built,
        data: built.data.replace(JSON.stringify(DEEP), g.nestText(g.randomLevels())),
      });
    };

    const fields: [string, () => Plan][] = [];
    if (method !== 'room.join') {
      fields.push(
        ['roomId-type', () => plan('roomId', spoil('roomId', r.pick(BAD_ROOM_IDS)))],
        ['roomId-huge', () => sized('roomId-huge', 'roomId', 'r'.repeat(MAX_STRING + 1))],
        ['roomId-deep', () => deep('roomId-deep', 'roomId')],
      );
    }
    const badName = (field: string) => () => {
      const value = r.pick(badNames(max));
      if (!resourceProblem(value, max)) throw new Error(`generator bug: ${String(value)} is valid`);
      return plan(`${field}-invalid`, spoil(field, value));
    };
    const badMetadata = () =>
      r.chance(0.5)
        ? deep('metadata-deep', 'metadata')
        : (() => {
            // From one byte over maxMetadataBytes up to a frame's worth.
            const max = this.limitsOf.maxMetadataBytes;
            const id = g.id();
            const over = r.chance(0.3) ? 1 : r.range(2, g.nearLimit() - max - 1200);
            const note = r.chance(0.5)
              ? 'm'.repeat(max + over)
              : '\u00e9'.repeat((max + over) / 2 + 1);
            const metadata = { note: note.slice(0, Math.max(0, note.length - 11)) };
            while (Buffer.byteLength(JSON.stringify(metadata)) <= max) metadata.note += 'm';
            return plan(
              'metadata-over-limit',
              undefined,
              g.request(method, { ...valid, metadata }, id),
            );
          })();
    const badParticipant = (field: string) => () => {
      const value = r.pick(BAD_PARTICIPANT_IDS);
      if (typeof value === 'string' && PARTICIPANT_ID.test(value)) {
        throw new Error(`generator bug: ${value} is a valid participant id`);
      }
      return r.chance(0.15)
        ? sized(`${field}-huge`, field, 'p'.repeat(65))
        : plan(`${field}-invalid`, spoil(field, value));
    };
    const badFlag = () =>
      plan('flag', spoil(r.pick(['audioMuted', 'videoMuted']), r.pick(BAD_FLAGS)));
    switch (method) {
      case 'room.join':
        fields.push(
          ['name', badName('name')],
          ['name-huge', () => sized('name-huge', 'name', `ghost-${'g'.repeat(200)}`)],
          ['metadata', badMetadata],
          ['flag', badFlag],
          ['no-params', () => plan('no-params', undefined)],
        );
        break;
      case 'room.invite':
        fields.push(
          ['to', badName('to')],
          ['to-huge', () => sized('to-huge', 'to', `ghost-${'g'.repeat(200)}`)],
          ['metadata', badMetadata],
        );
        break;
      case 'room.signal':
        fields.push(
          ['to', badParticipant('to')],
          ['signal-missing', () => plan('signal-missing', spoil('signal', undefined))],
          ['signal-deep', () => deep('signal-deep', 'signal')],
        );
        break;
      case 'room.update':
        fields.push(
          ['no-flags', () => plan('no-flags', { roomId: valid.roomId, ...this.junk() })],
          ['flag', badFlag],
        );
        break;
      case 'room.mute':
        fields.push(
          ['participantId', badParticipant('participantId')],
          ['kind', () => plan('kind', spoil('kind', r.pick(BAD_KINDS)))],
        );
        break;
      case 'room.remove':
        fields.push(['participantId', badParticipant('participantId')]);
        break;
      default:
        break;
    }
    return r.pick(fields)[1]();
  }

  /**
   * A room request whose answer does not depend on the rooms (for a life whose model diverged):
   * a random room id, or a method whose scope is missing.
   */
  private blind(): Plan {
    const r = this.g.rng;
    const m = this.m;
    const t: Target = { id: uuidShaped(r.string(32, '0123456789abcdef')) };
    const pid = this.strangerId();
    switch (r.pick(ROOM_METHODS)) {
      case 'room.join':
        return m.scopes.join ? this.leave(t) : this.join(this.freshName().spelling, {}, 'join');
      case 'room.leave':
        return this.leave(t);
      case 'room.invite':
        return this.invite(t, this.nobody());
      case 'room.decline':
        return this.decline(t);
      case 'room.signal':
        return this.signal(t, pid);
      case 'room.update':
        return this.update(t);
      case 'room.mute':
        return this.mute(t, pid);
      case 'room.remove':
        return this.remove(t, pid);
      default:
        return this.endRoom(t);
    }
  }

  /** Missing scopes, moderation outside the room, invites of a removed resource: forbidden. */
  private forbidden(): Plan | undefined {
    const r = this.g.rng;
    const m = this.m;
    const options: (() => Plan)[] = [];
    if (!m.scopes.join) {
      options.push(() => {
        const names = [this.freshName().spelling, ...this.m.rooms.map((room) => room.name)];
        return this.join(r.pick(names), { ...this.flags() }, 'join');
      });
    }
    const anyTarget = (): Target => {
      const known = this.live();
      return known.length > 0 && r.chance(0.5) ? this.target(r.pick(known)) : this.unknownTarget();
    };
    const moderate = (t: Target): Plan => {
      const room = t.room && !t.room.ended ? t.room : undefined;
      const method = r.pick(MODERATION);
      if (method === 'room.end') return this.endRoom(t);
      const pid = this.anyParticipantId(room);
      return method === 'room.mute' ? this.mute(t, pid) : this.remove(t, pid);
    };
    if (!m.scopes.moderate) options.push(() => moderate(anyTarget()));
    else {
      const outside = this.live((room) => room.self !== 'in');
      if (outside.length > 0) options.push(() => moderate(this.target(r.pick(outside))));
      const foreign = this.g.env.foreignRoomIds();
      if (foreign.length > 0) options.push(() => moderate({ id: r.pick(foreign), foreign: true }));
    }
    const withRemoved = this.present().filter((room) => room.removed.size > 0);
    if (withRemoved.length > 0) {
      options.push(() => {
        const room = r.pick(withRemoved);
        return this.invite(this.target(room), r.pick([...room.removed]));
      });
    }
    return options.length > 0 ? r.pick(options)() : undefined;
  }

  /** Unknown, ended, foreign and left rooms; unknown and ringing participants. */
  private unknown(): Plan {
    const r = this.g.rng;
    const m = this.m;
    const present = this.present();
    const outside = this.live((room) => room.self !== 'in');
    const roll = r.int(10);
    if (roll < 3 && present.length > 0) {
      // Participants that are not there (or only being rung), in a room the session is in.
      const room = r.pick(present);
      const t = this.target(room);
      const ringing = room.others.filter((o) => o.state === 'ringing' && o.id !== undefined);
      const pid =
        ringing.length > 0 && r.chance(0.4)
          ? (r.pick(ringing).id as string)
          : this.strangerId(room);
      const choices: (() => Plan)[] = [() => this.signal(t, pid), () => this.decline(t)];
      if (m.scopes.moderate) choices.push(() => this.mute(t, pid));
      if (m.scopes.moderate && !ringing.some((o) => o.id === pid))
        choices.push(() => this.remove(t, pid));
      return r.pick(choices)();
    }
    const t = roll < 5 && outside.length > 0 ? this.target(r.pick(outside)) : this.unknownTarget();
    const methods: RoomMethod[] = [
      'room.leave',
      'room.update',
      'room.signal',
      'room.invite',
      'room.decline',
    ];
    // Moderation of a room that may exist is a forbidden frame; here only where none does.
    if (m.scopes.moderate && !t.foreign && !(t.room && !t.room.ended)) methods.push(...MODERATION);
    switch (r.pick(methods)) {
      case 'room.leave':
        return this.leave(t);
      case 'room.update':
        return this.update(t);
      case 'room.signal':
        return this.signal(t, this.anyParticipantId(t.room), this.signalValue());
      case 'room.invite':
        return this.invite(t, r.chance(0.5) ? m.partner : this.nobody());
      case 'room.decline':
        // A rung room's decline is valid: another method for it.
        return t.room?.self === 'rung' && !t.room.ended ? this.leave(t) : this.decline(t);
      case 'room.mute':
        return this.mute(t, this.strangerId());
      case 'room.remove':
        return this.remove(t, this.strangerId());
      default:
        return this.endRoom(t);
    }
  }

  /** maxRoomsPerSession, full rooms, invites nobody can take or of someone being rung. */
  private limits(): Plan | undefined {
    const r = this.g.rng;
    const m = this.m;
    const options: (() => Plan)[] = [];
    const atLimit = this.inCount() >= this.limitsOf.maxRoomsPerSession;
    if (m.scopes.join) {
      const full = this.live(
        (room) => room.self === 'out' && roomSize(room) >= this.limitsOf.maxRoomParticipants,
      );
      if (full.length > 0)
        options.push(() => this.join(r.pick(full).name, this.flags(), 'join-full'));
      if (atLimit) {
        options.push(() => {
          const others = this.m.rooms.filter((room) => room.self !== 'in');
          const name =
            others.length > 0 && r.chance(0.5) ? r.pick(others).name : this.freshName().spelling;
          return this.join(name, {}, 'join-past-limit');
        });
      }
    }
    const present = this.present();
    if (present.length > 0) {
      options.push(() => {
        const room = r.pick(present);
        const ringing = room.others.filter((o) => o.state === 'ringing');
        const to =
          ringing.length > 0 && r.chance(0.4)
            ? r.pick(ringing).resource
            : r.chance(0.3)
              ? r.pick([m.partner, m.filler])
              : this.nobody();
        return this.invite(this.target(room), to);
      });
    }
    return options.length > 0 ? r.pick(options)() : undefined;
  }

  /** Valid requests, odd ones among them: each gets a result (checked), or peer_backlogged. */
  private valid(): Plan | undefined {
    const g = this.g;
    const r = g.rng;
    const m = this.m;
    const options: [number, () => Plan][] = [];
    const present = this.present();
    if (m.scopes.join) {
      options.push([3, () => this.join(...this.freshJoin())]);
      const inRooms = this.m.rooms.filter((room) => !room.ended && room.self === 'in');
      if (inRooms.length > 0) {
        options.push([
          2,
          () => {
            const room = r.pick(inRooms);
            const spelling = r.pick([room.name, ...room.spellings]);
            const extra = r.chance(0.3)
              ? { participantId: this.strangerId(room), ...this.flags() }
              : {};
            return this.join(spelling, extra, 'join-again');
          },
        ]);
      }
      const rejoinable = this.m.rooms.filter(
        (room) =>
          room.self !== 'in' &&
          (room.ended ||
            roomSize(room) < this.limitsOf.maxRoomParticipants ||
            room.self === 'rung'),
      );
      if (rejoinable.length > 0) {
        options.push([
          2,
          () => {
            const room = r.pick(rejoinable);
            // An id: taken (the partner's), free (one that left, or any), or none.
            const taken = room.others.find((o) => o.id !== undefined)?.id;
            const participantId = r.pick([taken, this.strangerId(room), undefined]);
            const extra = participantId === undefined ? {} : { participantId };
            return this.join(
              r.pick([room.name, ...room.spellings]),
              extra,
              room.ended ? 'join-ended-name' : room.self === 'rung' ? 'join-invited' : 'join-left',
            );
          },
        ]);
      }
    }
    if (present.length > 0) {
      const room = r.pick(present);
      const t = this.target(room);
      const joined = room.others.filter((o) => o.state === 'joined' && o.id !== undefined);
      options.push([1, () => this.leave(t)], [2, () => this.update(t)]);
      if (joined.length > 0) {
        options.push([
          5,
          () => {
            const to = r.pick(joined).id as string;
            if (!r.chance(0.15)) return this.signal(t, to);
            // A signal as large as a frame takes.
            const built = g.sized(g.nearLimit(), (pad, id) =>
              g.request('room.signal', { roomId: room.id, to, signal: { sdp: pad } }, id),
            );
            return { ...this.signal(t, to, null), built, sub: 'signal/forwarded-huge' };
          },
        ]);
      }
      options.push([1, () => this.invite(t, r.pick([m.partner, m.filler]))]);
      if (m.scopes.moderate) {
        const selfId = room.selfId;
        if (selfId || joined.length > 0) {
          options.push([
            1,
            () =>
              this.mute(
                t,
                selfId && (joined.length === 0 || r.chance(0.3))
                  ? selfId
                  : (r.pick(joined).id as string),
              ),
          ]);
        }
        const removable = room.others.filter((o) => o.id !== undefined);
        if (removable.length > 0)
          options.push([1, () => this.remove(t, r.pick(removable).id as string)]);
        options.push([0.5, () => this.endRoom(t)]);
      }
    }
    const rung = this.live((room) => room.self === 'rung');
    if (rung.length > 0) options.push([1, () => this.decline(this.target(r.pick(rung)))]);
    if (options.length === 0) return undefined;
    const total = options.reduce((sum, [weight]) => sum + weight, 0);
    let roll = r.next() * total;
    for (const [weight, make] of options) {
      roll -= weight;
      if (roll < 0) return make();
    }
    return (options[options.length - 1] as [number, () => Plan])[1]();
  }

  /** A join of a fresh room, with odd but valid params. */
  private freshJoin(): [string, Record<string, unknown>, string] {
    const g = this.g;
    const r = g.rng;
    const { spelling } = this.freshName();
    const extra: Record<string, unknown> = { ...this.flags() };
    if (r.chance(0.4)) {
      const roll = r.int(3);
      extra.metadata =
        roll === 0
          ? g.payload(MAX_DEPTH, this.limitsOf.maxMetadataBytes)
          : roll === 1
            ? // Exactly maxMetadataBytes of JSON, in two-byte characters.
              { n: '\u00e9'.repeat(Math.floor((this.limitsOf.maxMetadataBytes - 8) / 2)) }
            : { displayName: r.unicode(r.range(1, 40)), at: 1e308, '': null };
    }
    // A participantId to take: free and well-formed (taken), malformed or huge (a new id), or
    // nested past the payload depth (docs/PROTOCOL.md: a malformed one is not an error).
    const roll = r.int(8);
    if (roll < 3) extra.participantId = this.strangerId();
    else if (roll === 3)
      extra.participantId = r.pick(BAD_PARTICIPANT_IDS.filter((v) => v !== undefined));
    else if (roll === 4) extra.participantId = 'p'.repeat(MAX_STRING + 1);
    else if (roll === 5) extra.participantId = nestValue(r.range(MAX_DEPTH + 1, 40), 'p');
    return [spelling, extra, 'join-fresh'];
  }
}

function emptyResult(result: unknown): string | undefined {
  if (result === undefined) return undefined;
  return typeof result === 'object' && result !== null && Object.keys(result).length === 0
    ? undefined
    : `expected {}, got ${JSON.stringify(result).slice(0, 120)}`;
}

function uuidShaped(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function nestValue(levels: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { p: value };
  return value;
}
