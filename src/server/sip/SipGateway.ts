import type { ResolvedTrunk } from './SipOptions.js';

/** What a SIP leg reports about its call. */
export interface SipLegListener {
  /** 180, or 183 without SDP: the far end rings. */
  ringing(): void;
  /** 183 with SDP: early media; `sdp` answers the browser's offer. */
  early(sdp: string): void;
  /** 200: answered; `sdp` answers the offer unless early media already did. */
  answered(sdp: string | undefined): void;
  /**
   * The call is over on the SIP side: the final status when there was one (486, 487…), both
   * undefined when the gateway itself went away.
   */
  ended(status: number | undefined, reason: string | undefined): void;
  /** DTMF the far end sent (SIP INFO). */
  dtmf(tones: string): void;
  /** The far end reported on a transfer we asked for (NOTIFY of the REFER): its SIP status. */
  referred(status: number): void;
  /** The re-INVITE of an `update` was answered (200): `sdp` answers the browser's new offer. */
  updated(sdp: string): void;
}

/** A candidate as a browser trickles it; null once gathering completed. */
export type TrickleCandidate = {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
} | null;

/** One call's SIP side on the gateway. Every method rejects when the gateway refuses. */
export interface SipLeg {
  listen(listener: SipLegListener): void;
  /** Sends the INVITE to `uri`, with the browser's SDP offer. */
  invite(uri: string, offer: string): Promise<void>;
  /** Answers an incoming call (200) with the browser's SDP answer. */
  accept(answer: string): Promise<void>;
  /** A browser ICE candidate for the gateway's WebRTC side. */
  trickle(candidate: TrickleCandidate): Promise<void>;
  /** One DTMF digit as SIP INFO. */
  dtmf(digit: string): Promise<void>;
  /**
   * Renegotiates the browser's side with its new SDP offer (an ICE restart): a re-INVITE on the
   * SIP side; the answer comes with `updated`. Only once the call is answered.
   */
  update(offer: string): Promise<void>;
  /** Hold (re-INVITE, sendonly) or resume (sendrecv). */
  hold(held: boolean): Promise<void>;
  /** Blind transfer: REFER the far end to `uri`. */
  transfer(uri: string): Promise<void>;
  /** BYE when answered, CANCEL while it rings. */
  hangup(): Promise<void>;
  /** Refuses an incoming call with `status` (480, 486, 603…). */
  decline(status: number): Promise<void>;
  /** Frees the leg's gateway resources (after hangup or end). Never rejects. */
  close(): Promise<void>;
}

/** A call from a trunk to one of a project's numbers. */
export interface IncomingSipCall {
  project: string;
  /** The caller: its E.164 number, or its SIP URI. */
  from: string;
  /** The number called (one of the trunk's numbers), or undefined when the gateway did not say. */
  to: string | undefined;
  /** The gateway's SDP offer for the browser; undefined for an INVITE without SDP. */
  offer: string | undefined;
  leg: SipLeg;
}

/** Where a gateway call goes (it calls from the project's first number). */
export interface SipDial {
  uri: string;
  /** Through the trunk's proxy (numbers), or straight to the URI's host (`sip:` URIs). */
  viaProxy: boolean;
}

/** The SIP gateway the Relay drives (Janus's SIP plugin). */
export interface SipGateway {
  /** Whether the gateway answers now. */
  readonly available: boolean;
  /** A leg ready to invite, for a project's trunk. Rejects when the gateway is down. */
  dial(trunk: ResolvedTrunk, dial: SipDial): Promise<SipLeg>;
  /** Registers the trunks that route numbers, and hands their incoming calls to `incoming`. */
  start(trunks: Map<string, ResolvedTrunk>, incoming: (call: IncomingSipCall) => void): void;
  close(): Promise<void>;
}
