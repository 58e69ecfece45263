import { randomUUID } from 'node:crypto';
import type { Gateway } from '../../protocol/index.js';
import type { Session } from '../signaling/Session.js';
import type { SipLeg } from './SipGateway.js';

export type GatewayCallState = 'setup' | 'ringing' | 'early' | 'active' | 'ended';

/** A call with one side on the SIP gateway and the other a session of the project. */
export interface GatewayCall {
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
  state: GatewayCallState;
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

/** A new call in `setup`, started now (`now`: ms since the epoch). */
export function newGatewayCall(
  fields: Pick<GatewayCall, 'project' | 'gateway' | 'direction' | 'uri' | 'leg'>,
  now: number,
): GatewayCall {
  return {
    ...fields,
    id: randomUUID(),
    session: null,
    rung: new Set(),
    state: 'setup',
    held: false,
    answerSent: false,
    offer: undefined,
    chain: Promise.resolve(),
    ringTimer: undefined,
    referred: undefined,
    startedAt: now,
    answeredAt: undefined,
    partyId: randomUUID(),
    farId: randomUUID(),
  };
}
