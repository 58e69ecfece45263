import type { IdSet } from './CompactSet.js';
import type { Leg } from './Leg.js';
import type { Member, Room, RoomKindName } from './Room.js';

/**
 * What differs between kinds of rooms (named rooms, 1:1 calls): the RoomEngine moves
 * participants in and out the same way for every kind; the kind says what that means for
 * membership counts and end rules, and renders what each leg is told.
 */
export interface RoomKind {
  readonly name: RoomKindName;
  /** Ids of this kind's rooms the leg is in (a call's are its rung legs' too: see ringHeld). */
  held(leg: Leg): IdSet<string>;
  /** Whether a rung leg holds the room's id in held(): a ringing call counts as a call. */
  readonly ringHeld: boolean;
  /** Whether a rung leg whose socket dropped goes on being rung (rooms) or stops (calls). */
  readonly ringsWhileDetached: boolean;
  /** Whether the room ends as soon as any participant leaves (calls), not once it is empty. */
  readonly endsOnDeparture: boolean;
  /** A participant left a room that goes on: tell those present and the legs it was rung on. */
  left(room: Room, member: Member, reason: string, from: string | null): void;
  /** The room ended: tell one leg of a participant (never the leg that ended it). */
  ended(room: Room, member: Member, legId: string, reason: string, from: string | null): void;
  /** A rung leg stopped ringing as its socket dropped (kinds that do not ring detached legs). */
  ringDropped(room: Room, leg: Leg): void;
  /** A present participant went away or came back: tell the others present. */
  presence(room: Room, member: Member): void;
  /** The room is gone from this node (nobody is told here: see ended). */
  closed(room: Room): void;
}
