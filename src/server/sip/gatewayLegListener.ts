import {
  ServerEvents,
  type EndReason,
  type EventName,
  type EventParams,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Session } from '../signaling/Session.js';
import type { GatewayCall } from './GatewayCall.js';
import type { SipLegListener } from './SipGateway.js';
import { endReasonOfSip } from './sipStatus.js';

/** What the events of a call's SIP leg act on. */
export interface GatewayLegHost {
  clock: Clock;
  notify<E extends EventName>(session: Session, event: E, params: EventParams<E>): void;
  /** The call's state changed (supervision lists calls from it). */
  changed(callId: string): void;
  /** Ends the call for the Relay, telling its sessions why. */
  end(call: GatewayCall, reason: EndReason, sipStatus?: number, sipReason?: string): void;
  /** The far end answered an ICE restart (its re-INVITE's answer). */
  restartAnswered(call: GatewayCall, sdp: string): void;
}

/**
 * Turns what the gateway says of a call's SIP leg into the call's state and the browser's
 * events: ringing (180/183), early media (183 with SDP: `call.early` and the answer), answered
 * (200), ended (the SIP status mapped to an end reason), REFER progress, restarts, DTMF.
 */
export function gatewayLegListener(call: GatewayCall, host: GatewayLegHost): SipLegListener {
  const sendAnswer = (sdp: string) => {
    if (call.answerSent || !call.session) return;
    call.answerSent = true;
    host.notify(call.session, ServerEvents.signal, {
      callId: call.id,
      signal: { type: 'answer', sdp },
    });
  };
  return {
    ringing: () => {
      if (call.state !== 'setup' || !call.session) return;
      call.state = 'ringing';
      host.changed(call.id);
      host.notify(call.session, ServerEvents.ringing, { callId: call.id });
    },
    early: (sdp: string) => {
      if (call.state === 'ended' || call.state === 'active' || !call.session) return;
      call.state = 'early';
      sendAnswer(sdp);
      host.notify(call.session, ServerEvents.early, { callId: call.id });
    },
    answered: (sdp: string | undefined) => {
      if (call.state === 'ended' || !call.session) return;
      if (sdp !== undefined) sendAnswer(sdp);
      if (call.direction === 'outgoing' && call.state !== 'active') {
        call.state = 'active';
        call.answeredAt = host.clock.now();
        host.changed(call.id);
        host.notify(call.session, ServerEvents.answered, { callId: call.id });
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
      host.end(call, why, status, reason);
      void call.leg.then((leg) => leg.close());
    },
    referred: (status: number) => call.referred?.(status),
    updated: (sdp: string) => host.restartAnswered(call, sdp),
    dtmf: (tones: string) => {
      if (call.session && call.state === 'active') {
        host.notify(call.session, ServerEvents.dtmf, { callId: call.id, tones });
      }
    },
  };
}
