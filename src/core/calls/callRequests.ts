import {
  RelayError,
  type CallIdParams,
  type DtmfParams,
  type HoldParams,
  type MethodParams,
  type RejectParams,
  type SignalParams,
} from '../../protocol/index.js';
import { RETRIED_LATER, lostWithConnection } from '../connection/connectionErrors.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { ClientClock } from '../types.js';
import type { CallRecord } from './CallTable.js';

/** A call request the Relay refused for its rate limit goes again after this, in ms. */
const RATE_LIMIT_RETRY_MS = 1_000;

/** A request about a call that needs no answer beyond its outcome. */
export type CallRequest =
  | { method: 'call.signal'; params: SignalParams }
  | { method: 'call.hangup'; params: CallIdParams }
  | { method: 'call.reject'; params: RejectParams }
  | { method: 'call.dtmf'; params: DtmfParams }
  | { method: 'call.hold'; params: HoldParams };

/** Requests that only matter while their call lives (the others end it). */
const WHILE_LIVE: ReadonlySet<CallRequest['method']> = new Set([
  'call.signal',
  'call.dtmf',
  'call.hold',
]);

/** A request lost with the connection (its outcome unknown), to send again after a resume. */
interface Retry {
  record: CallRecord;
  request: CallRequest;
}

/**
 * Sends the requests about calls that nobody waits for (signals, hangups, rejects, a gateway
 * call's DTMF and hold), and sends
 * them again when they were refused for a while or lost with the connection.
 */
export class CallRequests {
  /** Requests lost with the connection, in order, sent again once the session resumes. */
  private retries: Retry[] = [];

  constructor(
    private readonly request: RequestFn,
    private readonly clock: ClientClock,
    /** The call ended (its signals are not worth sending any more). */
    private readonly ended: (record: CallRecord) => boolean,
  ) {}

  /**
   * Sends a request about a call, without waiting. Lost with the connection, it is sent again
   * after a resume; refused for the rate limit or because the other side is not reading yet
   * (`peer_backlogged`), a little later (a hangup always, a signal, DTMF or hold while the call
   * lives). Other failures are final.
   */
  tell<M extends CallRequest['method']>(
    record: CallRecord,
    method: M,
    params: MethodParams<M>,
  ): void {
    this.request(method, params).catch((error: unknown) => {
      if (error instanceof RelayError && RETRIED_LATER.has(error.code)) {
        // Refused unhandled (our rate limit, or the other side not reading yet): the same
        // again a little later.
        this.clock.setTimeout(() => {
          if (!WHILE_LIVE.has(method) || !this.ended(record)) this.tell(record, method, params);
        }, RATE_LIMIT_RETRY_MS);
        return;
      }
      if (!lostWithConnection(error)) return;
      // A lost reject is retried as a hangup: that ends the call whatever its state by then.
      const { callId } = params;
      this.retries.push({
        record,
        request: WHILE_LIVE.has(method)
          ? ({ method, params } as CallRequest)
          : { method: 'call.hangup', params: { callId } },
      });
    });
  }

  /** The Relay resumed the session: requests lost with the old socket go again, in order. */
  resend(): void {
    for (const { record, request } of this.retries.splice(0)) {
      if (!WHILE_LIVE.has(request.method) || !this.ended(record)) {
        this.tell(record, request.method, request.params);
      }
    }
  }

  /** A fresh session: what the old one lost is moot. */
  clear(): void {
    this.retries = [];
  }
}
