import { RelayError, type SignalParams } from '../../protocol/index.js';
import { RETRIED_LATER, lostWithConnection } from '../connection/connectionErrors.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { ClientClock } from '../types.js';

/** A signal refused for the rate limit or a backlogged receiver goes again after this, in ms. */
const RETRY_MS = 1_000;

interface Pending {
  params: SignalParams;
  alive: () => boolean;
}

/**
 * Sends the signals of supervision links (`call.signal` with `to`) without waiting: refused
 * for a while (`rate_limited`, `peer_backlogged`), one goes again a second later; lost with the
 * connection, it goes again once the session resumes. Only while its link is `alive()`.
 */
export class SignalTeller {
  private lost: Pending[] = [];

  constructor(
    private readonly request: RequestFn,
    private readonly clock: ClientClock,
  ) {}

  tell(params: SignalParams, alive: () => boolean): void {
    if (!alive()) return;
    this.request('call.signal', params).catch((error: unknown) => {
      if (error instanceof RelayError && RETRIED_LATER.has(error.code)) {
        this.clock.setTimeout(() => this.tell(params, alive), RETRY_MS);
      } else if (lostWithConnection(error)) {
        this.lost.push({ params, alive });
      }
      // Other refusals (the call or the supervisor is gone) are final: the link closes with it.
    });
  }

  /** The session resumed: what the old socket lost goes again, in order. */
  resend(): void {
    for (const { params, alive } of this.lost.splice(0)) this.tell(params, alive);
  }

  /** A fresh session: nothing the old one lost matters any more. */
  clear(): void {
    this.lost = [];
  }
}
