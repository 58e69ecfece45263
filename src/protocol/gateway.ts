/**
 * Calls to SIP endpoints and phone numbers, placed and received through the Relay's SIP gateway
 * (Janus's SIP plugin): call targets, the requests only gateway calls take, and their events.
 * See docs/PROTOCOL.md#sip-and-phone-calls.
 */
import type { CallIdParams } from './messages.js';

/** What carries the other side of a call: a SIP endpoint (`sip:`) or a phone number (E.164). */
export type Gateway = 'sip' | 'pstn';

/** An E.164 phone number: '+', a country code that does not start with 0, at most 15 digits. */
const E164 = /^\+[1-9][0-9]{1,14}$/;
/**
 * A SIP URI without parameters or headers: `sip:user@host` or `sip:user@host:port`, where host
 * is a DNS name, an IPv4 address or a bracketed IPv6 address.
 */
const SIP_URI =
  /^sip:[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$/;

/** Longest SIP URI a call may target, in characters. */
export const MAX_SIP_URI_LENGTH = 256;

/**
 * The gateway a call target needs: 'pstn' for an E.164 number ('+15551234567'), 'sip' for a
 * `sip:` URI, null for anything else (a resource of the project). Targets of the first two
 * forms are never taken for resource names.
 */
export function gatewayOf(to: string): Gateway | null {
  if (to.startsWith('+')) return 'pstn';
  if (to.slice(0, 4).toLowerCase() === 'sip:' || to.slice(0, 5).toLowerCase() === 'sips:') {
    return 'sip';
  }
  return null;
}

/** What is wrong with a gateway target (`+…` or `sip:…`), or undefined when it is usable. */
export function gatewayTargetProblem(to: string): string | undefined {
  const gateway = gatewayOf(to);
  if (gateway === 'pstn') {
    return E164.test(to)
      ? undefined
      : "must be an E.164 number: '+', the country code and the number, 2 to 15 digits (e.g. '+15551234567')";
  }
  if (gateway === 'sip') {
    if (to.length > MAX_SIP_URI_LENGTH) return `must be at most ${MAX_SIP_URI_LENGTH} characters`;
    if (to.slice(0, 5).toLowerCase() === 'sips:')
      return "must be a 'sip:' URI ('sips:' is not supported)";
    return SIP_URI.test(to)
      ? undefined
      : "must be a SIP URI 'sip:user@host' or 'sip:user@host:port' without parameters";
  }
  return 'is neither a phone number nor a SIP URI';
}

/** DTMF a gateway call sends: 0-9, *, #, A-D, and ',' for a pause of half a second. */
export const DTMF_TONES = /^[0-9A-Da-d#*,]{1,64}$/;

export interface DtmfParams extends CallIdParams {
  /** Tones to send, matching {@link DTMF_TONES} (at most 64). */
  tones: string;
}

export interface HoldParams extends CallIdParams {
  /** True puts the call on hold (re-INVITE, sendonly), false resumes it (sendrecv). */
  held: boolean;
}

export interface TransferParams extends CallIdParams {
  /** Where the other party goes: a `sip:` URI or an E.164 number (the token needs its scope). */
  to: string;
}

/** DTMF the other side of a gateway call sent (SIP INFO). */
export interface DtmfEvent {
  seq: number;
  callId: string;
  tones: string;
}
