import type { AssistMode, AssistResult, RelayLimits } from '../../protocol/index.js';
import type { IdSet } from '../rooms/CompactSet.js';
import type { Leg } from '../rooms/Leg.js';
import { newParticipantId } from '../rooms/participantId.js';
import { copy, type Member, type Room } from '../rooms/Room.js';
import * as roomErrors from '../rooms/roomErrors.js';
import type { RoomEngine } from '../rooms/RoomEngine.js';
import { tellAssisted } from '../rooms/tellAssisted.js';
import { auditAssist } from './auditAssist.js';
import { authorizeAssist } from '../signaling/authorize.js';
import * as errors from '../signaling/callErrors.js';
import type { Handled } from '../signaling/handlers.js';

/** Modes by how much of the supervisor reaches the others. */
const RANK: Record<AssistMode, number> = { monitor: 0, whisper: 1, barge: 2 };

/** One assist as the Relay reports it to its operator (RelayServerOptions.onAssist). */
export interface AssistRecord {
  projectId: string;
  callId: string;
  /** Resource of the supervisor. */
  by: string;
  participantId: string;
  mode: AssistMode;
  /** Whisper: participant id of the agent. */
  agent?: string;
  /** ms since the epoch. */
  at: number;
}

export interface AssistRequest {
  callId: string;
  mode: AssistMode;
  agent: string | undefined;
}

/**
 * Supervisors joining the calls of this node (`call.assist`): a supervisor is a participant of
 * the call's room with an {@link Member.assist} mode. It connects to each party peer to peer
 * (signals through `call.signal` with `to`), leaves with `call.hangup` without ending the call,
 * and everyone present hears of every change with `call.assisted`. Each mode it takes is kept
 * in the room's audit (listed with the call) and reported to `onAssist`.
 */
export class Assists {
  constructor(
    private readonly engine: RoomEngine,
    private readonly limits: RelayLimits,
    private readonly onAssist: ((record: AssistRecord) => void) | undefined,
  ) {}

  /** Whether a call or room of that id lives on this node. */
  owns(callId: string): boolean {
    return this.engine.registry.find(callId) !== undefined;
  }

  assist(leg: Leg & { readonly calls: IdSet<string> }, request: AssistRequest): Handled {
    authorizeAssist(leg.scopes, request.mode);
    const room = this.engine.registry.find(request.callId);
    if (!room || room.projectId !== leg.projectId) {
      throw errors.callNotFoundInProject();
    }
    if (room.kind === 'room') return this.assistRoom(leg, room, request);
    if (room.answeredAt === undefined) {
      throw errors.invalidState('The call is not answered yet. Assist it once it is active.');
    }
    let member = room.memberOf(leg.id);
    if (member && !member.assist) {
      throw errors.invalidState('This session is a party of the call: it cannot also assist it.');
    }
    const agent =
      request.mode === 'whisper' ? this.agentOf(room.parties(), request.agent) : undefined;
    if (!member) {
      const max = this.limits.maxSupervisorsPerCall;
      if (room.supervisors().length >= max) throw errors.tooManySupervisors(max);
      if (leg.calls.size >= this.limits.maxCallsPerSession) {
        throw errors.tooManyCalls(this.limits.maxCallsPerSession);
      }
      member = this.engine.enter(room, leg, newParticipantId());
    }
    this.take(room, member, request.mode, agent);
    const result: AssistResult = {
      callId: room.id,
      participantId: member.participant.id,
      parties: room.parties().map(({ participant }) => ({
        participantId: participant.id,
        resource: participant.resource,
      })),
    };
    return { result, after: () => this.engine.holds(room) && tellAssisted(this.engine.tell, room) };
  }

  /**
   * A supervisor joins a named room (mesh or sfu) as one of its participants, announced with
   * `room.joined` (its participant carries `assist`), or changes its mode (`room.updated`).
   * In an `sfu` room, where the media server enforces who receives whom, a supervisor's mode
   * may only go up (monitor, whisper, barge): those already receiving it would go on.
   */
  private assistRoom(leg: Leg, room: Room, request: AssistRequest): Handled {
    let member = room.memberOf(leg.id);
    if (member && !member.assist) {
      throw errors.invalidState(
        'This session is a participant of the room: it cannot also assist it.',
      );
    }
    if (room.removed.has(leg.resource)) throw roomErrors.removedFromRoom();
    const agent =
      request.mode === 'whisper' ? this.agentOf(room.parties(), request.agent) : undefined;
    if (member?.assist && room.media === 'sfu' && RANK[request.mode] < RANK[member.assist.mode]) {
      throw errors.invalidState(
        `In an sfu room a supervisor's mode only goes up (monitor, whisper, barge): leave the ` +
          `room (room.leave) and assist it again to ${request.mode}.`,
      );
    }
    const joining = !member;
    if (!member) {
      const max = this.limits.maxSupervisorsPerCall;
      if (room.supervisors().length >= max) throw errors.tooManySupervisors(max);
      if (leg.rooms.size >= this.limits.maxRoomsPerSession) {
        throw roomErrors.tooManyRoomsPerSession(this.limits.maxRoomsPerSession);
      }
      member = this.engine.enter(room, leg, newParticipantId());
    }
    this.take(room, member, request.mode, agent);
    const participant = copy(member.participant);
    const event = { roomId: room.id, from: participant.id, participant };
    this.engine.tell.present(room, joining ? 'room.joined' : 'room.updated', event, member);
    const maxParticipants =
      room.media === 'sfu' ? this.limits.maxSfuParticipants : this.limits.maxRoomParticipants;
    const result: AssistResult = {
      callId: room.id,
      participantId: member.participant.id,
      parties: room.parties().map(({ participant: p }) => ({
        participantId: p.id,
        resource: p.resource,
      })),
      room: room.snapshot(member.participant.id, maxParticipants),
    };
    return { result, after: () => this.engine.holds(room) && tellAssisted(this.engine.tell, room) };
  }

  /** The supervisor takes a mode (the same one again changes nothing). */
  private take(room: Room, member: Member, mode: AssistMode, agent: string | undefined): void {
    const previous = member.assist;
    if (previous?.mode === mode && previous.agent === agent) return;
    const at = this.engine.clock.now();
    const { participant } = member;
    auditAssist(room.assists, participant.resource, participant.id, mode, at);
    member.assist = { mode, agent, since: at };
    participant.assist = mode;
    if (agent === undefined) delete participant.agent;
    else participant.agent = agent;
    this.engine.changed(room);
    const record: AssistRecord = {
      projectId: room.projectId,
      callId: room.id,
      by: participant.resource,
      participantId: participant.id,
      mode,
      at,
    };
    if (agent !== undefined) record.agent = agent;
    this.onAssist?.(record);
  }

  /**
   * The party who hears a whisper: named by participant id or resource, or, when not named,
   * the only party a supervisor can whisper to.
   */
  private agentOf(parties: Member[], named: string | undefined): string {
    if (named === undefined) {
      if (parties.length === 1) return (parties[0] as Member).participant.id;
      throw errors.invalidParams(
        'call.assist: whisper needs "agent": the participant id or resource of the participant ' +
          'who hears the supervisor.',
      );
    }
    const byId = parties.find(({ participant }) => participant.id === named);
    if (byId) return byId.participant.id;
    const byResource = parties.filter(({ participant }) => participant.resource === named);
    if (byResource.length === 1) return (byResource[0] as Member).participant.id;
    throw errors.invalidParams(
      byResource.length === 0
        ? `call.assist: "agent" ${JSON.stringify(named)} is not a participant of this call.`
        : `call.assist: "agent" ${JSON.stringify(named)} is in the call more than once: name ` +
            'the participant id instead.',
    );
  }
}
