import {
  DTMF_TONES,
  ErrorCodes,
  RelayError,
  Scopes,
  ServerEvents,
  gatewayOf,
  gatewayTargetProblem,
  type EndReason,
  type Gateway,
  type Scope,
} from '../../protocol/index.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { CallEndReason, ClientClock, MediaOptions, RelayClientState } from '../types.js';
import { endError } from './callMessages.js';
import { applyTrackStates } from './callPeer.js';
import type { CallRequests } from './callRequests.js';
import type { CallRecord, CallTable } from './CallTable.js';

/**
 * Calls through the Relay's SIP gateway (phone numbers and `sip:` URIs): what differs from calls
 * between browsers. No data channel: hold, DTMF without RFC 4733 and transfer go through the
 * Relay; the call is active once the SIP side answered, even when early media flowed before.
 */

const SCOPE_OF: Record<Gateway, Scope> = { pstn: Scopes.pstn, sip: Scopes.sip };
const WHAT: Record<Gateway, string> = { pstn: 'phone numbers', sip: 'SIP addresses' };

/** `value` when it names a gateway, else null (an incoming call's `gateway` param). */
export function asGateway(value: unknown): Gateway | null {
  return value === 'sip' || value === 'pstn' ? value : null;
}

/** Gateway calls are audio only, unless video is asked for explicitly on a `sip:` call. */
export function gatewayMedia<T extends MediaOptions>(gateway: Gateway | null, options: T): T {
  if (!gateway) return options;
  return { ...options, video: gateway === 'sip' ? (options.video ?? false) : false };
}

function targetError(to: string, verb: string): RelayError | null {
  const gateway = gatewayOf(to);
  const problem = gateway ? gatewayTargetProblem(to) : undefined;
  return problem
    ? new RelayError(ErrorCodes.invalidParams, `Cannot ${verb} ${to}: it ${problem}.`)
    : null;
}

function scopeError(gateway: Gateway, scopes: readonly Scope[]): RelayError | null {
  const scope = SCOPE_OF[gateway];
  if (scopes.includes(scope)) return null;
  const message = `Your token may not call ${WHAT[gateway]}. Ask for a token with ${scope}.`;
  return new RelayError(ErrorCodes.forbidden, message);
}

/**
 * Why a call to `to` cannot be placed, known before asking the Relay: a malformed number or SIP
 * URI, or (once connected, when the scopes are known) a token without `calls:dial` or without
 * the gateway's scope. Null when nothing stands in the way.
 */
export function dialRefusal(
  to: string,
  { status, scopes }: Pick<RelayClientState, 'status' | 'scopes'>,
): { reason: CallEndReason; error: RelayError } | null {
  const malformed = targetError(to, 'call');
  if (malformed) return { reason: 'failed', error: malformed };
  if (status !== 'connected') return null;
  if (!scopes.includes(Scopes.dial)) return { reason: 'forbidden', error: endError('forbidden')! };
  const gateway = gatewayOf(to);
  const refused = gateway ? scopeError(gateway, scopes) : null;
  return refused ? { reason: 'forbidden', error: refused } : null;
}

/** The error a gateway call ended with, naming the SIP status when there was one. */
export function gatewayEndError(
  reason: string,
  remote: string,
  sipStatus: number | null,
  sipReason?: unknown,
): RelayError | null {
  const phrase = typeof sipReason === 'string' && sipReason ? ` ${sipReason}` : '';
  const sip = sipStatus === null ? '' : `SIP ${sipStatus}${phrase}`;
  const paren = sip ? ` (${sip})` : '';
  const error = (code: RelayError['code'], message: string) => new RelayError(code, message);
  switch (reason) {
    case 'busy':
      return error(ErrorCodes.busy, `${remote} is busy${paren}. Try again later.`);
    case 'unavailable':
      return error(ErrorCodes.unavailable, `${remote} cannot take calls${paren}. Check it.`);
    case 'forbidden':
      return error(ErrorCodes.forbidden, `The SIP trunk refused the call to ${remote}${paren}.`);
    case 'no-answer':
      return error(ErrorCodes.noAnswer, `${remote} did not answer${paren}. Try again later.`);
    case 'failed':
      return error(ErrorCodes.callFailed, sip ? `The call failed: ${sip}.` : 'The call failed.');
    default:
      return endError(reason);
  }
}

export interface GatewayCallsDeps {
  table: CallTable;
  clock: ClientClock;
  requests: CallRequests;
  request: RequestFn;
  state(): RelayClientState;
  finish(record: CallRecord, reason: CallEndReason, error: RelayError | null): void;
  /** Web Audio, to mix a barging supervisor into what the far end hears (none: not heard). */
  AudioContext?: typeof AudioContext | undefined;
}

/** The gateway side of the call manager. Each method returns false for other calls. */
export class GatewayCalls {
  constructor(private readonly deps: GatewayCallsDeps) {}

  /** Handles a call event when the call is a gateway call; false for other calls. */
  onEvent(record: CallRecord, method: string, params: Record<string, unknown>): boolean {
    const { table } = this.deps;
    const call = table.snapshot(record.id);
    if (!call?.gateway) return false;
    if (method === ServerEvents.early) {
      if (call.direction === 'outgoing' && (call.state === 'dialing' || call.state === 'ringing'))
        table.update(record.id, { state: 'early' });
    } else if (method === ServerEvents.answered) {
      this.deps.clock.clearTimeout(record.noAnswerTimer);
      // Early media may have connected the media already: active at once then.
      table.update(
        record.id,
        record.peer?.connected
          ? { state: 'active', startedAt: this.deps.clock.now() }
          : { state: 'connecting' },
      );
    } else if (method === ServerEvents.dtmf) {
      if (typeof params.tones === 'string')
        table.update(record.id, { remoteDtmf: call.remoteDtmf + params.tones });
    } else if (method === ServerEvents.ended) {
      // No peer-to-peer fallback: without the Relay, nothing carries the SIP side.
      const reason = params.reason as EndReason;
      const sipStatus = typeof params.sipStatus === 'number' ? params.sipStatus : null;
      table.update(record.id, { sipStatus });
      this.deps.finish(
        record,
        reason,
        gatewayEndError(reason, call.remote, sipStatus, params.sipReason),
      );
    } else {
      return false;
    }
    return true;
  }

  /** Hold through the Relay (a re-INVITE), retried like signals when lost. */
  setHeld(callId: string, held: boolean): boolean {
    const { table } = this.deps;
    const record = table.get(callId);
    const call = table.snapshot(callId);
    if (!call?.gateway) return false;
    if (!record?.serverId || (call.state !== 'active' && call.state !== 'held')) return true;
    if (call.held === held) return true;
    table.update(callId, { held, state: held ? 'held' : 'active' });
    applyTrackStates(record, table);
    this.supervised(callId);
    this.deps.requests.tell(record, 'call.hold', { callId: record.serverId, held });
    return true;
  }

  /**
   * The call's supervisors (or hold) changed: while one barges, the far end hears it too, mixed
   * with the microphone (FarEndMix, loaded with a gateway call's first barge).
   */
  supervised(callId: string): void {
    const { table, AudioContext } = this.deps;
    const record = table.get(callId);
    const call = table.snapshot(callId);
    if (!record || !call?.gateway) return;
    if (record.farEnd) void record.farEnd.sync().catch(() => undefined);
    else if (call.supervisors.some((s) => s.mode === 'barge'))
      import('../supervision/FarEndMix.js')
        .then(({ FarEndMix }) =>
          (record.farEnd ??= new FarEndMix(record, table, AudioContext)).sync(),
        )
        // Not loaded, or refused by the browser: the far end does not hear the supervisor.
        .catch(() => undefined);
  }

  /** DTMF in the media (RFC 4733) when telephone-event was negotiated, else SIP INFO. */
  sendDtmf(callId: string, tones: string): boolean {
    const record = this.deps.table.get(callId);
    const call = this.deps.table.snapshot(callId);
    if (!call?.gateway) return false;
    const live = call.state === 'active' || call.state === 'early';
    if (!record?.peer || !record.serverId || !live || !DTMF_TONES.test(tones)) return true;
    const dtmf = record.peer.pc.getSenders().find((s) => s.track?.kind === 'audio')?.dtmf;
    if (dtmf?.canInsertDTMF) {
      try {
        // insertDTMF replaces what is still queued: keep it, so fast key presses all play.
        dtmf.insertDTMF(dtmf.toneBuffer + tones, 100, 70);
        return true;
      } catch {
        // refused (a buffer too long…): through the Relay instead
      }
    }
    this.deps.requests.tell(record, 'call.dtmf', { callId: record.serverId, tones });
    return true;
  }

  /** Blind transfer (SIP REFER); the Relay then ends the call with `transferred`. */
  async transfer(callId: string, to: string): Promise<void> {
    const record = this.deps.table.get(callId);
    const call = this.deps.table.snapshot(callId);
    if (!record || !call) {
      throw new RelayError(ErrorCodes.callNotFound, `There is no call ${callId}.`);
    }
    if (!call.gateway) {
      throw new RelayError(
        ErrorCodes.invalidState,
        'Only calls through the SIP gateway (phone numbers, sip: URIs) can be transferred.',
      );
    }
    if ((call.state !== 'active' && call.state !== 'held') || !record.serverId) {
      throw new RelayError(ErrorCodes.invalidState, 'Only an active call can be transferred.');
    }
    const gateway = gatewayOf(to);
    if (!gateway) {
      const message = `Cannot transfer to ${to}: give a phone number ('+15551234567') or a sip: URI.`;
      throw new RelayError(ErrorCodes.invalidParams, message);
    }
    const { status, scopes } = this.deps.state();
    const refused =
      targetError(to, 'transfer to') ??
      (status === 'connected' ? scopeError(gateway, scopes) : null);
    if (refused) throw refused;
    await this.deps.request('call.transfer', { callId: record.serverId, to });
  }
}
