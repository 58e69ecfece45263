import { randomUUID } from 'node:crypto';
import {
  DTMF_TONES,
  ErrorCodes,
  RelayRpcError,
  RpcErrorCodes,
  Scopes,
  ServerEvents,
  gatewayOf,
  gatewayTargetProblem,
  type EndReason,
  type EventName,
  type EventParams,
  type Gateway,
  type RejectReason,
  type RelayLimits,
  type Scope,
  type CallRecord,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { authorize, can } from '../signaling/authorize.js';
import * as errors from '../signaling/callErrors.js';
import type { Session } from '../signaling/Session.js';
import type { SessionRouter } from '../signaling/SessionRouter.js';
import type { IncomingSipCall, SipGateway, SipLeg, TrickleCandidate } from './SipGateway.js';
import { sipHost, type ResolvedTrunk } from './SipOptions.js';
import { endReasonOfSip } from './sipStatus.js';
import { GatewaySupervisors } from './GatewaySupervisors.js';
import { GatewayIceRestarts, restartOffer } from './GatewayIceRestarts.js';
import type { AssistRecord, AssistRequest } from '../supervision/Assists.js';
import type { BoardSource } from '../supervision/CallBoard.js';
import type { Handled } from '../signaling/handlers.js';

type CallState = 'setup' | 'ringing' | 'early' | 'active' | 'ended';

/** A call with one side on the SIP gateway and the other a session of the project. */
interface GatewayCall {
  id: string;
  project: string;
  gateway: Gateway;
  direction: 'outgoing' | 'incoming';
  /** The far end's SIP URI (outgoing calls), or its number or URI (incoming). */
  uri: string;
  /** The browser leg (the caller; the callee once answered). */
  session: Session | null;
  /** Sessions an incoming call rings, until one answers. */
  rung: Set<Session>;
  /** The SIP leg, once the gateway gave one. */
  leg: Promise<SipLeg>;
  state: CallState;
  held: boolean;
  /** An answer SDP went to the browser already (early media). */
  answerSent: boolean;
  /** The gateway's offer for an incoming call, sent to the browser once it answers. */
  offer: string | undefined;
  /** Requests to the leg, in order (an offer before its candidates). */
  chain: Promise<unknown>;
  ringTimer: unknown;
  /** A transfer waiting for the far end's word on its REFER. */
  referred: ((status: number) => void) | undefined;
  /** ms since the epoch. */
  startedAt: number;
  answeredAt: number | undefined;
  /** Participant ids of the browser party and of the far end, as calls.list shows them. */
  partyId: string;
  farId: string;
}

/** How long a transfer waits for the far end's NOTIFY before taking its 202 as consent, in ms. */
const TRANSFER_WAIT_MS = 5_000;

type Notify = <E extends EventName>(session: Session, event: E, params: EventParams<E>) => void;

function rpc(rpcCode: number, code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string) {
  return new RelayRpcError(rpcCode, code, message);
}

const SCOPE_OF: Record<Gateway, { scope: Scope; doing: string }> = {
  sip: { scope: Scopes.sip, doing: 'call SIP addresses' },
  pstn: { scope: Scopes.pstn, doing: 'call phone numbers' },
};

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
    const gateway = gatewayOf(to)!;
    const { scope, doing } = SCOPE_OF[gateway];
    if (!session.scopes.includes(scope)) {
      throw rpc(
        RpcErrorCodes.forbidden,
        ErrorCodes.forbidden,
        `This token lacks the "${scope}" scope. Issue the token with that scope to ${doing}.`,
      );
    }
    const problem = gatewayTargetProblem(to);
    if (problem) {
      throw rpc(
        RpcErrorCodes.invalidParams,
        ErrorCodes.invalidParams,
        `Invalid params: "to" ${problem}.`,
      );
    }
    const trunk = this.#trunk(session.projectId);
    if (gateway === 'sip' && !this.#reachable(trunk, to)) {
      throw rpc(
        RpcErrorCodes.forbidden,
        ErrorCodes.forbidden,
        `SIP calls to ${sipHost(to)} are not allowed for this project. Add the host to its ` +
          "trunk's sipDomains (docs/DEPLOY.md#sip).",
      );
    }
    if (session.calls.size >= this.limits.maxCallsPerSession) {
      throw errors.tooManyCalls(this.limits.maxCallsPerSession);
    }
    const uri = gateway === 'pstn' ? `sip:${to}@${trunk.domain}` : to;
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
      () => this.#end(call, 'failed'),
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
    const gateway = gatewayOf(to);
    const problem = gateway ? gatewayTargetProblem(to) : 'must be a phone number or a sip: URI';
    if (!gateway || problem) {
      throw rpc(
        RpcErrorCodes.invalidParams,
        ErrorCodes.invalidParams,
        `Invalid params: "to" ${problem}.`,
      );
    }
    const { scope, doing } = SCOPE_OF[gateway];
    if (!session.scopes.includes(scope)) {
      throw rpc(
        RpcErrorCodes.forbidden,
        ErrorCodes.forbidden,
        `This token lacks the "${scope}" scope. Issue the token with that scope to ${doing}.`,
      );
    }
    const trunk = this.#trunk(call.project);
    if (gateway === 'sip' && !this.#reachable(trunk, to)) {
      throw rpc(
        RpcErrorCodes.forbidden,
        ErrorCodes.forbidden,
        `Transfers to ${sipHost(to)} are not allowed for this project (sipDomains).`,
      );
    }
    const uri = gateway === 'pstn' ? `sip:${to}@${trunk.domain}` : to;
    const leg = await call.leg;
    // The far end takes the REFER (202), then says how calling the target goes (NOTIFY with
    // a sipfrag): 1xx/2xx is consent, anything else a refusal. Without a NOTIFY in time, the
    // 202 stands (Janus does not report it).
    const status = await new Promise<number>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => resolve(202), TRANSFER_WAIT_MS);
      call.referred = (code) => {
        this.clock.clearTimeout(timer);
        resolve(code);
      };
      leg.transfer(uri).catch((error: unknown) => {
        this.clock.clearTimeout(timer);
        reject(error as Error);
      });
    }).catch((error: unknown) => {
      throw rpc(
        RpcErrorCodes.invalidState,
        ErrorCodes.invalidState,
        `The gateway refused the transfer (${(error as Error).message}). The call goes on.`,
      );
    });
    call.referred = undefined;
    if (status >= 300) {
      throw rpc(
        RpcErrorCodes.invalidState,
        ErrorCodes.invalidState,
        `The other party refused the transfer (SIP ${status}). The call goes on.`,
      );
    }
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
        () => undefined,
      );
    }
  }

  #incoming(incoming: IncomingSipCall): void {
    const { leg } = incoming;
    const trunk = this.trunks.get(incoming.project);
    const number = incoming.to ?? trunk?.numbers[0];
    const resource = number === undefined ? undefined : trunk?.routes[number];
    if (!trunk || resource === undefined) {
      void leg.decline(404).catch(() => undefined);
      return;
    }
    if (incoming.offer === undefined) {
      // An INVITE without SDP: the gateway cannot offer the browser anything to answer.
      void leg.decline(488).catch(() => undefined);
      return;
    }
    const receivers = this.router
      .ofResource(incoming.project, resource)
      .filter((s) => s.link !== null && can(s.scopes, 'receive'));
    if (receivers.length === 0) {
      void leg.decline(480).catch(() => undefined);
      return;
    }
    const free = receivers.filter((s) => s.calls.size < this.limits.maxCallsPerSession);
    if (free.length === 0) {
      void leg.decline(486).catch(() => undefined);
      return;
    }
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
    void call.leg.then((leg) => leg.decline(status)).catch(() => undefined);
  }

  #listener(call: GatewayCall) {
    return {
      ringing: () => {
        if (call.state !== 'setup' || !call.session) return;
        call.state = 'ringing';
        this.onChange?.(call.id);
        this.notify(call.session, ServerEvents.ringing, { callId: call.id });
      },
      early: (sdp: string) => {
        if (call.state === 'ended' || call.state === 'active' || !call.session) return;
        call.state = 'early';
        this.#sendAnswer(call, sdp);
        this.notify(call.session, ServerEvents.early, { callId: call.id });
      },
      answered: (sdp: string | undefined) => {
        if (call.state === 'ended' || !call.session) return;
        if (sdp !== undefined) this.#sendAnswer(call, sdp);
        if (call.direction === 'outgoing' && call.state !== 'active') {
          call.state = 'active';
          call.answeredAt = this.clock.now();
          this.onChange?.(call.id);
          this.notify(call.session, ServerEvents.answered, { callId: call.id });
        }
      },
      ended: (status: number | undefined, reason: string | undefined) => {
        if (call.state === 'ended') return;
        const answered = call.state === 'active';
        // No status: Janus went away, and the call with it.
        const why =
          status === undefined && reason === undefined
            ? 'disconnected'
            : call.direction === 'incoming' && !answered
              ? 'cancelled'
              : endReasonOfSip(status, answered);
        this.#end(call, why, status, reason);
        void call.leg.then((leg) => leg.close());
      },
      referred: (status: number) => call.referred?.(status),
      updated: (sdp: string) => this.#restarts.answered(call, sdp),
      dtmf: (tones: string) => {
        if (call.session && call.state === 'active') {
          this.notify(call.session, ServerEvents.dtmf, { callId: call.id, tones });
        }
      },
    };
  }

  #sendAnswer(call: GatewayCall, sdp: string): void {
    if (call.answerSent || !call.session) return;
    call.answerSent = true;
    this.notify(call.session, ServerEvents.signal, {
      callId: call.id,
      signal: { type: 'answer', sdp },
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
    await leg.hangup().catch(() => undefined);
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
        if (!vital || call.state === 'ended') return;
        void error; // Janus's reason goes nowhere useful to the browser: the call failed.
        this.#end(call, 'failed');
        void call.leg.then(
          (leg) => this.#release(leg),
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
    const call: GatewayCall = {
      id: randomUUID(),
      project,
      gateway,
      direction,
      uri,
      session: null,
      rung: new Set(),
      leg,
      state: 'setup',
      held: false,
      answerSent: false,
      offer: undefined,
      chain: Promise.resolve(),
      ringTimer: undefined,
      referred: undefined,
      startedAt: this.clock.now(),
      answeredAt: undefined,
      partyId: randomUUID(),
      farId: randomUUID(),
    };
    this.onChange?.(call.id);
    // The leg's own failure is handled where it is awaited.
    leg.catch(() => undefined);
    this.#calls.set(call.id, call);
    return call;
  }

  #record(call: GatewayCall): CallRecord {
    const { participants, audit } = this.#supervisors.listed(call.id);
    const active = call.state === 'active';
    const far = {
      id: call.farId,
      resource:
        call.direction === 'outgoing' && call.gateway === 'pstn' ? numberOf(call.uri) : call.uri,
      state: active ? ('joined' as const) : ('ringing' as const),
      role: call.direction === 'outgoing' ? ('callee' as const) : ('caller' as const),
    };
    const browsers = call.session ? [call.session] : [...call.rung];
    const party = browsers.slice(0, 1).map((session) => ({
      id: call.partyId,
      resource: session.resource,
      state: call.session
        ? session.link === null
          ? ('away' as const)
          : ('joined' as const)
        : ('ringing' as const),
      role: call.direction === 'outgoing' ? ('caller' as const) : ('callee' as const),
    }));
    const ordered = call.direction === 'outgoing' ? [...party, far] : [far, ...party];
    const record: CallRecord = {
      id: call.id,
      kind: 'call',
      media: 'sip',
      gateway: call.gateway,
      state: active ? 'active' : 'ringing',
      startedAt: call.startedAt,
      participants: [...ordered, ...participants],
      assists: audit,
    };
    if (call.answeredAt !== undefined) record.answeredAt = call.answeredAt;
    return record;
  }

  #trunk(project: string): ResolvedTrunk {
    const trunk = this.trunks.get(project);
    if (!trunk || !this.gateway) {
      throw rpc(
        RpcErrorCodes.gatewayUnavailable,
        ErrorCodes.gatewayUnavailable,
        'This project has no SIP trunk on this Relay: configure one to call numbers and SIP ' +
          'addresses (docs/DEPLOY.md#sip).',
      );
    }
    if (!this.gateway.available) {
      throw rpc(
        RpcErrorCodes.gatewayUnavailable,
        ErrorCodes.gatewayUnavailable,
        "The Relay's media gateway (Janus) is not reachable now. Try again in a moment.",
      );
    }
    return trunk;
  }

  #reachable(trunk: ResolvedTrunk, uri: string): boolean {
    return trunk.sipDomains.includes('*') || trunk.sipDomains.includes(sipHost(uri));
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

/** The number of a `sip:+15551234567@trunk` URI. */
function numberOf(uri: string): string {
  return uri.slice(4, uri.indexOf('@'));
}
