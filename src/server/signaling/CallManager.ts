import { randomUUID } from 'node:crypto';
import {
  ErrorCodes,
  RelayRpcError,
  RpcErrorCodes,
  ServerEvents,
  type EndReason,
  type RejectReason,
  type RelayLimits,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { authorize, can } from './authorize.js';
import type { Session } from './Session.js';
import type { SessionRouter } from './SessionRouter.js';

interface Call {
  id: string;
  callerId: string;
  from: string;
  state: 'ringing' | 'active';
  /** Callee sessions still ringing (before the answer). */
  ringing: Set<string>;
  /** Every callee session ever rung, to tell a late answer it was answered elsewhere. */
  rang: Set<string>;
  /** Legs whose peer was told they are away (call.peer connected: false). */
  away: Set<string>;
  calleeId: string | null;
  /** Caller's signals sent before the answer, delivered to whoever answers. */
  early: unknown[];
  /** Length of the early signals' JSON. */
  earlyBytes: number;
  ringTimer: unknown;
}

/**
 * Call routing between sessions of one project: invite, ring, answer, reject,
 * hang up, and forwarding of WebRTC signals between the two legs, in order.
 */
export class CallManager {
  private readonly calls = new Map<string, Call>();

  constructor(
    private readonly router: SessionRouter,
    private readonly limits: RelayLimits,
    private readonly clock: Clock,
    /** Called when a detached session's buffer overflows. */
    private readonly onOverflow: (session: Session) => void,
  ) {}

  get size(): number {
    return this.calls.size;
  }

  /** Whether the call lives on this node. */
  owns(callId: string): boolean {
    return this.calls.has(callId);
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
      throw rpc(
        RpcErrorCodes.limitExceeded,
        ErrorCodes.limitExceeded,
        `This session already has ${this.limits.maxCallsPerSession} calls. End one before placing another.`,
      );
    }
    const receivers = this.router
      .ofResource(caller.projectId, to)
      .filter((s) => s !== caller && s.link !== null && can(s.scopes, 'receive'))
      .concat(remote);
    if (receivers.length === 0) {
      throw rpc(
        RpcErrorCodes.unavailable,
        ErrorCodes.unavailable,
        `"${to}" is not connected. Try again when they are online.`,
      );
    }
    const free = receivers.filter((s) => s.calls.size < this.limits.maxCallsPerSession);
    if (free.length === 0) {
      throw rpc(RpcErrorCodes.busy, ErrorCodes.busy, `"${to}" is busy on other calls. Try later.`);
    }
    const call: Call = {
      id: randomUUID(),
      callerId: caller.id,
      from: caller.resource,
      state: 'ringing',
      ringing: new Set(free.map((s) => s.id)),
      rang: new Set(free.map((s) => s.id)),
      away: new Set(),
      calleeId: null,
      early: [],
      earlyBytes: 0,
      ringTimer: undefined,
    };
    this.calls.set(call.id, call);
    caller.calls.add(call.id);
    call.ringTimer = this.clock.setTimeout(
      () => this.end(call, 'no-answer', null),
      this.limits.ringTimeoutMs,
    );
    for (const callee of free) {
      callee.calls.add(call.id);
      const event: Record<string, unknown> = { callId: call.id, from: caller.resource };
      if (metadata !== undefined) event.metadata = metadata;
      this.notify(callee, ServerEvents.incoming, event);
    }
    return { callId: call.id };
  }

  /**
   * A session on another node could not be rung after all (busy, or gone): it stops ringing.
   * True when nobody is left ringing: the call is then dropped without telling anyone, and
   * the invite's reply says why instead.
   */
  refuse(callId: string, sessionId: string): boolean {
    const call = this.calls.get(callId);
    if (call?.state !== 'ringing' || !call.ringing.delete(sessionId)) return false;
    call.rang.delete(sessionId);
    this.router.get(sessionId)?.calls.delete(callId);
    if (call.ringing.size > 0) return false;
    this.calls.delete(callId);
    this.clock.clearTimeout(call.ringTimer);
    this.router.get(call.callerId)?.calls.delete(callId);
    return true;
  }

  /** Sent after the invite's reply, so the caller learns of its call id first. */
  announceRinging(callId: string): void {
    const call = this.calls.get(callId);
    if (call?.state === 'ringing') this.notifyId(call.callerId, ServerEvents.ringing, { callId });
  }

  answer(session: Session, callId: string): { callId: string } {
    const late = this.calls.get(callId);
    if (late?.state === 'active' && late.rang.has(session.id) && late.calleeId !== session.id) {
      throw rpc(
        RpcErrorCodes.invalidState,
        ErrorCodes.answeredElsewhere,
        'This call was answered on another device.',
      );
    }
    const call = this.legOf(session, callId);
    if (!call.ringing.has(session.id)) throw invalidState('Only a ringing call can be answered.');
    this.clock.clearTimeout(call.ringTimer);
    // Dropped, not only cleared: a cleared timer object kept per call is memory for nothing.
    call.ringTimer = undefined;
    call.state = 'active';
    call.calleeId = session.id;
    call.ringing.delete(session.id);
    for (const other of call.ringing) this.drop(other, call, 'answered-elsewhere');
    call.ringing.clear();
    this.notifyId(call.callerId, ServerEvents.answered, { callId });
    // A caller whose socket dropped while ringing: the callee should know it is away.
    if (this.router.get(call.callerId)?.link === null) this.markAway(call, call.callerId);
    return { callId };
  }

  /** Delivers the caller's early signals to the callee, after the answer's reply. */
  flushEarlySignals(callId: string): void {
    const call = this.calls.get(callId);
    if (!call?.calleeId) return;
    const early = call.early.splice(0);
    call.earlyBytes = 0;
    for (const signal of early)
      this.notifyId(call.calleeId, ServerEvents.signal, { callId, signal });
  }

  reject(session: Session, callId: string, reason: RejectReason): void {
    const call = this.legOf(session, callId);
    if (!call.ringing.has(session.id)) throw invalidState('Only a ringing call can be rejected.');
    if (reason === 'declined') {
      this.end(call, 'declined', session.id);
      return;
    }
    call.ringing.delete(session.id);
    session.calls.delete(callId);
    if (call.ringing.size === 0) this.end(call, 'busy', null);
  }

  /** Ends a call from either leg: cancel while ringing (caller), decline (callee), hang up when active. */
  hangup(session: Session, callId: string): void {
    const call = this.legOf(session, callId);
    if (call.state === 'active') this.end(call, 'hangup', session.id);
    else if (session.id === call.callerId) this.end(call, 'cancelled', session.id);
    else this.end(call, 'declined', session.id);
  }

  signal(session: Session, callId: string, signal: unknown): void {
    const call = this.legOf(session, callId);
    if (session.id === call.callerId) {
      if (call.state === 'ringing') {
        this.hold(call, signal);
        return;
      }
      this.forward(call, call.calleeId, signal);
      return;
    }
    if (call.calleeId !== session.id) {
      throw invalidState('Answer the call before sending signals.');
    }
    this.forward(call, call.callerId, signal);
  }

  /** Keeps a caller's signal until the answer, within maxEarlySignals and maxEarlySignalBytes. */
  private hold(call: Call, signal: unknown): void {
    const { maxEarlySignals, maxEarlySignalBytes } = this.limits;
    const size = JSON.stringify(signal).length;
    if (call.early.length >= maxEarlySignals || call.earlyBytes + size > maxEarlySignalBytes) {
      throw rpc(
        RpcErrorCodes.limitExceeded,
        ErrorCodes.limitExceeded,
        `At most ${maxEarlySignals} signals (${maxEarlySignalBytes} bytes) are held before the answer. ` +
          'Wait for call.answered.',
      );
    }
    call.early.push(signal);
    call.earlyBytes += size;
  }

  /**
   * Sends a signal to the other leg, unless it is not keeping up: then the sender is refused
   * (it may send it again shortly) instead of the reader being buried, or closed, by it.
   */
  private forward(call: Call, to: string | null, signal: unknown): void {
    const receiver = to === null ? undefined : this.router.get(to);
    if (!receiver) return;
    if (!receiver.acceptsSignal()) {
      throw rpc(
        RpcErrorCodes.peerBacklogged,
        ErrorCodes.peerBacklogged,
        'The other party has not yet read the signals already sent to it, so this one was not ' +
          'forwarded. Send it again shortly.',
      );
    }
    this.notify(receiver, ServerEvents.signal, { callId: call.id, signal });
  }

  /** The session's socket dropped; it may come back within the grace period. */
  detached(session: Session): void {
    for (const callId of [...session.calls]) {
      const call = this.calls.get(callId);
      if (!call) continue;
      // A ringing device that went away stops ringing (and learns so on resume); the others go on.
      if (call.ringing.has(session.id)) this.stopRinging(call, session, true);
      else this.markAway(call, session.id);
    }
  }

  /** The session resumed on a new socket. */
  resumed(session: Session): void {
    for (const callId of session.calls) {
      const call = this.calls.get(callId);
      if (!call?.away.delete(session.id)) continue;
      this.notifyId(this.otherLeg(call, session.id), ServerEvents.peer, {
        callId,
        connected: true,
      });
    }
  }

  /** The session is gone for good: its calls end for the other parties. */
  ended(session: Session): void {
    for (const callId of [...session.calls]) {
      const call = this.calls.get(callId);
      if (call?.ringing.has(session.id)) this.stopRinging(call, session, false);
      else if (call) this.end(call, 'disconnected', session.id);
    }
    session.calls.clear();
  }

  private stopRinging(call: Call, session: Session, tell: boolean): void {
    call.ringing.delete(session.id);
    session.calls.delete(call.id);
    if (tell) this.notify(session, ServerEvents.ended, { callId: call.id, reason: 'disconnected' });
    if (call.ringing.size === 0) this.end(call, 'disconnected', null);
  }

  private markAway(call: Call, sessionId: string): void {
    const other = this.otherLeg(call, sessionId);
    if (other === null || call.away.has(sessionId)) return;
    call.away.add(sessionId);
    this.notifyId(other, ServerEvents.peer, { callId: call.id, connected: false });
  }

  private end(call: Call, reason: EndReason, by: string | null): void {
    if (!this.calls.delete(call.id)) return;
    this.clock.clearTimeout(call.ringTimer);
    const legs = new Set([call.callerId, ...call.ringing]);
    if (call.calleeId) legs.add(call.calleeId);
    for (const id of legs) {
      const session = this.router.get(id);
      session?.calls.delete(call.id);
      // Callees that never answered see a caller's end as a cancellation.
      const told =
        reason === 'disconnected' && call.state === 'ringing' && id !== call.callerId
          ? 'cancelled'
          : reason;
      if (session && id !== by)
        this.notify(session, ServerEvents.ended, { callId: call.id, reason: told });
    }
  }

  private drop(sessionId: string, call: Call, reason: EndReason): void {
    const session = this.router.get(sessionId);
    if (!session) return;
    session.calls.delete(call.id);
    this.notify(session, ServerEvents.ended, { callId: call.id, reason });
  }

  private legOf(session: Session, callId: string): Call {
    const call = this.calls.get(callId);
    if (!call || !session.calls.has(callId)) {
      throw rpc(
        RpcErrorCodes.callNotFound,
        ErrorCodes.callNotFound,
        'No such call on this session. It may have ended; check the call id.',
      );
    }
    return call;
  }

  private otherLeg(call: Call, sessionId: string): string | null {
    return sessionId === call.callerId ? call.calleeId : call.callerId;
  }

  private notifyId(
    sessionId: string | null,
    method: string,
    params: Record<string, unknown>,
  ): void {
    const session = sessionId === null ? undefined : this.router.get(sessionId);
    if (session) this.notify(session, method, params);
  }

  private notify(session: Session, method: string, params: Record<string, unknown>): void {
    if (!session.notify(method, params)) this.onOverflow(session);
  }
}

function rpc(rpcCode: number, code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string) {
  return new RelayRpcError(rpcCode, code, message);
}

function invalidState(message: string) {
  return rpc(RpcErrorCodes.invalidState, ErrorCodes.invalidState, message);
}
