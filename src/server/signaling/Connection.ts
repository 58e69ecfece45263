import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  RelayRpcError,
  RpcErrorCodes,
  ErrorCodes,
  type RelayLimits,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Session, SessionLink } from './Session.js';
import type { BatchedLink, WriteBatch } from './WriteBatch.js';
import type { RelayMetrics } from '../RelayMetrics.js';

export type RequestId = string | number | null;

/** What every connection of one Relay shares: one object, not a closure per socket. */
export interface ConnectionContext {
  /** Sends this turn's messages together at its end. */
  batch: WriteBatch;
  clock: Clock;
  limits: RelayLimits;
  /** Counts the messages received and sent. */
  metrics: RelayMetrics;
  /** The socket must close because its peer does not read what it is sent (4010). */
  slowConsumer(connection: Connection): void;
  /** The Relay started closing the socket (its unauthenticated slot is free from now on). */
  closing(connection: Connection): void;
  /** The error part of a rate-limit refusal, serialized once. */
  rateLimitedError: string;
}

/** Unsent bytes past which a socket is closed at once, as a multiple of maxBufferedBytes. */
const HARD_BUFFER_FACTOR = 4;
/** A pause in refusals this long ends a run of rate-limited messages, in ms. */
const RATE_LIMIT_PAUSE_MS = 1_000;

/**
 * One signaling socket: its rate limit, its in-order request queue and its
 * send path with backpressure. It carries at most one session.
 */
export class Connection implements SessionLink, BatchedLink {
  session: Session | null = null;
  /** Answered the last heartbeat ping. */
  alive = true;
  closed = false;
  /** ws found a frame-level protocol violation. */
  violated = false;
  /** Counts toward the unauthenticated limits (until it authenticates or starts closing). */
  holdsSlot = true;
  authTimer: unknown = undefined;
  /** Cuts the socket off when the peer does not answer the Relay's close frame. */
  closeTimer: unknown = undefined;
  /** Consecutive messages refused for the rate limit. */
  private strikes = 0;
  /** Consecutive malformed messages. */
  malformed = 0;
  private tokens: number;
  private refilledAt: number;
  /** When the current run of rate-limit refusals started, and the last refusal of it. */
  private limitedSince = 0;
  private lastRefusedAt = -Infinity;
  /** The last queued request's run; none until a request is queued. */
  private queue: Promise<void> | undefined = undefined;
  private queued = 0;
  /** Frames of this turn, complete and not sent yet: none, one, or several. */
  private frames: string | string[] | undefined = undefined;
  /** Messages of the frame being gathered: none, one, or several. */
  private gathering: string | string[] | undefined = undefined;
  private outgoingBytes = 0;
  /** Runs out when the socket has not drained its send buffer in time (slow reader). */
  private slowTimer: unknown = undefined;

  constructor(
    readonly ws: WebSocket,
    /** The TCP socket under `ws`: corked while a turn's frames are written. */
    private readonly socket: Duplex,
    /** The client's address, as the per-address limits count it. */
    readonly address: string,
    private readonly context: ConnectionContext,
  ) {
    this.tokens = context.limits.messageBurst;
    this.refilledAt = context.clock.now();
  }

  /** Takes one message from the token bucket; false when over the rate limit. */
  take(): boolean {
    const { clock, limits } = this.context;
    const now = clock.now();
    const refill = ((now - this.refilledAt) / 1000) * limits.messagesPerSecond;
    this.tokens = Math.min(limits.messageBurst, this.tokens + refill);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    this.strikes = 0;
    return true;
  }

  /**
   * Counts a message refused for the rate limit. True when the socket must be closed: more
   * than `messageBurst` refusals in a row, or refusals for `maxRateLimitedMs` without a pause
   * of a second (a flood just fast enough to be let through now and then).
   */
  refuse(): boolean {
    const { clock, limits } = this.context;
    const now = clock.now();
    this.strikes += 1;
    if (now - this.lastRefusedAt >= RATE_LIMIT_PAUSE_MS) this.limitedSince = now;
    this.lastRefusedAt = now;
    return this.strikes > limits.messageBurst || now - this.limitedSince >= limits.maxRateLimitedMs;
  }

  /** Runs request handlers one after another, in arrival order. */
  enqueue(task: () => Promise<void>): void {
    this.queued += 1;
    const run = () =>
      task().finally(() => {
        // The chain is let go once it has run dry (a resolved promise per idle socket otherwise).
        if ((this.queued -= 1) === 0) this.queue = undefined;
      });
    this.queue = (this.queue ?? Promise.resolve()).then(run, run);
  }

  /** No queued request is waiting: the next one may be handled at once. */
  get idle(): boolean {
    return this.queued === 0;
  }

  /** Whether the peer reads what it is sent: at most `maxBufferedBytes` wait for it. */
  keepsUp(): boolean {
    return this.ws.bufferedAmount + this.outgoingBytes <= this.context.limits.maxBufferedBytes;
  }

  /** Sends a notification with this turn's other messages. */
  deliver(text: string): void {
    this.send(text, false);
  }

  reply(id: RequestId, result: unknown): void {
    this.send(
      `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${JSON.stringify(result)}}`,
      true,
    );
  }

  replyError(id: RequestId, error: RelayRpcError): void {
    const body = { code: error.rpcCode, message: error.message, data: { code: error.code } };
    this.send(JSON.stringify({ jsonrpc: '2.0', id, error: body }), true);
  }

  /** Answers a request refused for the rate limit: no Error is built, a flood costs little. */
  replyRateLimited(id: RequestId): void {
    this.send(
      `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"error":${this.context.rateLimitedError}}`,
      true,
    );
  }

  /**
   * Gathers a turn's messages into frames: several messages go as one JSON-RPC batch (an
   * array), and a reply ends its frame. What the client does once a request settles
   * therefore runs before it reads the messages that followed the reply, as when each
   * message was a frame of its own.
   */
  private send(text: string, endsFrame: boolean): void {
    if (this.closed) return;
    const { limits } = this.context;
    // Senders of signals are pushed back long before this (see keepsUp): only a peer that
    // reads nothing while everything else piles up gets here.
    if (
      this.ws.bufferedAmount + this.outgoingBytes >
      limits.maxBufferedBytes * HARD_BUFFER_FACTOR
    ) {
      this.context.slowConsumer(this);
      return;
    }
    this.context.metrics.messagesSent += 1;
    const { gathering } = this;
    if (gathering === undefined) {
      if (this.frames === undefined) this.context.batch.add(this);
      this.gathering = text;
    } else if (typeof gathering === 'string') this.gathering = [gathering, text];
    else gathering.push(text);
    this.outgoingBytes += text.length;
    if (endsFrame) this.endFrame();
  }

  private endFrame(): void {
    const messages = this.gathering;
    if (messages === undefined) return;
    this.gathering = undefined;
    const frame = typeof messages === 'string' ? messages : `[${messages.join(',')}]`;
    const { frames } = this;
    if (frames === undefined) this.frames = frame;
    else if (typeof frames === 'string') this.frames = [frames, frame];
    else frames.push(frame);
  }

  /** Sends this turn's frames in one write. */
  flush(): void {
    this.endFrame();
    const frames = this.frames;
    if (frames === undefined) return;
    this.frames = undefined;
    this.outgoingBytes = 0;
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.socket.cork();
    if (typeof frames === 'string') this.ws.send(frames);
    else for (const frame of frames) this.ws.send(frame);
    this.socket.uncork();
    if (this.ws.bufferedAmount > this.context.limits.maxBufferedBytes) this.watchDrain();
  }

  /**
   * More is unsent than a reader may leave unread: the socket must drain it all within
   * `slowReaderTimeoutMs`. What one turn queued does not count against a reader that reads;
   * only one that does not drain is closed.
   */
  private watchDrain(): void {
    if (this.slowTimer !== undefined) return;
    const { clock, limits } = this.context;
    const drained = () => {
      clock.clearTimeout(this.slowTimer);
      this.slowTimer = undefined;
    };
    this.socket.once('drain', drained);
    this.slowTimer = clock.setTimeout(() => {
      this.slowTimer = undefined;
      this.socket.off('drain', drained);
      this.context.slowConsumer(this);
    }, limits.slowReaderTimeoutMs);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    // What was said before the close goes first (the close reply to a refused connect, say).
    this.flush();
    this.closed = true;
    const { clock } = this.context;
    clock.clearTimeout(this.authTimer);
    clock.clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
    this.context.closing(this);
    this.ws.close(code, closeReason(reason));
    // A peer that stopped reading never answers the close frame: it must not keep its socket
    // for ws's 30 s.
    this.closeTimer = clock.setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
  }

  /** The socket is gone: its timers go with it. */
  dispose(): void {
    this.closed = true;
    const { clock } = this.context;
    clock.clearTimeout(this.authTimer);
    clock.clearTimeout(this.closeTimer);
    clock.clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
  }
}

/** How long the Relay waits for a peer to answer its close frame before cutting it off. */
export const CLOSE_GRACE_MS = 5_000;

/** Longest close reason a close frame carries, in UTF-8 bytes (RFC 6455 §5.5). */
const MAX_REASON_BYTES = 123;

/**
 * `reason` cut to fit a close frame, at a character boundary. A longer one makes ws throw,
 * and reasons can carry client-chosen text (a resource name in the session-limit message).
 */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const char of reason) {
    bytes += Buffer.byteLength(char);
    if (bytes > MAX_REASON_BYTES) break;
    out += char;
  }
  return out;
}

export function internalError(): RelayRpcError {
  return new RelayRpcError(
    RpcErrorCodes.internal,
    ErrorCodes.internal,
    'The Relay failed to handle this request. Try again.',
  );
}
