import { CompactSet } from '../rooms/CompactSet.js';
import {
  ServerEvents,
  type EventParams,
  type RejectReason,
  type RelayLimits,
} from '../../protocol/index.js';
import { CallKind } from '../rooms/callKind.js';
import { answered, holdEarly, otherLeg, takeEarly, type CallLedger } from '../rooms/callLedger.js';
import { newParticipantId } from '../rooms/participantId.js';
import type { Room } from '../rooms/Room.js';
import type { RoomEngine } from '../rooms/RoomEngine.js';
import { authorize, can } from './authorize.js';
import * as errors from './callErrors.js';
import type { Session } from './Session.js';
import type { SessionRouter } from './SessionRouter.js';
import type { Telemetry } from '../Telemetry.js';

/** A live call: its room (of kind `call`) and what the call keeps besides. */
interface Call {
  room: Room;
  call: CallLedger;
}

/**
 * 1:1 calls between sessions of one project, as rooms of two in the node's one RoomEngine:
 * invite (the caller joins, the callee rings on its free sessions), answer, reject, hang up,
 * and forwarding of WebRTC signals between the two legs, in order. The engine moves the
 * participants; {@link CallKind} says what each move tells whom (`call.*`).
 */
export class CallManager {
  constructor(
    private readonly engine: RoomEngine,
    private readonly router: SessionRouter,
    private readonly limits: RelayLimits,
    private readonly telemetry: Telemetry,
  ) {
    engine.register(new CallKind(engine.tell, () => engine.clock.now()));
  }

  /** Calls on this node. */
  get size(): number {
    return this.engine.registry.count('call');
  }

  /** Whether the call lives on this node. */
  owns(callId: string): boolean {
    return this.engine.room(callId, 'call') !== undefined;
  }

  /**
   * Rings every session of `to` that may receive: this node's, and `remote` ones (sessions on
   * other nodes, whose nodes said they can be rung; see {@link refuse} for those that cannot).
   */
  invite(
    caller: Session,
    to: string,
    metadata: unknown,
    remote: Session[] = [],
  ): { callId: string } {
    authorize(caller.scopes, 'dial');
    if (caller.calls.size >= this.limits.maxCallsPerSession) {
      throw errors.tooManyCalls(this.limits.maxCallsPerSession);
    }
    const receivers = this.router
      .ofResource(caller.projectId, to)
      .filter((s) => s !== caller && s.link !== null && can(s.scopes, 'receive'))
      .concat(remote);
    if (receivers.length === 0) throw errors.unavailable(to);
    const free = receivers.filter((s) => s.calls.size < this.limits.maxCallsPerSession);
    if (free.length === 0) throw errors.busy(to);
    const room = this.engine.registry.createCall(caller.projectId);
    const member = this.engine.enter(room, caller, newParticipantId());
    const callee = this.engine.ring(room, to, free);
    room.call = {
      from: caller.resource,
      caller: member,
      callee,
      rang: new CompactSet(free.map((s) => s.id)),
      early: [],
      earlyBytes: 0,
    };
    this.telemetry.callStarted(room.id, caller.projectId, { from: caller.resource, to });
    const event: EventParams<'call.incoming'> = { callId: room.id, from: caller.resource };
    if (metadata !== undefined) event.metadata = metadata;
    for (const leg of free) this.engine.tell.send(leg, ServerEvents.incoming, event);
    return { callId: room.id };
  }

  /**
   * A session on another node could not be rung after all (busy, or gone): it stops ringing.
   * True when nobody is left ringing: the call is then dropped without telling anyone, and
   * the invite's reply says why instead.
   */
  refuse(callId: string, sessionId: string): boolean {
    const found = this.find(callId);
    if (!found || answered(found.call) || !found.call.callee.rung.has(sessionId)) return false;
    found.call.rang.delete(sessionId);
    if (!this.engine.unring(found.room, found.call.callee, sessionId)) return false;
    this.engine.discard(found.room);
    return true;
  }

  /** Sent after the invite's reply, so the caller learns of its call id first. */
  announceRinging(callId: string): void {
    const found = this.find(callId);
    if (found && !answered(found.call)) {
      this.engine.tell.leg(found.call.caller.legId, ServerEvents.ringing, { callId });
    }
  }

  answer(session: Session, callId: string): { callId: string } {
    const late = this.find(callId)?.call;
    if (late && answered(late) && late.rang.has(session.id) && late.callee.legId !== session.id) {
      throw errors.answeredElsewhere();
    }
    const { room, call } = this.legOf(session, callId);
    const { callee, caller } = call;
    if (!callee.rung.has(session.id)) {
      throw errors.invalidState('Only a ringing call can be answered.');
    }
    room.answeredAt = this.engine.clock.now();
    for (const legId of this.engine.attach(room, callee, session)) {
      this.engine.tell.leg(legId, ServerEvents.ended, { callId, reason: 'answered-elsewhere' });
    }
    this.engine.tell.leg(caller.legId, ServerEvents.answered, { callId });
    // A caller whose socket dropped while ringing: the callee should know it is away.
    if (caller.participant.state === 'away') {
      this.engine.tell.send(session, ServerEvents.peer, { callId, connected: false });
    }
    return { callId };
  }

  /** Delivers the caller's early signals to the callee, after the answer's reply. */
  flushEarlySignals(callId: string): void {
    const call = this.find(callId)?.call;
    if (!call || !answered(call)) return;
    for (const signal of takeEarly(call)) {
      this.engine.tell.leg(call.callee.legId, ServerEvents.signal, { callId, signal });
    }
  }

  reject(session: Session, callId: string, reason: RejectReason): void {
    const { room, call } = this.legOf(session, callId);
    if (!call.callee.rung.has(session.id)) {
      throw errors.invalidState('Only a ringing call can be rejected.');
    }
    if (reason === 'declined') {
      this.engine.depart(room, call.callee, 'declined', null, session.id);
      return;
    }
    // Busy on this device: the others ring on.
    if (this.engine.unring(room, call.callee, session.id)) {
      this.engine.depart(room, call.callee, 'busy', null, null);
    }
  }

  /** Ends a call from either leg: cancel while ringing (caller), decline (callee), hang up when active. */
  hangup(session: Session, callId: string): void {
    const { room, call } = this.legOf(session, callId);
    const supervisor = room.memberOf(session.id);
    if (supervisor?.assist) {
      // A supervisor leaves; the call goes on.
      this.engine.depart(room, supervisor, 'left', supervisor.participant.id, session.id);
      return;
    }
    const isCaller = session.id === call.caller.legId;
    const member = isCaller ? call.caller : call.callee;
    const reason = answered(call) ? 'hangup' : isCaller ? 'cancelled' : 'declined';
    this.engine.depart(room, member, reason, null, session.id);
  }

  /**
   * Forwards a signal: between the two parties (no `to`), or, in an assisted call, between a
   * supervisor and a party (`to` names the other's participant id; the event names the sender).
   */
  signal(session: Session, callId: string, signal: unknown, to?: string): void {
    const { room, call } = this.legOf(session, callId);
    const sender = room.memberOf(session.id);
    if (to !== undefined || sender?.assist) {
      const target = to === undefined ? undefined : room.member(to);
      if (!sender || !target || target.legId === null || !sender.assist === !target.assist) {
        throw errors.invalidParams(
          'call.signal: "to" must be the participant id of a supervisor (from a party) or of a ' +
            'party (from a supervisor) in this call.',
        );
      }
      this.forward(callId, target.legId, signal, sender.participant.id);
      return;
    }
    if (session.id === call.caller.legId) {
      if (!answered(call)) {
        const { maxEarlySignals, maxEarlySignalBytes } = this.limits;
        if (!holdEarly(call, signal, maxEarlySignals, maxEarlySignalBytes)) {
          throw errors.tooManyEarlySignals(maxEarlySignals, maxEarlySignalBytes);
        }
        return;
      }
    } else if (call.callee.legId !== session.id) {
      throw errors.invalidState('Answer the call before sending signals.');
    }
    this.forward(callId, otherLeg(call, session.id), signal);
  }

  /** The session's socket dropped; it may come back within the grace period. */
  detached(session: Session): void {
    this.engine.detached(session, 'call');
  }

  /** The session resumed on a new socket. */
  resumed(session: Session): void {
    this.engine.resumed(session, 'call');
  }

  /** The session is gone for good: its calls end for the other parties. */
  ended(session: Session): void {
    this.engine.ended(session, 'call');
  }

  /**
   * Sends a signal to the other leg, unless it is not keeping up: then the sender is refused
   * (it may send it again shortly) instead of the reader being buried, or closed, by it.
   */
  private forward(callId: string, to: string | null, signal: unknown, from?: string): void {
    const receiver = to === null ? undefined : this.engine.directory.get(to);
    if (!receiver) return;
    if (!receiver.acceptsSignal()) throw errors.peerBacklogged();
    const event: EventParams<'call.signal'> = { callId, signal };
    if (from !== undefined) event.from = from;
    this.engine.tell.send(receiver, ServerEvents.signal, event);
  }

  private find(callId: string): Call | undefined {
    const room = this.engine.room(callId, 'call');
    return room?.call ? { room, call: room.call } : undefined;
  }

  /** The call, when the session is one of its legs (ringing or answered), else call_not_found. */
  private legOf(session: Session, callId: string): Call {
    const found = this.find(callId);
    if (!found || !session.calls.has(callId)) throw errors.callNotFound();
    return found;
  }
}
