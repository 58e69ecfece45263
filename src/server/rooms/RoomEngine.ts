import type { RelayLimits } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { addTo, removeFrom } from './indexSets.js';
import type { Leg, LegDirectory } from './Leg.js';
import { newParticipantId } from './participantId.js';
import { NO_LEGS, newMember, type Member, type Room, type RoomKindName } from './Room.js';
import type { RoomKind } from './RoomKind.js';
import { RoomNotifier } from './RoomNotifier.js';
import { RoomRegistry } from './RoomRegistry.js';

/**
 * The one membership engine of a node, for rooms of every kind (named rooms and 1:1 calls):
 * it holds them in one registry and moves their participants: ring, answer (attach), depart,
 * close, away and back. Each move's meaning for the others (events, end rules) is the room's
 * kind's ({@link RoomKind}); the managers (RoomManager, CallManager) check requests and call
 * these moves.
 */
export class RoomEngine {
  readonly registry: RoomRegistry;
  readonly tell: RoomNotifier;
  /** Rooms each leg is being rung into (by leg id), of every kind. */
  private readonly invitations = new Map<string, Set<string>>();
  /** In the order their legs hear of a session's changes. */
  private readonly kinds = new Map<RoomKindName, RoomKind>();
  /** Told of every change of a room's membership (supervision lists rooms from it). */
  onChange: ((roomId: string) => void) | undefined;
  /** Told when a room or call ends, and why (`unreachable`: discarded, nobody could be rung). */
  onClosed: ((room: Room, reason: string) => void) | undefined;

  constructor(
    readonly directory: LegDirectory,
    private readonly limits: RelayLimits,
    readonly clock: Clock,
    /** Called when a leg's resume buffer overflowed; must defer ending it (not re-enter). */
    onOverflow: (leg: Leg) => void,
  ) {
    this.registry = new RoomRegistry(limits, () => clock.now());
    this.tell = new RoomNotifier(directory, onOverflow);
  }

  /** Makes a kind of room known (once per kind; the first registered hears of legs first). */
  register(kind: RoomKind): void {
    this.kinds.set(kind.name, kind);
  }

  /** A live room of that id and kind. */
  room(roomId: string, kind: RoomKindName): Room | undefined {
    return this.registry.get(roomId, kind);
  }

  /** Whether the room is still live. */
  holds(room: Room): boolean {
    return this.registry.holds(room);
  }

  /** A new joined participant of a leg. */
  enter(room: Room, leg: Leg, participantId: string): Member {
    const member = newMember(participantId, leg.resource, leg.id);
    room.add(member);
    this.kindOf(room).held(leg).add(room.id);
    this.changed(room);
    return member;
  }

  /** Tells `onChange` of a change in the room. */
  changed(room: Room): void {
    this.onChange?.(room.id);
  }

  /**
   * A new participant of `resource`, ringing on `legs` until one of them answers (attach), or
   * `ringTimeoutMs` passes (it departs with `no-answer`). The kind tells the legs they ring.
   */
  ring(room: Room, resource: string, legs: readonly Leg[]): Member {
    const member = newMember(
      newParticipantId(),
      resource,
      null,
      legs.map((leg) => leg.id),
    );
    room.add(member);
    member.ringTimer = this.clock.setTimeout(
      () => this.depart(room, member, 'no-answer', null, null),
      this.limits.ringTimeoutMs,
    );
    const kind = this.kindOf(room);
    for (const leg of legs) {
      addTo(this.invitations, leg.id, room.id);
      if (kind.ringHeld) kind.held(leg).add(room.id);
    }
    this.changed(room);
    return member;
  }

  /**
   * A leg answers for a ringing participant and becomes it; the participant's other rung legs
   * stop ringing. Returns those legs (the caller tells them, in its kind's words).
   */
  attach(room: Room, member: Member, leg: Leg): string[] {
    this.stopTimer(member);
    member.rung.delete(leg.id);
    removeFrom(this.invitations, leg.id, room.id);
    const others = [...member.rung];
    for (const legId of others) this.letGo(room, legId);
    member.rung = NO_LEGS;
    room.attach(member, leg.id);
    this.kindOf(room).held(leg).add(room.id);
    this.changed(room);
    return others;
  }

  /** One rung leg stops ringing (told by the caller); true when none is left ringing. */
  unring(room: Room, member: Member, legId: string): boolean {
    if (!member.rung.delete(legId)) return false;
    this.letGo(room, legId);
    return member.rung.size === 0;
  }

  /**
   * Takes a participant out of its room, tells who must know, and ends the room when its kind
   * says so (a call: at once; a room: once nobody is left in it). `by` is the leg that made
   * it leave, not told of an end it caused.
   */
  depart(room: Room, member: Member, reason: string, from: string | null, by: string | null): void {
    // Once only: a ring timer, a removal and a leg's end may race for the same participant.
    if (!this.registry.holds(room) || room.member(member.participant.id) !== member) return;
    const kind = this.kindOf(room);
    this.changed(room);
    // A supervisor leaving a call does not end it: only its parties' departures do.
    if (kind.endsOnDeparture && member.assist === undefined) {
      this.close(room, reason, from, by);
      return;
    }
    this.stopTimer(member);
    const leg = member.legId === null ? undefined : this.directory.get(member.legId);
    if (leg) kind.held(leg).delete(room.id);
    room.delete(member);
    kind.left(room, member, reason, from);
    for (const legId of member.rung) this.letGo(room, legId);
    member.rung.clear();
    if (!room.occupied) this.close(room, 'empty', null, null);
  }

  /** Ends a room for everyone in it and rung into it but `by` (the leg that ended it). */
  close(room: Room, reason: string, from: string | null, by: string | null): void {
    const forgotten = this.forget(room, (member, legId) => {
      if (legId !== by) this.kindOf(room).ended(room, member, legId, reason, from);
    });
    if (forgotten) this.onClosed?.(room, reason);
  }

  /** Ends a room without telling anyone (a call none of whose rings could be placed). */
  discard(room: Room): void {
    // Nobody is told: the invite's reply says why.
    if (this.forget(room, () => undefined)) this.onClosed?.(room, 'unreachable');
  }

  /** The leg's socket dropped: it is away where present, and stops ringing where its kind says. */
  detached(leg: Leg, only?: RoomKindName): void {
    for (const kind of this.kindsOf(only)) {
      if (!kind.ringsWhileDetached) {
        for (const { room, member } of this.ringing(leg, kind)) {
          kind.ringDropped(room, leg);
          if (this.unring(room, member, leg.id)) {
            this.depart(room, member, 'disconnected', null, null);
          }
        }
      }
      this.setPresence(leg, kind, 'away');
    }
  }

  /** The leg resumed: it is back wherever it is present. */
  resumed(leg: Leg, only?: RoomKindName): void {
    for (const kind of this.kindsOf(only)) this.setPresence(leg, kind, 'joined');
  }

  /**
   * The leg is gone for good: it leaves its rooms (`disconnected`) and stops being rung; a
   * participant whose last rung leg went leaves with `disconnected` too.
   */
  ended(leg: Leg, only?: RoomKindName): void {
    for (const kind of this.kindsOf(only)) {
      const held = kind.held(leg);
      for (const roomId of [...held]) {
        const room = this.registry.get(roomId, kind.name);
        const member = room?.memberOf(leg.id);
        if (room && member) this.depart(room, member, 'disconnected', null, leg.id);
      }
      for (const { room, member } of this.ringing(leg, kind)) {
        if (this.unring(room, member, leg.id)) {
          this.depart(room, member, 'disconnected', null, null);
        }
      }
      held.clear();
    }
  }

  /** Every participant a leg is being rung for, in rooms of a kind. */
  private ringing(leg: Leg, kind: RoomKind): { room: Room; member: Member }[] {
    const found: { room: Room; member: Member }[] = [];
    for (const roomId of [...(this.invitations.get(leg.id) ?? [])]) {
      const room = this.registry.get(roomId, kind.name);
      const member = room?.ringingOn(leg.id);
      if (room && member) found.push({ room, member });
    }
    return found;
  }

  private setPresence(leg: Leg, kind: RoomKind, state: 'away' | 'joined'): void {
    for (const roomId of kind.held(leg)) {
      const room = this.registry.get(roomId, kind.name);
      const member = room?.memberOf(leg.id);
      if (!room || !member || member.participant.state === state) continue;
      member.participant.state = state;
      kind.presence(room, member);
      this.changed(room);
    }
  }

  /**
   * Unregisters a room, letting go of every leg in it or rung into it, each passed to `each`;
   * false when it was gone already.
   */
  private forget(room: Room, each: (member: Member, legId: string) => void): boolean {
    if (!this.registry.delete(room)) return false;
    const kind = this.kindOf(room);
    kind.closed(room);
    this.changed(room);
    for (const member of room.members()) {
      this.stopTimer(member);
      const legs = member.legId === null ? [...member.rung] : [member.legId];
      for (const legId of legs) {
        const leg = this.directory.get(legId);
        if (leg) kind.held(leg).delete(room.id);
        removeFrom(this.invitations, legId, room.id);
        each(member, legId);
      }
    }
    return true;
  }

  /** A rung leg is rung no more. */
  private letGo(room: Room, legId: string): void {
    removeFrom(this.invitations, legId, room.id);
    const kind = this.kindOf(room);
    const leg = kind.ringHeld ? this.directory.get(legId) : undefined;
    if (leg) kind.held(leg).delete(room.id);
  }

  private stopTimer(member: Member): void {
    this.clock.clearTimeout(member.ringTimer);
    // Dropped, not only cleared: a cleared timer object kept per participant is memory for nothing.
    member.ringTimer = undefined;
  }

  private kindOf(room: Room): RoomKind {
    return this.kinds.get(room.kind) as RoomKind;
  }

  private kindsOf(only: RoomKindName | undefined): RoomKind[] {
    const all = [...this.kinds.values()];
    return only ? all.filter((kind) => kind.name === only) : all;
  }
}
