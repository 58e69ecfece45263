import type {
  AssistAudit,
  AssistMode,
  Participant,
  RoomJoinResult,
  RoomMedia,
} from '../../protocol/index.js';
import { CompactSet, type IdSet } from './CompactSet.js';
import type { CallLedger } from './callLedger.js';

/** What a room is: a named mesh room (`room.*`), or a 1:1 call (`call.*`), a room of two. */
export type RoomKindName = 'room' | 'call';

/** A participant as its room keeps it: what the others are shown, and how it is reached. */
export interface Member {
  /** What results and events show (copied into each, never shared). */
  readonly participant: Participant;
  /** The leg in the room; null while ringing. */
  legId: string | null;
  /** While ringing: the legs rung (sessions of its resource), until one joins; then none. */
  rung: IdSet<string>;
  /** While ringing: ends the invitation with `no-answer`. */
  ringTimer: unknown;
  /** Supervisors (`call.assist`): how they assist; undefined for the room's own participants. */
  assist: Assist | undefined;
}

/** How a supervisor assists its room. */
export interface Assist {
  mode: AssistMode;
  /** Whisper: the participant id of the one participant who hears the supervisor. */
  agent: string | undefined;
  /** When it took this mode, ms since the epoch. */
  since: number;
}

/**
 * A room of one project: its participants, by id and by leg. It holds no behaviour but
 * bookkeeping; the RoomEngine moves participants, and the room's kind decides who is told what.
 * A call is a room of kind `call`: no name, its caller joined and its callee ringing.
 */
export class Room {
  /** How the room carries media; set when it is created. */
  media: RoomMedia = 'mesh';
  /** A call's own bookkeeping (its two parties, early signals); undefined for rooms. */
  call: CallLedger | undefined;
  /** Resources a moderator removed: refused (join and invite) while the room lives. */
  readonly removed = new CompactSet<string>();
  /** When it was created, ms since the epoch. */
  startedAt = 0;
  /** Calls: when answered, ms since the epoch. */
  answeredAt: number | undefined;
  /** Every assist of the room, oldest first: its audit. */
  readonly assists: AssistAudit[] = [];
  /**
   * In the order they arrived (the order results list them in). Arrays, not Maps: a room holds
   * a handful (maxRoomParticipants), a call two, and two Maps cost a call ~300 bytes.
   */
  private byId: readonly Member[] = [];
  /** Joined and away participants, in the order they joined. */
  private byLeg: readonly Member[] = [];

  constructor(
    readonly id: string,
    readonly projectId: string,
    /** Empty for a call. */
    readonly name: string,
    readonly kind: RoomKindName = 'room',
  ) {}

  /** Participants counted against maxRoomParticipants: joined, away and ringing. */
  get size(): number {
    return this.byId.length;
  }

  member(participantId: string): Member | undefined {
    for (const member of this.byId) if (member.participant.id === participantId) return member;
    return undefined;
  }

  /** The joined or away participant a leg is. */
  memberOf(legId: string): Member | undefined {
    for (const member of this.byLeg) if (member.legId === legId) return member;
    return undefined;
  }

  /** The ringing participant of a resource (a resource is rung into a room at most once at a time). */
  ringingFor(resource: string): Member | undefined {
    for (const member of this.byId) {
      if (member.participant.state === 'ringing' && member.participant.resource === resource) {
        return member;
      }
    }
    return undefined;
  }

  /** The ringing participant a leg is being rung for. */
  ringingOn(legId: string): Member | undefined {
    for (const member of this.byId) if (member.rung.has(legId)) return member;
    return undefined;
  }

  add(member: Member): void {
    this.byId = put(this.byId, member, (other) => other.participant.id === member.participant.id);
    const { legId } = member;
    if (legId !== null) this.byLeg = put(this.byLeg, member, (other) => other.legId === legId);
  }

  /** A ringing participant joins through a leg. */
  attach(member: Member, legId: string): void {
    member.legId = legId;
    member.participant.state = 'joined';
    this.byLeg = put(this.byLeg, member, (other) => other.legId === legId);
  }

  delete(member: Member): void {
    const { id } = member.participant;
    this.byId = take(this.byId, (other) => other.participant.id === id);
    const { legId } = member;
    if (legId !== null) this.byLeg = take(this.byLeg, (other) => other.legId === legId);
    member.participant.state = 'left';
  }

  /** Joined and away participants. */
  present(): Member[] {
    return this.byLeg.slice();
  }

  /** Whether anyone is joined or away (else the room is empty and ends). */
  get occupied(): boolean {
    return this.byLeg.length > 0;
  }

  members(): Member[] {
    return this.byId.slice();
  }

  /** Joined and away participants that are not supervisors. */
  parties(): Member[] {
    return this.present().filter((member) => member.assist === undefined);
  }

  /** Joined and away supervisors. */
  supervisors(): Member[] {
    return this.present().filter((member) => member.assist !== undefined);
  }

  /** What `room.join` answers a participant. */
  snapshot(participantId: string, maxParticipants: number): RoomJoinResult {
    return {
      roomId: this.id,
      name: this.name,
      media: this.media,
      participantId,
      participants: this.members().map((member) => copy(member.participant)),
      maxParticipants,
    };
  }
}

/*
 * Members change rarely (joins and departures), and a pushed-to array reserves room for 17:
 * the lists are replaced by copies of their exact size instead.
 */

/** `member` where `same` finds one (keeping its place, as Map.set does), else appended. */
function put(
  list: readonly Member[],
  member: Member,
  same: (other: Member) => boolean,
): readonly Member[] {
  const at = list.findIndex(same);
  if (at < 0) return list.concat(member);
  return list.map((other, i) => (i === at ? member : other));
}

/** The list without the member `same` finds, as Map.delete does. */
function take(list: readonly Member[], same: (other: Member) => boolean): readonly Member[] {
  const at = list.findIndex(same);
  return at < 0 ? list : list.slice(0, at).concat(list.slice(at + 1));
}

/** The `rung` of every participant that is not ringing (frozen: shared). */
export const NO_LEGS: IdSet<string> = Object.freeze(new CompactSet<string>());

/** A new participant: joined through `legId`, or (legId null) ringing on the `rung` legs. */
export function newMember(
  id: string,
  resource: string,
  legId: string | null,
  rung: Iterable<string> = [],
): Member {
  return {
    participant: {
      id,
      resource,
      state: legId === null ? 'ringing' : 'joined',
      audioMuted: false,
      videoMuted: false,
      moderator: false,
    },
    legId,
    rung: legId === null ? new CompactSet(rung) : NO_LEGS,
    ringTimer: undefined,
    assist: undefined,
  };
}

/** A participant as sent: a copy, so later changes never alter what was handed out. */
export function copy(participant: Participant): Participant {
  return { ...participant };
}
