import { ServerEvents, type EventName, type EventParams } from '../../protocol/index.js';
import type { Session } from '../signaling/Session.js';
import type { SipLeg } from './SipGateway.js';

type Notify = <E extends EventName>(session: Session, event: E, params: EventParams<E>) => void;

/** What an ICE restart needs of a gateway call. */
export interface RestartableCall {
  id: string;
  state: 'setup' | 'ringing' | 'early' | 'active' | 'ended';
  /** The browser leg. */
  session: Session | null;
}

/** The SDP of an ICE restart offer, `{type: 'offer', sdp, restart: true}`, else undefined. */
export function restartOffer(signal: unknown): string | undefined {
  if (typeof signal !== 'object' || signal === null) return undefined;
  const { type, sdp, restart } = signal as Record<string, unknown>;
  return type === 'offer' && restart === true && typeof sdp === 'string' ? sdp : undefined;
}

/**
 * ICE restarts of gateway calls (docs/PROTOCOL.md#sip-and-phone-calls): the browser offers each
 * one, on outgoing and incoming calls alike, and the gateway answers it. The offer goes to the
 * leg as an update (Janus's SIP plugin restarts its ICE and re-INVITEs the far end); the answer
 * comes back to the browser as `call.signal {type: 'answer', sdp}`. A restart that fails on the
 * gateway's side leaves the call as it is: the browser's next attempt offers again, and its
 * last one gives up (the call then ends `disconnected`).
 */
export class GatewayIceRestarts {
  constructor(private readonly notify: Notify) {}

  /**
   * Hands a restart offer to the call's leg through `run` (after the leg's earlier requests).
   * Before the answer (Janus takes updates only in an answered call) it is dropped: the
   * browser's restart times out and offers again.
   */
  offer(
    call: RestartableCall,
    sdp: string,
    run: (work: (leg: SipLeg) => Promise<void>) => void,
  ): void {
    if (call.state !== 'active') return;
    run((leg) => leg.update(sdp));
  }

  /**
   * The gateway answered a restart: to the browser. (A held call's restart re-INVITEs with the
   * browser's direction, sendrecv: Janus still counts the call as held and drops the far end's
   * audio, and takes `hold` again only after an `unhold`.)
   */
  answered(call: RestartableCall, sdp: string): void {
    if (call.state !== 'active' || !call.session) return;
    this.notify(call.session, ServerEvents.signal, {
      callId: call.id,
      signal: { type: 'answer', sdp },
    });
  }
}
