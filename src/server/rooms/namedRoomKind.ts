import type { IdSet } from './CompactSet.js';
import { ServerEvents, type LeftReason, type RoomEndReason } from '../../protocol/index.js';
import type { Leg } from './Leg.js';
import { copy, type Member, type Room } from './Room.js';
import type { RoomKind } from './RoomKind.js';
import type { RoomNotifier } from './RoomNotifier.js';
import type { SfuMedia } from './SfuMedia.js';
import { tellAssisted } from './tellAssisted.js';
import { auditLeave } from '../supervision/auditAssist.js';

/**
 * Named mesh rooms (`room.*`): a participant leaving is announced to those present and to the
 * legs it was rung on, and the room ends once nobody is left in it; rung legs go on ringing
 * while detached (they may resume and join); a room counts against maxRoomsPerSession through
 * `leg.rooms` once joined, not while it rings.
 */
export class NamedRoomKind implements RoomKind {
  readonly name = 'room';
  readonly ringHeld = false;
  readonly ringsWhileDetached = true;
  readonly endsOnDeparture = false;
  /** Told when a room of this node ends (a cluster lets another node hold that name next). */
  onRoomGone: ((projectId: string, name: string) => void) | undefined;

  constructor(
    private readonly tell: RoomNotifier,
    /** ms since the epoch, for the assist audit. */
    private readonly now: () => number,
    /** Told of departures and ends in `sfu` rooms. */
    private readonly sfu?: SfuMedia,
  ) {}

  held(leg: Leg): IdSet<string> {
    return leg.rooms;
  }

  left(room: Room, member: Member, reason: string, from: string | null): void {
    if (room.media === 'sfu') this.sfu?.left(room, member);
    const left = {
      roomId: room.id,
      from,
      participant: copy(member.participant),
      reason: reason as LeftReason,
    };
    this.tell.present(room, ServerEvents.roomLeft, left);
    for (const legId of member.rung) this.tell.leg(legId, ServerEvents.roomLeft, left);
    if (member.assist === undefined) return;
    auditLeave(room.assists, member.participant.id, this.now());
    tellAssisted(this.tell, room);
  }

  ended(room: Room, _member: Member, legId: string, reason: string, from: string | null): void {
    const ended = { roomId: room.id, from, reason: reason as RoomEndReason };
    this.tell.leg(legId, ServerEvents.roomEnded, ended);
  }

  ringDropped(): void {
    // Rung legs of rooms go on ringing while detached.
  }

  presence(room: Room, member: Member): void {
    const updated = { roomId: room.id, from: null, participant: copy(member.participant) };
    this.tell.present(room, ServerEvents.roomUpdated, updated, member);
  }

  closed(room: Room): void {
    if (room.media === 'sfu') this.sfu?.closed(room);
    this.onRoomGone?.(room.projectId, room.name);
  }
}
