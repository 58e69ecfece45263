import type { EventName, EventParams } from '../../protocol/index.js';
import type { Leg, LegDirectory } from './Leg.js';
import type { Member, Room } from './Room.js';

/** Delivers room events to legs found by id, and reports the legs whose buffer overflowed. */
export class RoomNotifier {
  constructor(
    private readonly directory: LegDirectory,
    /** Called when a leg's resume buffer overflowed; must defer ending it (not re-enter). */
    private readonly onOverflow: (leg: Leg) => void,
  ) {}

  /** Tells every joined or away participant of the room but `except`. */
  present<E extends EventName>(
    room: Room,
    event: E,
    params: EventParams<E>,
    except?: Member,
  ): void {
    for (const member of room.present()) {
      if (member !== except) this.leg(member.legId, event, params);
    }
  }

  /** Tells a leg by id; nothing when it is gone (or null). */
  leg<E extends EventName>(legId: string | null, event: E, params: EventParams<E>): void {
    const leg = legId === null ? undefined : this.directory.get(legId);
    if (leg) this.send(leg, event, params);
  }

  send<E extends EventName>(leg: Leg, event: E, params: EventParams<E>): void {
    if (!leg.notify(event, params)) this.onOverflow(leg);
  }
}
