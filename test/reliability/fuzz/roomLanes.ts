/**
 * The rooms of an authenticated lane (the frames are roomFrames.ts').
 *
 * Every lane's token has calls:dial and calls:receive; the room scopes go by lane number (none,
 * rooms:moderate alone, rooms:join, both), so every room method is sent with and without its
 * scope. Each lane has, besides its call partner:
 * - the partner (rooms:join too): between lives it joins the lane's rooms, so the lane has
 *   someone to signal, mute, remove and be refused over; it may be rung by the lane's invites;
 * - the filler (rooms:join only): with the partner it holds the lane's full room (at
 *   maxRoomParticipants) for the lane's whole run; it may be rung by the lane's invites.
 * Each life (of a lane with rooms:join) starts in a room of its own (the partner in it first, or
 * not) and, now and then, rung by the partner into another; at its end the partner leaves what
 * it is still in, so no room outlives its life. Room names carry the lane and life: no two lanes
 * share a room, and only this lane's socket and partner change its rooms.
 */
import type { Scope } from 'relaycall/server';
import { Partner, type Harness } from './lanes.js';
import { newRoom, type RoomModel, type RoomScopes, type RoomState } from './roomFrames.js';
import type { FrameGen } from './frames.js';
import type { FuzzSocket, Notification } from './socket.js';
import type { Rng } from './prng.js';

const CALLS: Scope[] = ['calls:dial', 'calls:receive'];

/** Room scopes by lane number: none, moderation alone, joining, both. */
export function laneRoomScopes(lane: number): RoomScopes {
  return [
    { join: false, moderate: false },
    { join: false, moderate: true },
    { join: true, moderate: false },
    { join: true, moderate: true },
  ][lane % 4] as RoomScopes;
}

export function laneScopes(lane: number): Scope[] {
  const { join, moderate } = laneRoomScopes(lane);
  return [
    ...CALLS,
    ...(join ? (['rooms:join'] as const) : []),
    ...(moderate ? (['rooms:moderate'] as const) : []),
  ];
}

export const PARTNER_SCOPES: Scope[] = [...CALLS, 'rooms:join'];
const FILLER_SCOPES: Scope[] = ['rooms:join'];

/** A lane's room sessions, and the full room they hold. */
export class LaneRooms {
  private full!: { id: string; name: string; partnerId: string; fillerId: string };
  private rebuilt = 0;

  private constructor(
    private readonly h: Harness,
    private readonly lane: number,
    readonly scopes: RoomScopes,
    public filler: Partner,
  ) {}

  static async start(h: Harness, lane: number, partner: Partner): Promise<LaneRooms> {
    const filler = await Partner.connect(
      h,
      `fz-f${lane}`,
      `authed lane ${lane} filler`,
      FILLER_SCOPES,
    );
    const rooms = new LaneRooms(h, lane, laneRoomScopes(lane), filler);
    await rooms.fill(partner);
    return rooms;
  }

  /** The partner and the filler join a room of the lane's own: full at maxRoomParticipants 2. */
  private async fill(partner: Partner): Promise<void> {
    const name = `fz-y${this.lane}${this.rebuilt > 0 ? `.${this.rebuilt}` : ''}`;
    const a = await partner.sock.call('room.join', { name });
    const b = await this.filler.sock.call('room.join', { name });
    if (a.roomId !== b.roomId || (b.participants as unknown[]).length !== 2) {
      this.h.log.fail(
        `authed lane ${this.lane}`,
        `the full room was not set up: ${JSON.stringify(b)}`,
      );
    }
    this.full = {
      id: String(a.roomId),
      name,
      partnerId: String(a.participantId),
      fillerId: String(b.participantId),
    };
    this.h.registry.setRooms(`y${this.lane}`, [this.full.id]);
  }

  /** After a partner or filler was lost (a failure already): both anew, and a new full room. */
  async rebuild(partner: Partner): Promise<void> {
    if (!this.filler.sock.open) {
      this.h.log.fail(
        `authed lane ${this.lane}`,
        `the filler's socket closed (${this.filler.sock.closeCode})`,
      );
    }
    await this.filler.sock.close();
    this.filler = await Partner.connect(
      this.h,
      `fz-f${this.lane}`,
      `authed lane ${this.lane} filler`,
      FILLER_SCOPES,
    );
    this.rebuilt += 1;
    await this.fill(partner);
  }

  async close(): Promise<void> {
    this.h.registry.remove(`y${this.lane}`);
    await this.filler.sock.close();
  }

  /**
   * The model of a life's rooms, and its setup: the session joins a room of its own (with the
   * partner in it first, asking for the partner's id: taken, so it gets another; or alone,
   * asking for a free one), and is rung by the partner into another now and then.
   */
  async setUpLife(
    where: string,
    life: number,
    rng: Rng,
    sock: FuzzSocket,
    gen: FrameGen,
    resource: string,
    partner: Partner,
  ): Promise<RoomModel> {
    const full = newRoom(this.full.name, 'out');
    full.id = this.full.id;
    full.others = [
      { resource: partner.resource, state: 'joined', id: this.full.partnerId },
      { resource: this.filler.resource, state: 'joined', id: this.full.fillerId },
    ];
    const model: RoomModel = {
      scopes: this.scopes,
      resource,
      partner: partner.resource,
      filler: this.filler.resource,
      roomless: this.h.env.roomless,
      prefix: `fz-r${this.lane}.${life}.`,
      fresh: 0,
      rooms: [full],
      departed: [],
      forwarded: 0,
      unconfirmed: 0,
      diverged: false,
    };
    gen.model.rooms = model;
    sock.onNotification = (event) => onLaneEvent(this.h, where, model, event);
    if (!this.scopes.join) return model;

    const main = `${model.prefix}main${rng.pick(['', '-Rene\u0301e', '-群衆', '-😀'])}`;
    if (rng.chance(0.6)) {
      const joined = await partner.sock.call('room.join', { name: main });
      const room = newRoom(main.normalize('NFC'), 'out', main);
      room.id = String(joined.roomId);
      room.others.push({
        resource: partner.resource,
        state: 'joined',
        id: String(joined.participantId),
      });
      model.rooms.push(room);
      sock.send(gen.roomFrames.setupJoin(main, String(joined.participantId)));
    } else {
      sock.send(gen.roomFrames.setupJoin(main, `p-${rng.string(12, 'abcdef0123456789')}`));
    }
    if (!(await sock.fence())) return model;

    if (rng.chance(0.4)) {
      const name = `${model.prefix}rung`;
      const joined = await partner.sock.call('room.join', { name });
      const room = newRoom(name, 'rung');
      room.id = String(joined.roomId);
      room.others.push({
        resource: partner.resource,
        state: 'joined',
        id: String(joined.participantId),
      });
      model.rooms.push(room);
      await partner.sock.call('room.invite', { roomId: room.id, to: resource });
    }
    return model;
  }

  /**
   * The end of a life (its session has ended): the partner received the room signals accepted
   * for it, and leaves every room of the life it is still in, ending them.
   */
  async endLife(where: string, model: RoomModel, partner: Partner): Promise<void> {
    const ids = model.rooms
      .filter((room) => room.id !== undefined && room.id !== this.full.id)
      .map((room) => room.id as string);
    const got = () => ids.reduce((sum, id) => sum + (partner.roomSignals.get(id) ?? 0), 0);
    const least = model.forwarded - model.unconfirmed;
    await partner.until(() => got() >= least, 2_000);
    const received = got();
    if (received < least || received > model.forwarded) {
      this.h.log.fail(
        where,
        `the partner received ${received} room signals; ${least}–${model.forwarded} were accepted`,
      );
    }
    for (const id of ids) partner.roomSignals.delete(id);
    for (const room of model.rooms) {
      if (room.id === undefined || room.id === this.full.id) continue;
      const inIt = !room.ended && partnerIn(room, partner.resource);
      // After a failure the model may be wrong: the partner leaves whatever it may still be in.
      if (!inIt && !model.diverged) continue;
      const reply = await partner.sock.control('room.leave', { roomId: room.id });
      if (reply.error && inIt && !model.diverged) {
        this.h.log.fail(
          where,
          `the partner could not leave room ${room.name}: ${reply.error.code} ${reply.error.data?.code}`,
        );
      }
    }
  }
}

function partnerIn(room: RoomState, partner: string): boolean {
  return room.others.some((other) => other.resource === partner && other.state === 'joined');
}

/**
 * What the lane's session is told about rooms. Ringing participants' ids are learned here. Only
 * the session's own requests change its rooms, and those tell it nothing it could be surprised
 * by: nobody signals it, nobody removes it, and a room it is in or rung into never ends while
 * it lives (it gets no room.ended for a room it ends itself).
 */
function onLaneEvent(h: Harness, where: string, model: RoomModel, event: Notification): void {
  if (!event.method.startsWith('room.')) return;
  const { params } = event;
  const room = model.rooms.find((r) => r.id !== undefined && r.id === params.roomId);
  const participant = params.participant as { id?: unknown; resource?: unknown; state?: unknown };
  switch (event.method) {
    case 'room.joined':
      if (room && participant?.state === 'ringing') {
        const other = room.others.find(
          (o) => o.state === 'ringing' && o.resource === participant.resource && !o.id,
        );
        if (other) other.id = String(participant.id);
      }
      return;
    case 'room.left':
      if (room?.selfId !== undefined && participant?.id === room.selfId) {
        h.log.fail(where, `told it left room ${room.name} (${String(params.reason)})`);
      }
      return;
    case 'room.ended':
      h.log.fail(
        where,
        `room.ended (${String(params.reason)}) for ${room?.name ?? String(params.roomId)}`,
      );
      return;
    case 'room.signal':
      h.log.fail(where, `a room.signal nobody sent: ${JSON.stringify(params).slice(0, 120)}`);
      return;
    case 'room.invited':
      if (!room || params.name !== room.name || params.by !== model.partner) {
        h.log.fail(where, `an invitation nobody sent: ${JSON.stringify(params).slice(0, 160)}`);
      }
      return;
    default:
      return;
  }
}
