import { randomUUID } from 'node:crypto';
import {
  ServerEvents,
  type AssistAudit,
  type AssistResult,
  type CallRecordParticipant,
  type EndReason,
  type EventName,
  type EventParams,
  type RelayLimits,
  type Supervisor,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import * as errors from '../signaling/callErrors.js';
import type { Handled } from '../signaling/handlers.js';
import type { Session } from '../signaling/Session.js';
import type { AssistRecord, AssistRequest } from '../supervision/Assists.js';
import { auditAssist, auditLeave } from '../supervision/auditAssist.js';
import { authorizeAssist } from '../signaling/authorize.js';

type Notify = <E extends EventName>(session: Session, event: E, params: EventParams<E>) => void;

/** A gateway call as its supervisors see it: one browser party (the agent) and the far end. */
export interface AssistedGatewayCall {
  id: string;
  project: string;
  /** The browser party, once the call is answered. */
  session: Session | null;
  /** The browser party's participant id in the call. */
  partyId: string;
}

interface GatewaySupervisor extends Supervisor {
  session: Session;
}

interface Assisted {
  supervisors: Map<string, GatewaySupervisor>;
  audit: AssistAudit[];
}

/**
 * Supervisors of calls to and from SIP endpoints and phone numbers. The supervisor links only
 * with the browser party (the far end is reached through it: the party's browser passes the
 * far end's audio on, and mixes the supervisor's into the call when it barges). Otherwise as
 * for calls between browsers (see Assists): `call.signal` with `to`, `call.hangup` leaves,
 * `call.assisted` to everyone, the audit listed with the call.
 */
export class GatewaySupervisors {
  readonly #calls = new Map<string, Assisted>();

  constructor(
    private readonly notify: Notify,
    private readonly clock: Clock,
    private readonly limits: RelayLimits,
    private readonly changed: (callId: string) => void,
    private readonly onAssist: ((record: AssistRecord) => void) | undefined,
  ) {}

  assist(session: Session, call: AssistedGatewayCall, request: AssistRequest): Handled {
    authorizeAssist(session.scopes, request.mode);
    const party = call.session;
    if (!party) {
      throw errors.invalidState('The call is not answered yet. Assist it once it is active.');
    }
    if (party === session) {
      throw errors.invalidState('This session is a party of the call: it cannot also assist it.');
    }
    if (request.agent !== undefined && ![call.partyId, party.resource].includes(request.agent)) {
      throw errors.invalidParams(
        `call.assist: "agent" ${JSON.stringify(request.agent)} is not the browser party of ` +
          'this call (the only one a supervisor can whisper to).',
      );
    }
    const assisted = this.#calls.get(call.id) ?? { supervisors: new Map(), audit: [] };
    let supervisor = this.of(call.id, session);
    if (!supervisor) {
      if (assisted.supervisors.size >= this.limits.maxSupervisorsPerCall) {
        throw errors.tooManySupervisors(this.limits.maxSupervisorsPerCall);
      }
      if (session.calls.size >= this.limits.maxCallsPerSession) {
        throw errors.tooManyCalls(this.limits.maxCallsPerSession);
      }
      const at = this.clock.now();
      supervisor = {
        session,
        participantId: randomUUID(),
        resource: session.resource,
        mode: request.mode,
        since: at,
      };
      assisted.supervisors.set(supervisor.participantId, supervisor);
      this.#calls.set(call.id, assisted);
      session.calls.add(call.id);
      this.#take(call, assisted, supervisor, at);
    } else if (supervisor.mode !== request.mode) {
      supervisor.mode = request.mode;
      supervisor.since = this.clock.now();
      this.#take(call, assisted, supervisor, supervisor.since);
    }
    if (request.mode === 'whisper') supervisor.agent = call.partyId;
    else delete supervisor.agent;
    const result: AssistResult = {
      callId: call.id,
      participantId: supervisor.participantId,
      parties: [{ participantId: call.partyId, resource: party.resource }],
    };
    return { result, after: () => this.#tell(call) };
  }

  /** The session's supervisor in the call, if it is one. */
  of(callId: string, session: Session): GatewaySupervisor | undefined {
    for (const supervisor of this.#calls.get(callId)?.supervisors.values() ?? []) {
      if (supervisor.session === session) return supervisor;
    }
    return undefined;
  }

  /** A signal between a supervisor and the browser party (`to` the other's participant id). */
  signal(
    session: Session,
    call: AssistedGatewayCall,
    to: string | undefined,
    signal: unknown,
  ): void {
    const assisted = this.#calls.get(call.id);
    const sender = this.of(call.id, session);
    let receiver: Session | undefined;
    let from: string | undefined;
    if (sender && to === call.partyId) {
      receiver = call.session ?? undefined;
      from = sender.participantId;
    } else if (!sender && session === call.session && to !== undefined) {
      receiver = assisted?.supervisors.get(to)?.session;
      from = call.partyId;
    }
    if (!receiver || from === undefined) {
      throw errors.invalidParams(
        'call.signal: "to" must be the participant id of a supervisor (from the party) or of ' +
          'the party (from a supervisor) in this call.',
      );
    }
    if (!receiver.acceptsSignal()) throw errors.peerBacklogged();
    this.notify(receiver, ServerEvents.signal, { callId: call.id, signal, from });
  }

  /** A supervisor leaves (its hang-up, or its session ended); the call goes on. */
  leave(call: AssistedGatewayCall, session: Session): void {
    const assisted = this.#calls.get(call.id);
    const supervisor = this.of(call.id, session);
    if (!assisted || !supervisor) return;
    assisted.supervisors.delete(supervisor.participantId);
    session.calls.delete(call.id);
    auditLeave(assisted.audit, supervisor.participantId, this.clock.now());
    this.changed(call.id);
    this.#tell(call);
  }

  /** The call ended: its supervisors hear why, and it is forgotten. */
  ended(callId: string, reason: EndReason): void {
    const assisted = this.#calls.get(callId);
    this.#calls.delete(callId);
    for (const { session } of assisted?.supervisors.values() ?? []) {
      session.calls.delete(callId);
      this.notify(session, ServerEvents.ended, { callId, reason });
    }
  }

  /** The call's supervisors and audit, as calls.list shows them. */
  listed(callId: string): { participants: CallRecordParticipant[]; audit: AssistAudit[] } {
    const assisted = this.#calls.get(callId);
    const participants = [...(assisted?.supervisors.values() ?? [])].map(
      (s): CallRecordParticipant => ({
        id: s.participantId,
        resource: s.resource,
        state: s.session.link === null ? 'away' : 'joined',
        role: 'supervisor',
        assist: s.mode,
      }),
    );
    return { participants, audit: (assisted?.audit ?? []).map((entry) => ({ ...entry })) };
  }

  #take(call: AssistedGatewayCall, assisted: Assisted, supervisor: GatewaySupervisor, at: number) {
    const { resource, participantId, mode } = supervisor;
    auditAssist(assisted.audit, resource, participantId, mode, at);
    this.changed(call.id);
    const record: AssistRecord = {
      projectId: call.project,
      callId: call.id,
      by: resource,
      participantId,
      mode,
      at,
    };
    if (mode === 'whisper') record.agent = call.partyId;
    this.onAssist?.(record);
  }

  /** `call.assisted` to the party and every supervisor. */
  #tell(call: AssistedGatewayCall): void {
    const assisted = this.#calls.get(call.id);
    const supervisors = [...(assisted?.supervisors.values() ?? [])].map(
      ({ session: _session, ...supervisor }) => ({ ...supervisor }),
    );
    const told = [
      ...(call.session ? [{ session: call.session, participantId: call.partyId }] : []),
      ...(assisted?.supervisors.values() ?? []),
    ];
    for (const { session, participantId } of told) {
      this.notify(session, ServerEvents.assisted, { callId: call.id, participantId, supervisors });
    }
  }
}
