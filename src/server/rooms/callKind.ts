import type { IdSet } from './CompactSet.js';
import { ServerEvents, type EndReason } from '../../protocol/index.js';
import type { Leg } from './Leg.js';
import type { Member, Room } from './Room.js';
import type { RoomKind } from './RoomKind.js';
import type { RoomNotifier } from './RoomNotifier.js';
import { tellAssisted } from './tellAssisted.js';
import { auditLeave } from '../supervision/auditAssist.js';

/** A leg of calls: a signaling session, whose `calls` hold its calls, ringing ones included. */
export interface CallLeg extends Leg {
  readonly calls: IdSet<string>;
}

/**
 * 1:1 calls (`call.*`), rooms of two: the call ends as soon as either party leaves, and everyone
 * else in it or rung for it is told why with `call.ended`; a callee that never answered hears
 * of the caller's disconnection as `cancelled`. A rung leg stops ringing when its socket drops
 * (and is told so). A call counts against maxCallsPerSession through `session.calls` from its
 * first ring. Away and back are `call.peer` to the other party.
 */
export class CallKind implements RoomKind {
  readonly name = 'call';
  readonly ringHeld = true;
  readonly ringsWhileDetached = false;
  readonly endsOnDeparture = true;

  constructor(
    private readonly tell: RoomNotifier,
    /** ms since the epoch, for the assist audit. */
    private readonly now: () => number,
  ) {}

  held(leg: Leg): IdSet<string> {
    return (leg as CallLeg).calls;
  }

  left(room: Room, member: Member): void {
    // Only supervisors leave a call that goes on (a party's departure ends it): the others
    // learn who supervises it now.
    if (member.assist === undefined) return;
    auditLeave(room.assists, member.participant.id, this.now());
    tellAssisted(this.tell, room);
  }

  ended(room: Room, member: Member, legId: string, reason: string): void {
    // Callees that never answered see a caller's end as a cancellation.
    const told = reason === 'disconnected' && member.legId === null ? 'cancelled' : reason;
    this.tell.leg(legId, ServerEvents.ended, { callId: room.id, reason: told as EndReason });
  }

  ringDropped(room: Room, leg: Leg): void {
    this.tell.send(leg, ServerEvents.ended, { callId: room.id, reason: 'disconnected' });
  }

  presence(room: Room, member: Member): void {
    // A supervisor's connection is its own business; the parties' is each other's.
    if (member.assist !== undefined) return;
    const connected = member.participant.state !== 'away';
    for (const other of room.parties()) {
      if (other !== member) {
        this.tell.leg(other.legId, ServerEvents.peer, { callId: room.id, connected });
      }
    }
  }

  closed(): void {
    // Calls have no name to release.
  }
}
