import {
  ErrorCodes,
  RelayError,
  type Method,
  type MethodParams,
  type MethodResult,
} from '../../protocol/index.js';
import type { ClientClock } from '../types.js';
import { RETRIED_LATER, lostWithConnection } from './connectionErrors.js';
import type { RequestFn } from './RpcConnection.js';

export interface RequestOutboxOptions {
  clock: ClientClock;
  /** Sends a request on the current connection; rejects with `not_connected` when there is none. */
  request: RequestFn;
  /** Whether a request sent now goes out (the client is connected with a session). */
  isConnected(): boolean;
  /** First delay before sending a refused request again, in ms; doubles. Default: 500. */
  retryBaseMs?: number;
  /** Longest such delay, in ms. Default: 8000. */
  retryMaxMs?: number;
  /** Sends of one request at most, before its refusal is final. Default: 8. */
  maxAttempts?: number;
}

export interface SendOptions {
  /** Groups requests to drop together (see `drop`). */
  key?: string | null;
  /** Checked before each send: once false, the request is dropped instead. */
  wanted?: () => boolean;
}

interface Entry extends SendOptions {
  method: Method;
  params: unknown;
  resolve(result: unknown): void;
  reject(error: unknown): void;
  /**
   * `held`: waits for a connection (never sent, or sent and lost with the socket: `lost`);
   * `sent`: waiting for its reply; `later`: refused for a while, sent again on a timer.
   */
  state: 'held' | 'lost' | 'sent' | 'later';
  attempts: number;
  timer: unknown;
  /** Dropped while in flight: its reply settles it, nothing sends it again. */
  dropped: boolean;
}

/**
 * Sends requests when connected and sees them through: refused for the rate limit or a peer
 * not reading (`rate_limited`, `peer_backlogged`), sent again with backoff on the client clock;
 * not sent for want of a connection, held until there is one; lost with the socket (no reply),
 * sent again when the session resumes, failed with `connection_closed` when a fresh session
 * replaces it (the Relay that had it is gone). Resolves or rejects like the request.
 */
export class RequestOutbox {
  private entries: Entry[] = [];

  constructor(private readonly options: RequestOutboxOptions) {}

  send<M extends Method>(
    method: M,
    params: MethodParams<M>,
    options: SendOptions = {},
  ): Promise<MethodResult<M>> {
    return new Promise<MethodResult<M>>((resolve, reject) => {
      const entry: Entry = {
        ...options,
        method,
        params,
        resolve,
        reject,
        state: 'held',
        attempts: 0,
        timer: undefined,
        dropped: false,
      };
      this.entries.push(entry);
      this.transmit(entry);
    });
  }

  /** The client is connected: held requests go, in order (lost ones only to a resumed session). */
  connected(resumed: boolean): void {
    for (const entry of [...this.entries]) {
      if (entry.state === 'held' || (entry.state === 'lost' && resumed)) this.transmit(entry);
      else if (entry.state === 'lost') this.settle(entry, sessionGone());
    }
  }

  /** Drops the requests of `key` that have not gone (they fail with `connection_closed`). */
  drop(key: string): void {
    for (const entry of [...this.entries]) {
      if (entry.key !== key) continue;
      if (entry.state === 'sent') entry.dropped = true;
      else this.settle(entry, dropped());
    }
  }

  /** Fails every request not answered yet (the client is being destroyed). */
  clear(): void {
    for (const entry of [...this.entries]) {
      if (entry.state === 'sent') entry.dropped = true;
      else this.settle(entry, dropped());
    }
  }

  /** Requests not settled yet (tests). */
  get size(): number {
    return this.entries.length;
  }

  private transmit(entry: Entry): void {
    if (entry.wanted && !entry.wanted()) {
      this.settle(entry, dropped());
      return;
    }
    if (!this.options.isConnected()) {
      entry.state = entry.state === 'lost' ? 'lost' : 'held';
      return;
    }
    entry.state = 'sent';
    entry.attempts += 1;
    const send = this.options.request as (method: Method, params: unknown) => Promise<unknown>;
    send(entry.method, entry.params).then(
      (result) => this.settle(entry, null, result),
      (error: unknown) => this.failed(entry, error),
    );
  }

  private failed(entry: Entry, error: unknown): void {
    if (entry.dropped) return this.settle(entry, error);
    const { retryBaseMs = 500, retryMaxMs = 8_000, maxAttempts = 8 } = this.options;
    if (error instanceof RelayError && error.code === ErrorCodes.notConnected) {
      entry.state = 'held'; // never left: goes once connected
    } else if (lostWithConnection(error)) {
      entry.state = 'lost';
    } else if (
      error instanceof RelayError &&
      RETRIED_LATER.has(error.code) &&
      entry.attempts < maxAttempts
    ) {
      entry.state = 'later';
      const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** (entry.attempts - 1));
      entry.timer = this.options.clock.setTimeout(() => this.transmit(entry), delay);
    } else {
      this.settle(entry, error);
    }
  }

  private settle(entry: Entry, error: unknown, result?: unknown): void {
    const index = this.entries.indexOf(entry);
    if (index < 0) return;
    this.entries.splice(index, 1);
    this.options.clock.clearTimeout(entry.timer);
    if (error) entry.reject(error);
    else entry.resolve(result);
  }
}

const sessionGone = () =>
  new RelayError(
    ErrorCodes.closed,
    'The connection to the Relay was lost before it answered, and the session with it. Retry.',
  );

const dropped = () =>
  new RelayError(ErrorCodes.closed, 'Not sent: the room was left or the client closed.');
