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

export type RequestId = string | number | null;

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
  /** Completed relay.connect once (stays true after its session ends). */
  authenticated = false;
  authTimer: unknown = undefined;
  /** Cuts the socket off when the peer does not answer the Relay's close frame. */
  closeTimer: unknown = undefined;
  /** Consecutive messages refused for the rate limit. */
  strikes = 0;
  /** Consecutive malformed messages. */
  malformed = 0;
  private tokens: number;
  private refilledAt: number;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  /** Frames of this turn, complete and not sent yet. */
  private frames: string[] = [];
  /** Messages of the frame being gathered. */
  private gathering: string[] = [];
  private outgoingBytes = 0;

  constructor(
    readonly ws: WebSocket,
    /** The TCP socket under `ws`: corked while a turn's frames are written. */
    private readonly socket: Duplex,
    /** Sends this turn's messages together at its end. */
    private readonly batch: WriteBatch,
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
    this.queued += 1;
    const run = () => task().finally(() => (this.queued -= 1));
    this.queue = this.queue.then(run, run);
  }

  /** No queued request is waiting: the next one may be handled at once. */
  get idle(): boolean {
    return this.queued === 0;
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

  /**
   * Gathers a turn's messages into frames: several messages go as one JSON-RPC batch (an
   * array), and a reply ends its frame. What the client does once a request settles
   * therefore runs before it reads the messages that followed the reply, as when each
   * message was a frame of its own.
   */
  private send(text: string, endsFrame: boolean): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount + this.outgoingBytes > this.limits.maxBufferedBytes) {
      this.onSlowConsumer(this);
      return;
    }
    if (this.frames.length === 0 && this.gathering.length === 0) this.batch.add(this);
    this.gathering.push(text);
    this.outgoingBytes += text.length;
    if (endsFrame) this.endFrame();
  }

  private endFrame(): void {
    const messages = this.gathering;
    if (messages.length === 0) return;
    this.gathering = [];
    this.frames.push(messages.length === 1 ? (messages[0] as string) : `[${messages.join(',')}]`);
  }

  /** Sends this turn's frames in one write. */
  flush(): void {
    this.endFrame();
    const frames = this.frames;
    if (frames.length === 0) return;
    this.frames = [];
    this.outgoingBytes = 0;
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.socket.cork();
    for (const frame of frames) this.ws.send(frame);
    this.socket.uncork();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    // What was said before the close goes first (the close reply to a refused connect, say).
    this.flush();
    this.closed = true;
    this.clock.clearTimeout(this.authTimer);
    this.ws.close(code, closeReason(reason));
    // A peer that stopped reading never answers the close frame: it must not keep its socket
    // (and, unauthenticated, its place under maxUnauthenticatedSockets) for ws's 30 s.
    this.closeTimer = this.clock.setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
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
