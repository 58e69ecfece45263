import { CloseCodes } from '../../protocol/index.js';
import type { ClientClock } from '../types.js';
import type { RpcConnection } from './RpcConnection.js';

/** Notifications between acknowledgements when the Relay sends many (a fraction of resumeBufferMessages). */
const ACK_EVERY = 32;
/** A ping deadline running this late (ms) found the page frozen rather than the socket dead. */
const FROZEN_MS = 1_000;
/** Deadlines of one ping that wait again because they ran late, before the socket is dropped. */
const MAX_FROZEN_WAITS = 3;

export interface KeepAliveOptions {
  clock: ClientClock;
  /** Keep-alive ping interval, in ms. */
  intervalMs: number;
  /** A ping unanswered this long means the socket is dead, in ms. */
  timeoutMs: number;
  /** The connection in use, or null. */
  current: () => RpcConnection | null;
  /** Highest `seq` processed in the session: what pings acknowledge. */
  lastSeq(): number;
  /** The connection did not answer a ping in time (it was closed): reconnect. */
  onDead(): void;
}

/**
 * Pings the Relay on a live connection: it finds a silently dead socket, and acknowledges the
 * notifications processed so the Relay can let go of its replay copies.
 */
export class KeepAlive {
  private timer: unknown;
  /** The last seq the Relay was told this client processed. */
  private ackedSeq = 0;

  constructor(private readonly options: KeepAliveOptions) {}

  /** Pings the current connection from now on, one interval after the last answer. */
  start(): void {
    this.stop();
    this.timer = this.options.clock.setTimeout(() => this.ping(), this.options.intervalMs);
  }

  stop(): void {
    this.options.clock.clearTimeout(this.timer);
  }

  /** A fresh session: nothing acknowledged in it yet. */
  reset(): void {
    this.ackedSeq = 0;
  }

  /**
   * A notification was processed. Between pings, a busy session acknowledges every ACK_EVERY
   * notifications, so the Relay can let go of them (it keeps what is unacknowledged for a
   * resume) while they are young.
   */
  processed(): void {
    const conn = this.options.current();
    const lastSeq = this.options.lastSeq();
    if (lastSeq - this.ackedSeq >= ACK_EVERY && conn) {
      this.ackedSeq = lastSeq;
      conn.notify('relay.ping', { ack: lastSeq });
    }
  }

  private ping(): void {
    const { clock, current, timeoutMs } = this.options;
    const conn = current();
    if (!conn) return;
    let deadline: unknown;
    let waits = 0;
    const arm = () => {
      const dueAt = clock.now() + timeoutMs;
      deadline = clock.setTimeout(() => {
        if (current() !== conn) return;
        // Run well after it was due, this timer says the page was frozen (a busy or
        // background tab), not the socket: the answer may be queued right behind it.
        if (clock.now() - dueAt > FROZEN_MS && waits < MAX_FROZEN_WAITS) {
          waits += 1;
          arm();
          return;
        }
        // No answer: the socket is silently dead. Drop it and reconnect.
        conn.close(CloseCodes.normal, 'keep-alive timeout');
        this.options.onDead();
      }, timeoutMs);
    };
    arm();
    this.ackedSeq = this.options.lastSeq();
    const settled = () => {
      clock.clearTimeout(deadline);
      // Refused (rate limit) on a live socket: keep pinging, or keep-alive and acks stop.
      if (current() === conn) this.start();
    };
    conn.request('relay.ping', { ack: this.ackedSeq }).then(settled, settled);
  }
}
