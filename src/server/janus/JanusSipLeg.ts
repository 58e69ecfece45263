import type { SipLeg, SipLegListener, TrickleCandidate } from '../sip/SipGateway.js';
import type { JanusEvent, JanusHandle } from './JanusHandle.js';
import type { JanusSession } from './JanusSession.js';

/** DTMF digits in an INFO body: application/dtmf-relay ("Signal=5") or application/dtmf ("5"). */
function dtmfOf(content: unknown): string {
  if (typeof content !== 'string') return '';
  const relay = /Signal\s*=\s*([0-9A-Da-d#*])/.exec(content);
  if (relay) return relay[1]!.toUpperCase();
  const plain = /^\s*([0-9A-Da-d#*])\s*$/.exec(content);
  return plain ? plain[1]!.toUpperCase() : '';
}

/**
 * One call on a handle of Janus's SIP plugin. A dialled call owns its Janus session (closed
 * with the call); an incoming call borrows its trunk's registered handle, which stays.
 */
export class JanusSipLeg implements SipLeg {
  #listener: SipLegListener | undefined;
  #ended = false;
  #invited: (() => void) | undefined;
  /** An update was sent and its re-INVITE not answered yet: Janus's next `accepted` answers it. */
  #updating = false;

  constructor(
    private readonly handle: JanusHandle,
    /** The session to destroy on close, when the leg owns it. */
    private readonly session: JanusSession | undefined,
    /**
     * An incoming call: resolves once Janus can take an answer or a refusal for it. Janus's SIP
     * plugin announces the call before it keeps the INVITE's transaction (it sends the 180
     * first); an `accept` or `decline` handled in between is answered as taken but sends
     * nothing, and the caller rings until it gives up.
     */
    private readonly settled: Promise<void> = Promise.resolve(),
  ) {}

  /** Whether its Janus session and handle are still there (a ready leg may lose them). */
  get usable(): boolean {
    return !this.#ended && !this.handle.detached && !(this.session?.gone ?? false);
  }

  listen(listener: SipLegListener): void {
    this.#listener = listener;
  }

  /** A SIP plugin event about this leg's call. */
  dispatch(event: JanusEvent): void {
    const result = event.data.result;
    if (typeof result !== 'object' || result === null || this.#ended) return;
    const { event: name, code, reason, type, content } = result as Record<string, unknown>;
    const listener = this.#listener;
    if (!listener) return;
    switch (name) {
      case 'ringing':
        listener.ringing();
        return;
      case 'proceeding':
        if (code === 180 || code === 183) listener.ringing();
        return;
      case 'progress':
        if (event.jsep?.type === 'answer') listener.early(event.jsep.sdp);
        else listener.ringing();
        return;
      case 'accepted':
        if (this.#updating && event.jsep?.type === 'answer') {
          this.#updating = false;
          listener.updated(event.jsep.sdp);
          return;
        }
        listener.answered(event.jsep?.type === 'answer' ? event.jsep.sdp : undefined);
        return;
      case 'hangup':
        this.#ended = true;
        listener.ended(
          typeof code === 'number' ? code : undefined,
          typeof reason === 'string' ? reason : undefined,
        );
        return;
      case 'info': {
        const tones = typeof type === 'string' && /dtmf/i.test(type) ? dtmfOf(content) : '';
        if (tones) listener.dtmf(tones);
        return;
      }
      case 'notify': {
        const { notify } = result as Record<string, unknown>;
        const status = typeof content === 'string' ? /^SIP\/2\.0 (\d{3})/.exec(content) : null;
        if (notify === 'refer' && status) listener.referred(Number(status[1]));
        return;
      }
      case 'dtmf': {
        const signal = (result as Record<string, unknown>).signal;
        if (typeof signal === 'string' && signal) listener.dtmf(signal);
        return;
      }
      default:
    }
  }

  /** Janus dropped the handle (Janus gone): the call is over. */
  lost(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#listener?.ended(undefined, undefined);
  }

  /** `then` runs once its INVITE went out (or failed to). */
  whenInvited(then: () => void): void {
    this.#invited = then;
  }

  async invite(uri: string, offer: string): Promise<void> {
    try {
      // Janus answers "calling" once the INVITE is out; the rest arrives as events.
      await this.handle.message(
        { request: 'call', uri, autoaccept_reinvites: true },
        { type: 'offer', sdp: offer },
      );
    } finally {
      this.#invited?.();
      this.#invited = undefined;
    }
  }

  async accept(answer: string): Promise<void> {
    await this.settled;
    await this.handle.message({ request: 'accept' }, { type: 'answer', sdp: answer });
  }

  async trickle(candidate: TrickleCandidate): Promise<void> {
    await this.handle.trickle(candidate);
  }

  async dtmf(digit: string): Promise<void> {
    await this.handle.message({ request: 'dtmf_info', digit, duration: 160 });
  }

  async update(offer: string): Promise<void> {
    // Janus restarts its ICE when the offer's credentials are new, and sends a re-INVITE with
    // its own (unchanged) RTP side; the 200 comes back as an `accepted` event with the answer.
    this.#updating = true;
    await this.handle.message({ request: 'update' }, { type: 'offer', sdp: offer });
  }

  async hold(held: boolean): Promise<void> {
    await this.handle.message(
      held ? { request: 'hold', direction: 'sendonly' } : { request: 'unhold' },
    );
  }

  async transfer(uri: string): Promise<void> {
    await this.handle.message({ request: 'transfer', uri });
  }

  async hangup(): Promise<void> {
    this.#ended = true;
    await this.handle.message({ request: 'hangup' });
  }

  async decline(status: number): Promise<void> {
    this.#ended = true;
    await this.settled;
    await this.handle.message({ request: 'decline', code: status });
  }

  async close(): Promise<void> {
    this.#ended = true;
    this.#listener = undefined;
    if (this.session) await this.session.destroy().catch(() => undefined);
  }
}
