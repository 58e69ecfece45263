import {
  DTMF_TONES,
  ErrorCodes,
  RpcErrorCodes,
  ServerEvents,
  type CallRecord,
  type EndReason,
  type EventName,
  type EventParams,
  type Gateway,
  type RejectReason,
  type RelayLimits,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { authorize } from '../signaling/authorize.js';
import * as errors from '../signaling/callErrors.js';
import type { Handled } from '../signaling/handlers.js';
import type { Session } from '../signaling/Session.js';
import type { SessionRouter } from '../signaling/SessionRouter.js';
import type { AssistRecord, AssistRequest } from '../supervision/Assists.js';
import type { BoardSource } from '../supervision/CallBoard.js';
import { newGatewayCall, type GatewayCall } from './GatewayCall.js';
import { gatewayCallRecord } from './gatewayCallRecord.js';
import { gatewayLegListener } from './gatewayLegListener.js';
import { GatewayIceRestarts, restartOffer } from './GatewayIceRestarts.js';
import { GatewaySupervisors } from './GatewaySupervisors.js';
import { gatewayTarget, rpc } from './gatewayTarget.js';
import { incomingRoute } from './incomingRoute.js';
import { referTransfer } from './referTransfer.js';
import type { IncomingSipCall, SipGateway, SipLeg, TrickleCandidate } from './SipGateway.js';
import type { ResolvedTrunk } from './SipOptions.js';
import type { LogFields } from '../RelayLogger.js';
import type { Telemetry } from '../Telemetry.js';

type Notify = <E extends EventName>(session: Session, event: E, params: EventParams<E>) => void;

/**
 * Calls between the project's sessions and SIP endpoints or phone numbers, through the SIP
 * gateway: outgoing (`call.invite` to `sip:…` or `+…`) and incoming (a trunk's call to a routed
 * number rings its resource). The browser negotiates its media with the gateway through
 * `call.signal`; SIP responses become `call.ringing`, `call.early`, `call.answered` and
 * `call.ended` (docs/PROTOCOL.md#sip-and-phone-calls). Calls live on the node that placed or
 * received them.
 */
export class GatewayCalls implements BoardSource {
  readonly #calls = new Map<string, GatewayCall>();
  readonly #supervisors: GatewaySupervisors;
  readonly #restarts: GatewayIceRestarts;
  /** Told whenever a call starts, changes state or ends (supervision lists calls from it). */
  onChange: ((callId: string) => void) | undefined;

  constructor(
    private readonly gateway: SipGateway | undefined,
    private readonly trunks: Map<string, ResolvedTrunk>,
    private readonly router: SessionRouter,
    private readonly limits: RelayLimits,
    private readonly clock: Clock,
    private readonly telemetry: Telemetry,
    private readonly notify: Notify,
    onAssist?: (record: AssistRecord) => void,
  ) {
    this.#supervisors = new GatewaySupervisors(
      notify,
      clock,
      limits,
      (id) => this.onChange?.(id),
      onAssist,
    );
    this.#restarts = new GatewayIceRestarts(notify);
    gateway?.start(trunks, (call) => this.#incoming(call));
  }

  describe(id: string): { projectId: string; record: CallRecord } | undefined {
    const call = this.#calls.get(id);
    return call && { projectId: call.project, record: this.#record(call) };
  }

  list(projectId: string): CallRecord[] {
    const records: CallRecord[] = [];
    for (const call of this.#calls.values()) {
      if (call.project === projectId) records.push(this.#record(call));
    }
    return records;
  }

  /** A supervisor joins an answered call, or changes its mode (see GatewaySupervisors). */
  assist(session: Session, request: AssistRequest): Handled {
    const call = this.#calls.get(request.callId);
    if (!call || call.project !== session.projectId) throw errors.callNotFoundInProject();
    if (call.state !== 'active') {
      throw errors.invalidState('The call is not answered yet. Assist it once it is active.');
    }
    return this.#supervisors.assist(session, call, request);
  }

  get size(): number {
    return this.#calls.size;
  }

  get available(): boolean {
    return this.gateway?.available ?? false;
  }

  owns(callId: string): boolean {
    return this.#calls.has(callId);
  }

  invite(session: Session, to: string, metadata: unknown): { callId: string } {
    void metadata; // The far end is not a browser: nothing to hand it to.
    authorize(session.scopes, 'dial');
    const { gateway, trunk, uri } = gatewayTarget(
      session,
      to,
      session.projectId,
      this.trunks,
      this.gateway,
      'SIP calls',
    );
    if (session.calls.size >= this.limits.maxCallsPerSession) {
      throw errors.tooManyCalls(this.limits.maxCallsPerSession);
    }
    const leg = this.gateway!.dial(trunk, {
      uri,
      viaProxy: gateway === 'pstn',
    });
    const call = this.#add(session.projectId, gateway, 'outgoing', uri, leg);
    call.session = session;
    session.calls.add(call.id);
    call.chain = leg.then(
      (ready) => {
        ready.listen(this.#listener(call));
        // The INVITE goes with the browser's offer (call.signal); nothing to do until then.
        if (call.state === 'ended') void this.#release(ready);
      },
      (error: unknown) => {
        this.#failed({ callId: call.id, request: 'dial', error });
        this.#end(call, 'failed');
      },
    );
    return { callId: call.id };
  }

  answer(session: Session, callId: string): { callId: string } {
    const call = this.#of(session, callId);
    if (call.direction !== 'incoming' || call.state !== 'ringing' || !call.rung.has(session)) {
      throw errors.invalidState('Only a ringing call can be answered.');
    }
    this.clock.clearTimeout(call.ringTimer);
    call.session = session;
    call.state = 'active';
    call.answeredAt = this.clock.now();
    this.onChange?.(call.id);
    for (const other of call.rung) {
      if (other === session) continue;
      other.calls.delete(call.id);
      this.notify(other, ServerEvents.ended, { callId, reason: 'answered-elsewhere' });
    }
    call.rung.clear();
    return { callId };
  }

  /** After the answer's reply: the gateway's offer goes to the browser that answered. */
  flushOffer(callId: string): void {
    const call = this.#calls.get(callId);
    if (!call?.session || call.offer === undefined) return;
    this.notify(call.session, ServerEvents.signal, {
      callId,
      signal: { type: 'offer', sdp: call.offer },
    });
    call.offer = undefined;
  }

  reject(session: Session, callId: string, reason: RejectReason): void {
    const call = this.#of(session, callId);
    if (call.direction !== 'incoming' || call.state !== 'ringing' || !call.rung.has(session)) {
      throw errors.invalidState('Only a ringing call can be rejected.');
    }
    call.rung.delete(session);
    session.calls.delete(callId);
    if (reason === 'declined') this.#refuse(call, 603, 'declined');
    else if (call.rung.size === 0) this.#refuse(call, 486, 'busy');
  }

  hangup(session: Session, callId: string): void {
    const call = this.#of(session, callId);
    if (this.#supervisors.of(callId, session)) {
      this.#supervisors.leave(call, session);
      return;
    }
    if (call.direction === 'incoming' && call.state === 'ringing') {
      this.reject(session, callId, 'declined');
      return;
    }
    const reason = call.state === 'active' ? 'hangup' : 'cancelled';
    this.#end(call, reason, undefined, undefined, session);
    this.#run(call, (leg) => this.#release(leg));
  }

  signal(session: Session, callId: string, signal: unknown, to?: string): void {
    const found = this.#calls.get(callId);
    if (found && (to !== undefined || this.#supervisors.of(callId, session))) {
      this.#of(session, callId);
      this.#supervisors.signal(session, found, to, signal);
      return;
    }
    const call = this.#legOf(session, callId);
    const { type, sdp, candidate } = (signal ?? {}) as Record<string, unknown>;
    const restart = restartOffer(signal);
    if (restart !== undefined) {
      this.#restarts.offer(call, restart, (work) => this.#run(call, work));
    } else if (type === 'offer' && typeof sdp === 'string' && call.direction === 'outgoing') {
      this.#run(call, (leg) => leg.invite(call.uri, sdp), true);
    } else if (type === 'answer' && typeof sdp === 'string' && call.direction === 'incoming') {
      this.#run(call, (leg) => leg.accept(sdp), true);
    } else if (type === 'candidate') {
      this.#run(call, (leg) => leg.trickle((candidate ?? null) as TrickleCandidate));
    }
    // Anything else (renegotiation, transceiver requests) has no SIP counterpart.
  }

  dtmf(session: Session, callId: string, tones: string): void {
    const call = this.#active(session, callId);
    if (!DTMF_TONES.test(tones)) {
      throw rpc(
        RpcErrorCodes.invalidParams,
        ErrorCodes.invalidParams,
        'Invalid params: "tones" must be 1 to 64 of 0-9, *, #, A-D and "," (a pause).',
      );
    }
    this.#run(call, async (leg) => {
      for (const tone of tones) {
        if (tone === ',') await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 500));
        else await leg.dtmf(tone.toUpperCase());
      }
    });
  }

  hold(session: Session, callId: string, held: boolean): void {
    const call = this.#active(session, callId);
    if (call.held === held) return;
    call.held = held;
    this.#run(call, (leg) => leg.hold(held));
  }

  /** Resolves once the far end accepted the REFER; the call then ends as `transferred`. */
  async transfer(session: Session, callId: string, to: string): Promise<void> {
    const call = this.#active(session, callId);
    const { uri } = gatewayTarget(
      session,
      to,
      call.project,
      this.trunks,
      this.gateway,
      'Transfers',
    );
    const leg = await call.leg;
    await referTransfer(call, leg, uri, this.clock);
    if (call.state === 'ended') return;
    this.#end(call, 'transferred');
    void this.#release(leg);
  }

  /** A session's socket dropped: its gateway calls go on (their events wait for its resume). */
  detached(session: Session): void {
    void session;
  }

  resumed(session: Session): void {
    void session;
  }

  /** The session is gone for good: its calls end, its rings stop. */
  ended(session: Session): void {
    for (const call of [...this.#calls.values()]) {
      if (this.#supervisors.of(call.id, session)) {
        this.#supervisors.leave(call, session);
      } else if (call.session === session) {
        this.#end(call, 'hangup');
        this.#run(call, (leg) => this.#release(leg));
      } else if (call.rung.delete(session) && call.rung.size === 0 && call.state === 'ringing') {
        this.#refuse(call, 480, 'unavailable');
      }
    }
  }

  stats(): { available: boolean; calls: number } {
    return { available: this.available, calls: this.#calls.size };
  }

  /** Ends every call (the Relay closes). */
  async close(): Promise<void> {
    for (const call of [...this.#calls.values()]) {
      this.#end(call, 'disconnected');
      await call.leg.then(
        (leg) => this.#release(leg),
        // A leg that never came: its dial failure was handled where it was awaited.
        () => undefined,
      );
    }
  }

  #incoming(incoming: IncomingSipCall): void {
    const { leg } = incoming;
    const route = incomingRoute(incoming, this.trunks, this.router, this.limits);
    if ('refuse' in route) {
      void leg
        .decline(route.refuse)
        .catch((error: unknown) =>
          this.#failed({ request: 'decline', status: route.refuse, error }),
        );
      return;
    }
    const { trunk, sessions: free } = route;
    const gateway: Gateway = incoming.from.startsWith('+') ? 'pstn' : 'sip';
    const call = this.#add(
      incoming.project,
      gateway,
      'incoming',
      incoming.from,
      Promise.resolve(leg),
    );
    call.state = 'ringing';
    call.offer = incoming.offer;
    leg.listen(this.#listener(call));
    for (const session of free) {
      call.rung.add(session);
      session.calls.add(call.id);
      this.notify(session, ServerEvents.incoming, {
        callId: call.id,
        from: incoming.from,
        gateway,
      });
    }
    call.ringTimer = this.clock.setTimeout(
      () => this.#refuse(call, 480, 'no-answer'),
      trunk.ringTimeoutMs,
    );
  }

  /** Refuses a ringing incoming call on the SIP side, and tells whoever it still rings. */
  #refuse(call: GatewayCall, status: number, reason: EndReason): void {
    if (call.state === 'ended') return;
    this.#end(call, reason);
    void call.leg
      .then((leg) => leg.decline(status))
      .catch((error: unknown) =>
        this.#failed({ callId: call.id, request: 'decline', status, error }),
      );
  }

  #listener(call: GatewayCall) {
    return gatewayLegListener(call, {
      clock: this.clock,
      notify: this.notify,
      changed: (id) => this.onChange?.(id),
      end: (ended, reason, status, sipReason) => this.#end(ended, reason, status, sipReason),
      restartAnswered: (restarted, sdp) => this.#restarts.answered(restarted, sdp),
    });
  }

  /**
   * Ends the call for the Relay: every session still in it or rung for it hears why (but
   * `by`, which ended it), and it no longer counts against their calls.
   */
  #end(
    call: GatewayCall,
    reason: EndReason,
    sipStatus?: number,
    sipReason?: string,
    by?: Session,
  ): void {
    if (call.state === 'ended') return;
    call.state = 'ended';
    this.telemetry.callEnded(call.id, call.project, reason, { sipStatus });
    this.clock.clearTimeout(call.ringTimer);
    this.#calls.delete(call.id);
    this.onChange?.(call.id);
    this.#supervisors.ended(call.id, reason);
    const told = new Set([...call.rung, ...(call.session ? [call.session] : [])]);
    for (const session of told) {
      session.calls.delete(call.id);
      if (session === by) continue;
      const params: EventParams<'call.ended'> = { callId: call.id, reason };
      if (sipStatus !== undefined) params.sipStatus = sipStatus;
      if (sipReason !== undefined) params.sipReason = sipReason;
      this.notify(session, ServerEvents.ended, params);
    }
    call.rung.clear();
  }

  /** Hangs the leg up (BYE or CANCEL) and frees it. */
  async #release(leg: SipLeg): Promise<void> {
    await leg.hangup().catch((error: unknown) => this.#failed({ request: 'hangup', error }));
    await leg.close();
  }

  /**
   * Runs a request on the call's leg after the earlier ones. When `vital` (the offer, the
   * answer) and the gateway refuses, the call fails.
   */
  #run(call: GatewayCall, work: (leg: SipLeg) => Promise<void>, vital = false): void {
    call.chain = call.chain
      .then(() => call.leg)
      .then(work)
      .catch((error: unknown) => {
        if (call.state === 'ended') return;
        // Janus's reason goes nowhere useful to the browser, but the operator should know it.
        this.#failed({ callId: call.id, vital, error });
        if (!vital) return;
        this.#end(call, 'failed');
        void call.leg.then(
          (leg) => this.#release(leg),
          // A leg that never came: its dial failure was handled where it was awaited.
          () => undefined,
        );
      });
  }

  #add(
    project: string,
    gateway: Gateway,
    direction: 'outgoing' | 'incoming',
    uri: string,
    leg: Promise<SipLeg>,
  ): GatewayCall {
    const call = newGatewayCall({ project, gateway, direction, uri, leg }, this.clock.now());
    this.onChange?.(call.id);
    // The leg's own failure is handled where it is awaited.
    leg.catch(() => undefined);
    this.#calls.set(call.id, call);
    this.telemetry.callStarted(call.id, project, { gateway, direction });
    return call;
  }

  /** A request the gateway refused: logged (at most one line per 10 s), the call goes on. */
  #failed(fields: LogFields): void {
    this.telemetry.failedRepeatedly('sip.failed', fields);
  }

  #record(call: GatewayCall): CallRecord {
    return gatewayCallRecord(call, this.#supervisors.listed(call.id));
  }

  #of(session: Session, callId: string): GatewayCall {
    const call = this.#calls.get(callId);
    if (!call || !session.calls.has(callId)) throw errors.callNotFound();
    return call;
  }

  #legOf(session: Session, callId: string): GatewayCall {
    const call = this.#of(session, callId);
    if (call.session !== session)
      throw errors.invalidState('Answer the call before sending signals.');
    return call;
  }

  #active(session: Session, callId: string): GatewayCall {
    const call = this.#legOf(session, callId);
    if (call.state !== 'active') throw errors.invalidState('The call is not answered yet.');
    return call;
  }
}
