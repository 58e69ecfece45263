import type {
  AssistAudit,
  AssistMode,
  Participant,
  RoomJoinResult,
  RoomMedia,
} from '../../protocol/index.js';
import type { CallLedger } from './callLedger.js';

/** What a room is: a named mesh room (`room.*`), or a 1:1 call (`call.*`), a room of two. */
export type RoomKindName = 'room' | 'call';

/** A participant as its room keeps it: what the others are shown, and how it is reached. */
export interface Member {
  /** What results and events show (copied into each, never shared). */
  readonly participant: Participant;
  /** The leg in the room; null while ringing. */
  legId: string | null;
  /** While ringing: the legs rung (sessions of its resource), until one joins. */
  readonly rung: Set<string>;
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
  readonly removed = new Set<string>();
  /** When it was created, ms since the epoch. */
  startedAt = 0;
  /** Calls: when answered, ms since the epoch. */
  answeredAt: number | undefined;
  /** Every assist of the room, oldest first: its audit. */
  readonly assists: AssistAudit[] = [];
  /** In the order they arrived (the order results list them in). */
  private readonly byId = new Map<string, Member>();
  private readonly byLeg = new Map<string, Member>();

  constructor(
    readonly id: string,
    readonly projectId: string,
    /** Empty for a call. */
    readonly name: string,
    readonly kind: RoomKindName = 'room',
  ) {}

  /** Participants counted against maxRoomParticipants: joined, away and ringing. */
  get size(): number {
    return this.byId.size;
  }

  member(participantId: string): Member | undefined {
    return this.byId.get(participantId);
  }

  /** The joined or away participant a leg is. */
  memberOf(legId: string): Member | undefined {
    return this.byLeg.get(legId);
  }

  /** The ringing participant of a resource (a resource is rung into a room at most once at a time). */
  ringingFor(resource: string): Member | undefined {
    for (const member of this.byId.values()) {
      if (member.participant.state === 'ringing' && member.participant.resource === resource) {
        return member;
      }
    }
    return undefined;
  }

  /** The ringing participant a leg is being rung for. */
  ringingOn(legId: string): Member | undefined {
    for (const member of this.byId.values()) if (member.rung.has(legId)) return member;
    return undefined;
  }

  add(member: Member): void {
    this.byId.set(member.participant.id, member);
    if (member.legId !== null) this.byLeg.set(member.legId, member);
  }

  /** A ringing participant joins through a leg. */
  attach(member: Member, legId: string): void {
    member.legId = legId;
    member.participant.state = 'joined';
    this.byLeg.set(legId, member);
  }

  delete(member: Member): void {
    this.byId.delete(member.participant.id);
    if (member.legId !== null) this.byLeg.delete(member.legId);
    member.participant.state = 'left';
  }

  /** Joined and away participants. */
  present(): Member[] {
    return [...this.byLeg.values()];
  }

  /** Whether anyone is joined or away (else the room is empty and ends). */
  get occupied(): boolean {
    return this.byLeg.size > 0;
  }

  members(): Member[] {
    return [...this.byId.values()];
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
    rung: new Set(rung),
    ringTimer: undefined,
    assist: undefined,
  };
}

/** A participant as sent: a copy, so later changes never alter what was handed out. */
export function copy(participant: Participant): Participant {
  return { ...participant };
}
