import type { WebSocket } from 'ws';
import {
  RelayRpcError,
  RpcErrorCodes,
  ErrorCodes,
  type RelayLimits,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Session, SessionLink } from './Session.js';

export type RequestId = string | number | null;

/**
 * One signaling socket: its rate limit, its in-order request queue and its
 * send path with backpressure. It carries at most one session.
 */
export class Connection implements SessionLink {
  session: Session | null = null;
  /** Answered the last heartbeat ping. */
  alive = true;
  closed = false;
  /** ws found a frame-level protocol violation. */
  violated = false;
  /** Completed relay.connect once (stays true after its session ends). */
  authenticated = false;
  authTimer: unknown = undefined;
  /** Consecutive messages refused for the rate limit. */
  strikes = 0;
  /** Consecutive malformed messages. */
  malformed = 0;
  private tokens: number;
  private refilledAt: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ws: WebSocket,
    private readonly clock: Clock,
    private readonly limits: RelayLimits,
    /** Called when the socket must close because the peer does not read. */
    private readonly onSlowConsumer: (connection: Connection) => void,
  ) {
    this.tokens = limits.messageBurst;
    this.refilledAt = clock.now();
  }

  /** Takes one message from the token bucket; false when over the rate limit. */
  take(): boolean {
    const now = this.clock.now();
    const refill = ((now - this.refilledAt) / 1000) * this.limits.messagesPerSecond;
    this.tokens = Math.min(this.limits.messageBurst, this.tokens + refill);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Runs request handlers one after another, in arrival order. */
  enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task, task);
  }

  deliver(text: string): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.onSlowConsumer(this);
      return;
    }
    this.ws.send(text);
  }

  reply(id: RequestId, result: unknown): void {
    this.deliver(JSON.stringify({ jsonrpc: '2.0', id, result }));
  }

  replyError(id: RequestId, error: RelayRpcError): void {
    this.deliver(
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        error: { code: error.rpcCode, message: error.message, data: { code: error.code } },
      }),
    );
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.authTimer);
    this.ws.close(code, reason.slice(0, 120));
  }
}

export function internalError(): RelayRpcError {
  return new RelayRpcError(
    RpcErrorCodes.internal,
    ErrorCodes.internal,
    'The Relay failed to handle this request. Try again.',
  );
}
