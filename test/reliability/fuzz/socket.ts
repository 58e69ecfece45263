/**
 * A lean signaling client for the fuzz run: it sends generated frames, matches every reply to
 * the frame it answers (by id; id-null errors as a multiset), checks the error shape, and, when
 * the socket closes, accounts for every frame still unanswered.
 */
import { WebSocket, type ClientOptions } from 'ws';
import { RpcErrorCodes } from 'relaycall/server';
import type { ExpectedReply, Frame, Outcome } from './frames.js';

/** `error.data.code` each JSON-RPC code may come with (docs/PROTOCOL.md, Errors). */
const DATA_CODES: Record<number, string[]> = {
  [RpcErrorCodes.parseError]: ['parse_error'],
  // payload_too_large: an in-call message over maxMessageBytes.
  [RpcErrorCodes.invalidRequest]: ['invalid_request', 'payload_too_large'],
  [RpcErrorCodes.methodNotFound]: ['method_not_found'],
  [RpcErrorCodes.invalidParams]: ['invalid_params'],
  [RpcErrorCodes.internal]: ['internal_error'],
  [RpcErrorCodes.notAuthenticated]: ['not_authenticated'],
  [RpcErrorCodes.authFailed]: ['auth_failed', 'token_expired', 'token_revoked'],
  [RpcErrorCodes.forbidden]: ['forbidden'],
  [RpcErrorCodes.callNotFound]: ['call_not_found'],
  [RpcErrorCodes.unavailable]: ['unavailable'],
  [RpcErrorCodes.busy]: ['busy'],
  [RpcErrorCodes.invalidState]: ['invalid_state', 'answered_elsewhere'],
  [RpcErrorCodes.limitExceeded]: ['limit_exceeded'],
  [RpcErrorCodes.rateLimited]: ['rate_limited'],
  [RpcErrorCodes.peerBacklogged]: ['peer_backlogged'],
  [RpcErrorCodes.roomNotFound]: ['room_not_found'],
  [RpcErrorCodes.roomFull]: ['room_full'],
};

interface CategoryTally {
  frames: number;
  sockets: number;
  outcomes: Map<string, number>;
}

/** Counts and failures of the whole run; every failure message names the seed. */
export class RunLog {
  readonly tally = new Map<string, CategoryTally>();
  readonly failures: string[] = [];
  failureCount = 0;
  controlFrames = 0;
  socketsOpened = 0;
  /** Setups redone because the whole process stalled past authTimeoutMs (see openConnected). */
  setupRetries = 0;

  /** @param authTimeoutMs The Relay's: a socket that never authenticated may get 4001 after it. */
  constructor(
    readonly seed: number,
    readonly authTimeoutMs = Infinity,
  ) {}

  private entry(category: string): CategoryTally {
    let entry = this.tally.get(category);
    if (!entry) {
      entry = { frames: 0, sockets: 0, outcomes: new Map() };
      this.tally.set(category, entry);
    }
    return entry;
  }

  frame(category: string, n = 1): void {
    this.entry(category).frames += n;
  }

  socket(category: string): void {
    this.entry(category).sockets += 1;
  }

  outcome(category: string, label: string, n = 1): void {
    const outcomes = this.entry(category).outcomes;
    outcomes.set(label, (outcomes.get(label) ?? 0) + n);
  }

  fail(where: string, message: string): void {
    this.failureCount += 1;
    if (this.failures.length < 40) {
      this.failures.push(`[seed ${this.seed}] ${where}: ${message}`);
    }
  }

  get hostileFrames(): number {
    let total = 0;
    for (const entry of this.tally.values()) total += entry.frames;
    return total;
  }
}

interface Pending {
  frame: Frame;
  reply: ExpectedReply;
}

interface Reply {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: { code: string } };
}

export interface Notification {
  method: string;
  params: Record<string, unknown>;
}

/**
 * How long the harness waits for something the Relay owes (a close, an answer) before it calls
 * it a failure. Only a bound for a Relay that never does it: far past any stall of a shared,
 * saturated machine and past the standalone server's own deadlines (requestTimeoutMs, 15 s),
 * so a slow run is never mistaken for a wrong answer.
 */
export const OWED_WITHIN_MS = 30_000;

let controlCounter = 0;

export function outcomeLabel(reply: Reply): string {
  return reply.error ? `${reply.error.code} ${reply.error.data?.code ?? '?'}` : 'result';
}

export class FuzzSocket {
  readonly closed: Promise<{ code: number; reason: string }>;
  closeCode: number | undefined;
  /** Set once relay.connect succeeded on this socket. */
  authed = false;
  onNotification: ((notification: Notification) => void) | undefined;
  private readonly pending = new Map<string, Pending[]>();
  private readonly controls = new Map<string, (reply: Reply | Error) => void>();
  private lastSeq = 0;
  private error: Error | undefined;
  /** Woken whenever a pending reply is settled (answered, or cut off by the close). */
  private settledWaiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    readonly where: string,
    readonly log: RunLog,
    /** Before the upgrade was sent: the server's auth timer started later. */
    readonly openedAt: number,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.onClose(code);
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('error', (error) => (this.error = error));
    ws.on('message', (data, isBinary) => this.onMessage(data.toString(), isBinary));
  }

  static open(
    url: string,
    where: string,
    log: RunLog,
    options: ClientOptions = {},
  ): Promise<FuzzSocket> {
    const openedAt = performance.now();
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        log.socketsOpened += 1;
        resolve(new FuzzSocket(ws, where, log, openedAt));
      });
      ws.once('error', reject);
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get unanswered(): number {
    let count = 0;
    for (const list of this.pending.values()) count += list.length;
    return count;
  }

  /** Sends a hostile frame, expecting what the frame says. */
  send(frame: Frame, tallyNoReply = true): void {
    this.log.frame(frame.category);
    if (frame.reply) {
      const key = JSON.stringify(frame.reply.id);
      const list = this.pending.get(key);
      if (list) list.push({ frame, reply: frame.reply });
      else this.pending.set(key, [{ frame, reply: frame.reply }]);
    } else if (tallyNoReply) {
      this.log.outcome(frame.category, 'no reply (notification)');
    }
    this.transmit(frame.data, frame.binary ?? false, frame.fragments);
  }

  /** A request of the harness itself (setup, fences); not counted as hostile. */
  control(method: string, params?: unknown, timeoutMs = 10_000): Promise<Reply> {
    if (this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`socket not open (${this.closeCode ?? 'closing'})`));
    }
    const id = `~${++controlCounter}`;
    this.log.controlFrames += 1;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.controls.delete(id);
        reject(new Error(`no reply to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.controls.set(id, (reply) => {
        clearTimeout(timer);
        if (reply instanceof Error) reject(reply);
        else resolve(reply);
      });
      this.transmit(JSON.stringify({ jsonrpc: '2.0', id, method, params }), false);
    });
  }

  /** A control request that must succeed; resolves its result. */
  async call(method: string, params?: unknown): Promise<Record<string, unknown>> {
    const reply = await this.control(method, params);
    if (reply.error) {
      throw new Error(
        `${method} failed: ${reply.error.code} ${reply.error.data?.code} ${reply.error.message}`,
      );
    }
    return reply.result as Record<string, unknown>;
  }

  /**
   * Waits until the server handled everything sent so far (a ping: requests are handled in
   * order, and malformed ones are answered at once), then checks nothing is left unanswered.
   */
  async fence(): Promise<boolean> {
    let reply: Reply;
    try {
      reply = await this.control('relay.ping');
    } catch (error) {
      if (this.closeCode === undefined)
        this.log.fail(this.where, `fence: ${(error as Error).message}`);
      return false;
    }
    const expected = this.authed ? 'result' : `${RpcErrorCodes.notAuthenticated} not_authenticated`;
    if (outcomeLabel(reply) !== expected) {
      this.log.fail(this.where, `fence ping answered ${outcomeLabel(reply)}, expected ${expected}`);
    }
    for (const [key, list] of this.pending) {
      for (const { frame, reply: want } of list) {
        this.log.fail(
          this.where,
          `no reply to ${frame.category}/${frame.sub} (id ${key}, expected ${want.accept.join('|')}) by the next ping's reply; frame: ${preview(frame.data)}`,
        );
        want.onUnexpected?.();
      }
    }
    this.pending.clear();
    this.wakeSettled();
    return true;
  }

  /**
   * Resolves true once every frame sent so far that expects a reply got it (or the socket
   * closed, which accounts for the rest); false when some are still unanswered after `ms`.
   */
  async answered(ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (this.unanswered > 0) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.settledWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, left))),
      ]);
      clearTimeout(timer);
    }
    return true;
  }

  /** Resolves the close code, or undefined when the socket is still open after `ms`. */
  async waitClosed(ms: number): Promise<number | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      this.closed.then(({ code }) => code),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
    ]);
    clearTimeout(timer);
    return result;
  }

  /** Closes from the client side and waits for the close (bounded). */
  async close(code = 1000): Promise<number | undefined> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
    const closed = await this.waitClosed(5_000);
    if (closed === undefined) this.ws.terminate();
    return closed;
  }

  describeError(): string {
    return this.error ? ` (client error: ${this.error.message})` : '';
  }

  private transmit(data: string | Buffer, binary: boolean, fragments?: number): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!fragments || fragments < 2) {
      this.ws.send(data, { binary });
      return;
    }
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let i = 0; i < fragments; i++) {
      const part = bytes.subarray(
        Math.floor((i * bytes.length) / fragments),
        Math.floor(((i + 1) * bytes.length) / fragments),
      );
      this.ws.send(part, { binary, fin: i === fragments - 1 });
    }
  }

  private onMessage(text: string, isBinary: boolean): void {
    if (isBinary) {
      this.log.fail(this.where, 'the server sent a binary frame');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.log.fail(this.where, `the server sent invalid JSON: ${preview(text)}`);
      return;
    }
    // A turn's messages come as a JSON-RPC batch: a non-empty array of messages.
    if (!Array.isArray(parsed)) this.onServerMessage(parsed as Record<string, unknown>, text);
    else if (parsed.length < 2)
      this.log.fail(this.where, `a batch of ${parsed.length}: ${preview(text)}`);
    else for (const message of parsed) this.onServerMessage(message, JSON.stringify(message));
  }

  private onServerMessage(message: Record<string, unknown>, text: string): void {
    if (message.jsonrpc !== '2.0') {
      this.log.fail(this.where, `reply without "jsonrpc": "2.0": ${preview(text)}`);
      return;
    }
    if (typeof message.method === 'string' && !('id' in message)) {
      this.onServerNotification(message.method, message.params, text);
      return;
    }
    if (!('id' in message) || !('result' in message || 'error' in message)) {
      this.log.fail(this.where, `unrecognised message: ${preview(text)}`);
      return;
    }
    const reply = message as unknown as Reply;
    if (reply.error && !this.validError(reply, text)) return;
    if (typeof reply.id === 'string' && reply.id.startsWith('~')) {
      const settle = this.controls.get(reply.id);
      this.controls.delete(reply.id);
      if (settle) settle(reply);
      else this.log.fail(this.where, `reply to an unknown control request: ${preview(text)}`);
      return;
    }
    const key = JSON.stringify(reply.id);
    const outcome: Outcome = reply.error ? reply.error.code : 'result';
    const list = this.pending.get(key);
    const index = list?.findIndex((pending) => pending.reply.accept.includes(outcome)) ?? -1;
    const match = list?.[index];
    if (!list || !match) {
      const wanted = list?.map(
        (p) => `${p.frame.category}/${p.frame.sub}: ${p.reply.accept.join('|')}`,
      );
      this.log.fail(
        this.where,
        `unexpected reply ${outcomeLabel(reply)} for id ${key}; expected ${wanted?.join(', ') ?? 'no reply'}: ${preview(text)}`,
      );
      for (const pending of list ?? []) pending.reply.onUnexpected?.();
      return;
    }
    list.splice(index, 1);
    if (list.length === 0) this.pending.delete(key);
    this.wakeSettled();
    this.log.outcome(match.frame.category, outcomeLabel(reply));
    if (reply.error) match.reply.onError?.(reply.error.code);
    const problem = match.reply.check?.(reply.result);
    if (problem)
      this.log.fail(this.where, `${match.frame.category}/${match.frame.sub}: ${problem}`);
  }

  private validError(reply: Reply, text: string): boolean {
    const { error } = reply;
    const allowed = error ? DATA_CODES[error.code] : undefined;
    if (
      !error ||
      typeof error.code !== 'number' ||
      typeof error.message !== 'string' ||
      error.message.length === 0 ||
      !allowed?.includes(error.data?.code ?? '')
    ) {
      this.log.fail(this.where, `malformed or undocumented error: ${preview(text)}`);
      return false;
    }
    return true;
  }

  private onServerNotification(method: string, params: unknown, text: string): void {
    const p = params as Record<string, unknown> | undefined;
    if (!p || p.seq !== this.lastSeq + 1) {
      this.log.fail(
        this.where,
        `notification out of sequence (after seq ${this.lastSeq}): ${preview(text)}`,
      );
    }
    if (typeof p?.seq === 'number') this.lastSeq = p.seq;
    this.onNotification?.({ method, params: p ?? {} });
  }

  /** A 4001 on a socket that never authenticated, at least authTimeoutMs old: documented. */
  authTimedOut(code: number | undefined): boolean {
    // libuv's timers run on a clock cached per loop turn: allow a few ms.
    const age = performance.now() - this.openedAt;
    return code === 4001 && !this.authed && age >= this.log.authTimeoutMs - 5;
  }

  private onClose(code: number): void {
    if (code === 4001 && !this.authTimedOut(code)) {
      this.log.fail(
        this.where,
        `closed with 4001 after ${Math.round(performance.now() - this.openedAt)} ms (authenticated: ${this.authed})`,
      );
    }
    for (const [key, list] of this.pending) {
      for (const { frame, reply } of list) {
        if (reply.closeOk?.includes(code) || this.authTimedOut(code)) {
          this.log.outcome(frame.category, `closed ${code} before reply`);
        } else {
          this.log.fail(
            this.where,
            `no reply to ${frame.category}/${frame.sub} (id ${key}, expected ${reply.accept.join('|')}); the socket closed with ${code}${this.describeError()}; frame: ${preview(frame.data)}`,
          );
        }
      }
    }
    this.pending.clear();
    this.wakeSettled();
    for (const settle of this.controls.values()) settle(new Error(`socket closed (${code})`));
    this.controls.clear();
  }

  private wakeSettled(): void {
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const wake of waiters) wake();
  }
}

export function preview(data: string | Buffer): string {
  const text =
    typeof data === 'string'
      ? data
      : `<${data.length} bytes> ${data.subarray(0, 60).toString('hex')}`;
  return text.length > 160 ? `${text.slice(0, 160)}… (${text.length} chars)` : text;
}

/** A client-side token bucket, so a lane's sockets stay below the Relay's rate limit. */
export class Pacer {
  private tokens: number;
  private at = performance.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  async take(n: number): Promise<void> {
    if (n > this.burst) throw new Error(`Pacer: ${n} is over the burst of ${this.burst}`);
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
      this.at = now;
      if (this.tokens >= n) {
        this.tokens -= n;
        return;
      }
      await sleep(Math.ceil(((n - this.tokens) / this.rate) * 1000));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
