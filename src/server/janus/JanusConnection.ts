import { randomBytes } from 'node:crypto';
import { WebSocket as WsWebSocket, type RawData } from 'ws';
import { systemClock, type Clock } from '../clock.js';
import { JanusError } from './JanusError.js';
import { callListener, objectAt, type JanusMessage } from './JanusHandle.js';
import { JanusSession, type SessionChannel } from './JanusSession.js';
import { janusToken } from './janusToken.js';

export interface JanusConnectionOptions {
  /** ws:// (or wss://) URL of Janus's WebSocket transport, e.g. 'ws://127.0.0.1:8188'. */
  url: string;
  /** Janus's token_auth_secret: every session is created with a token signed with it. */
  secret: string;
  /** Time source of every timer (requests, keepalives, reconnects). Default: the system clock. */
  clock?: Clock;
  /** A request unanswered this long fails with JanusError code 0, in ms. Default 10_000. */
  requestTimeoutMs?: number;
  /** Interval of keepalives per session, in ms (Janus drops sessions silent for session_timeout, 60 s). Default 25_000. */
  keepAliveMs?: number;
  /** First reconnect delay, in ms; each failed attempt doubles it up to `reconnectMaxMs`. Default 250. */
  reconnectMinMs?: number;
  /** Longest reconnect delay, in ms. Default 5_000. */
  reconnectMaxMs?: number;
  /**
   * Plugins named in the tokens createSession() mints itself when not given a `token` function,
   * as full names. Default ['janus.plugin.videoroom'].
   */
  plugins?: readonly string[];
  /** WebSocket constructor, default ws's. */
  WebSocket?: typeof WsWebSocket;
}

/** Lifetime of the tokens createSession() mints itself, in ms: re-minted for every request. */
const DEFAULT_TOKEN_LIFETIME_MS = 5 * 60_000;

interface Pending {
  resolve(message: JanusMessage): void;
  reject(error: JanusError): void;
  timer: unknown;
  ackIsAnswer: boolean;
  what: string;
  keepalive: boolean;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new TypeError(
      `JanusConnection: ${name} must be a positive number of ms, not ${String(value)}.`,
    );
  }
  return value;
}

function text(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/**
 * The Relay's connection to Janus's WebSocket API: one socket shared by every session, which
 * reconnects by itself until close(). Janus forgets the sessions of a closed socket, so they are
 * gone with it: create new ones once `available` is true again.
 */
export class JanusConnection {
  readonly #url: string;
  readonly #secret: string;
  readonly #clock: Clock;
  readonly #requestTimeoutMs: number;
  readonly #keepAliveMs: number;
  readonly #reconnectMinMs: number;
  readonly #reconnectMaxMs: number;
  readonly #plugins: readonly string[];
  readonly #WebSocket: typeof WsWebSocket;
  readonly #pending = new Map<string, Pending>();
  readonly #sessions = new Map<number, JanusSession>();
  readonly #availabilityListeners = new Set<(available: boolean) => void>();
  readonly #channel: SessionChannel;
  #socket: WsWebSocket | undefined;
  #available = false;
  #started = false;
  #closed = false;
  #attempt = 0;
  #reconnectTimer: unknown;
  #socketClosed: Promise<void> | undefined;

  constructor(options: JanusConnectionOptions) {
    if (typeof options.url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(options.url)) {
      throw new TypeError(
        `JanusConnection: url ${JSON.stringify(options.url)} is not a ws:// or wss:// URL. ` +
          "Pass the address of Janus's WebSocket transport, e.g. 'ws://127.0.0.1:8188'.",
      );
    }
    if (typeof options.secret !== 'string' || options.secret.length === 0) {
      throw new TypeError(
        "JanusConnection: secret is empty. Pass Janus's token_auth_secret (janus.jcfg, general section).",
      );
    }
    this.#url = options.url;
    this.#secret = options.secret;
    this.#clock = options.clock ?? systemClock;
    this.#requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs ?? 10_000);
    this.#keepAliveMs = positive('keepAliveMs', options.keepAliveMs ?? 25_000);
    this.#reconnectMinMs = positive('reconnectMinMs', options.reconnectMinMs ?? 250);
    this.#reconnectMaxMs = Math.max(
      this.#reconnectMinMs,
      positive('reconnectMaxMs', options.reconnectMaxMs ?? 5_000),
    );
    this.#plugins = [...(options.plugins ?? ['janus.plugin.videoroom'])];
    this.#WebSocket = options.WebSocket ?? WsWebSocket;
    this.#channel = {
      clock: this.#clock,
      keepAliveMs: this.#keepAliveMs,
      send: (message, ackIsAnswer, what, keepalive) =>
        this.#send(message, ackIsAnswer, what, keepalive ?? false),
      forget: (sessionId) => {
        this.#sessions.delete(sessionId);
      },
    };
  }

  /** The ws:// URL it connects to. */
  get url(): string {
    return this.#url;
  }

  /** Connects, and reconnects with backoff whenever the socket closes, until close(). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#connect();
  }

  /** Connected now (false before the first connect, while reconnecting, after close). */
  get available(): boolean {
    return this.#available;
  }

  /**
   * Told on every change of `available`; returns an unsubscribe. On a disconnect every session
   * is gone (Janus forgets them when the transport closes, so do we): their onGone listeners run
   * first.
   */
  onAvailability(listener: (available: boolean) => void): () => void {
    this.#availabilityListeners.add(listener);
    return () => {
      this.#availabilityListeners.delete(listener);
    };
  }

  /** Janus's "server_info" answer to an "info" request (version, plugins, transports...). */
  info(): Promise<Record<string, unknown>> {
    return this.#send({ janus: 'info' }, false, 'info', false);
  }

  /**
   * Creates a Janus session whose requests carry a token from `token()` (called for each request
   * and keepalive, so an extended expiry is picked up). Rejects JanusError(0) when not connected.
   * Without `token`, each request carries a fresh token signed with `secret`, valid 5 minutes,
   * for the `plugins` option.
   */
  async createSession(token?: () => string): Promise<JanusSession> {
    const tokenOf =
      token ??
      (() =>
        janusToken(this.#secret, this.#clock.now() + DEFAULT_TOKEN_LIFETIME_MS, this.#plugins));
    const socket = this.#socket;
    const reply = await this.#send(
      { janus: 'create', token: tokenOf() },
      false,
      'create session',
      false,
    );
    const id = objectAt(reply, 'data')?.id;
    if (typeof id !== 'number') {
      throw new JanusError(
        0,
        'Janus answered "create session" without a session id. Check that the URL points at ' +
          "Janus's WebSocket API (protocol janus-protocol).",
      );
    }
    const session = new JanusSession(id, tokenOf, this.#channel);
    if (socket !== this.#socket || !this.#available) {
      // The socket it was created on closed meanwhile, and Janus forgot it with it.
      session.markGone();
    } else {
      this.#sessions.set(id, session);
    }
    return session;
  }

  /** Closes the socket and stops reconnecting; pending requests reject with JanusError(0). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clock.clearTimeout(this.#reconnectTimer);
    const socket = this.#socket;
    const closed = this.#socketClosed;
    // Janus treats an abrupt close like a clean one: it destroys the socket's sessions either way.
    if (socket) socket.terminate();
    if (closed) await closed;
    this.#dropAll();
  }

  #connect(): void {
    if (this.#closed) return;
    let socket: WsWebSocket;
    try {
      socket = new this.#WebSocket(this.#url, 'janus-protocol', {
        handshakeTimeout: this.#requestTimeoutMs,
        perMessageDeflate: false,
      });
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    let closedResolve: () => void = () => undefined;
    this.#socketClosed = new Promise((resolve) => (closedResolve = resolve));
    socket.on('open', () => {
      if (this.#socket !== socket) return;
      this.#attempt = 0;
      this.#setAvailable(true);
    });
    socket.on('message', (data, isBinary) => {
      if (this.#socket !== socket || isBinary) return;
      this.#receive(text(data));
    });
    // The 'close' event follows every error; nothing more to do here.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#socket === socket) {
        this.#socket = undefined;
        this.#dropAll();
        this.#scheduleReconnect();
      }
      closedResolve();
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    const delay = Math.min(this.#reconnectMaxMs, this.#reconnectMinMs * 2 ** this.#attempt);
    if (delay < this.#reconnectMaxMs) this.#attempt++;
    this.#reconnectTimer = this.#clock.setTimeout(() => this.#connect(), delay);
  }

  /** The socket is gone: sessions first, then pending requests, then availability listeners. */
  #dropAll(): void {
    for (const session of [...this.#sessions.values()]) session.markGone();
    this.#sessions.clear();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const request of pending) {
      this.#clock.clearTimeout(request.timer);
      request.reject(
        new JanusError(
          0,
          `The connection to Janus at ${this.#url} closed before it answered ${request.what}. ` +
            (this.#closed
              ? 'The JanusConnection was closed.'
              : 'It reconnects by itself: retry once it is available.'),
        ),
      );
    }
    this.#setAvailable(false);
  }

  #setAvailable(available: boolean): void {
    if (this.#available === available) return;
    this.#available = available;
    for (const listener of [...this.#availabilityListeners]) callListener(listener, available);
  }

  #send(
    message: Record<string, unknown>,
    ackIsAnswer: boolean,
    what: string,
    keepalive: boolean,
  ): Promise<JanusMessage> {
    const socket = this.#socket;
    if (!socket || !this.#available) {
      return Promise.reject(
        new JanusError(
          0,
          `Janus at ${this.#url} is not connected, so ${what} was not sent. ` +
            (this.#closed
              ? 'The JanusConnection was closed: create a new one.'
              : this.#started
                ? 'It reconnects by itself: retry once `available` is true (see onAvailability).'
                : 'Call start() first.'),
        ),
      );
    }
    const transaction = randomBytes(12).toString('base64url');
    return new Promise<JanusMessage>((resolve, reject) => {
      const pending: Pending = {
        resolve,
        reject,
        ackIsAnswer,
        what,
        keepalive,
        timer: undefined,
      };
      this.#pending.set(transaction, pending);
      this.#armTimeout(transaction, pending);
      socket.send(JSON.stringify({ ...message, transaction }), (error) => {
        if (!error || !this.#pending.has(transaction)) return;
        this.#pending.delete(transaction);
        this.#clock.clearTimeout(pending.timer);
        reject(
          new JanusError(
            0,
            `Sending ${what} to Janus at ${this.#url} failed (${error.message}). ` +
              'It reconnects by itself: retry once it is available.',
          ),
        );
      });
    });
  }

  #armTimeout(transaction: string, pending: Pending): void {
    this.#clock.clearTimeout(pending.timer);
    pending.timer = this.#clock.setTimeout(() => {
      if (this.#pending.get(transaction) !== pending) return;
      this.#pending.delete(transaction);
      pending.reject(
        new JanusError(
          0,
          `Janus at ${this.#url} did not answer ${pending.what} within ${this.#requestTimeoutMs} ms. ` +
            'Check that Janus is running and not overloaded (see its log).',
        ),
      );
      // A live Janus acks keepalives at once: silence means the socket is dead without having
      // closed (a host gone, a frozen process), so drop it and reconnect.
      if (pending.keepalive) this.#socket?.terminate();
    }, this.#requestTimeoutMs);
  }

  #receive(raw: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
    const message = parsed as JanusMessage;
    const transaction = message.transaction;
    const pending = typeof transaction === 'string' ? this.#pending.get(transaction) : undefined;
    if (pending && typeof transaction === 'string') {
      this.#answer(transaction, pending, message);
      return;
    }
    const sessionId = message.session_id;
    if (typeof sessionId === 'number') this.#sessions.get(sessionId)?.dispatch(message);
  }

  #answer(transaction: string, pending: Pending, message: JanusMessage): void {
    if (message.janus === 'ack' && !pending.ackIsAnswer) {
      // Acked: the plugin's event follows; the wait for it starts now.
      this.#armTimeout(transaction, pending);
      return;
    }
    this.#pending.delete(transaction);
    this.#clock.clearTimeout(pending.timer);
    if (message.janus === 'error') {
      const error = objectAt(message, 'error');
      const code = typeof error?.code === 'number' ? error.code : 0;
      const reason = typeof error?.reason === 'string' ? error.reason : 'no reason given';
      pending.reject(JanusError.answered(pending.what, code, reason));
      return;
    }
    pending.resolve(message);
  }
}
