import type { Clock } from '../clock.js';
import { JanusError } from './JanusError.js';
import {
  JanusHandle,
  callListener,
  objectAt,
  type HandleChannel,
  type JanusMessage,
} from './JanusHandle.js';

/**
 * How a session reaches Janus: the connection's shared socket. Internal to src/server/janus.
 * @internal
 */
export interface SessionChannel {
  readonly clock: Clock;
  /** Interval of keepalives, in ms. */
  readonly keepAliveMs: number;
  /**
   * Sends `message` with a fresh transaction; resolves with Janus's answer, rejects a JanusError.
   * With `ackIsAnswer`, Janus's "ack" is the answer. With `keepalive`, an unanswered request
   * means the socket is dead.
   */
  send(
    message: Record<string, unknown>,
    ackIsAnswer: boolean,
    what: string,
    keepalive?: boolean,
  ): Promise<JanusMessage>;
  /** Forgets the session (gone). */
  forget(sessionId: number): void;
}

/** A Janus session, created by JanusConnection.createSession(). */
export class JanusSession {
  /** Janus's id of the session. */
  readonly id: number;
  readonly #token: () => string;
  readonly #channel: SessionChannel;
  readonly #handles = new Map<number, JanusHandle>();
  readonly #goneListeners = new Set<() => void>();
  readonly #handleChannel: HandleChannel;
  #gone = false;
  #keepAliveTimer: unknown;

  /** @internal Use JanusConnection.createSession(). */
  constructor(id: number, token: () => string, channel: SessionChannel) {
    this.id = id;
    this.#token = token;
    this.#channel = channel;
    this.#handleChannel = {
      send: (message, ackIsAnswer, what) => this.#send(message, ackIsAnswer, what),
      forget: (handleId) => {
        this.#handles.delete(handleId);
      },
    };
    this.#scheduleKeepAlive();
  }

  /** Gone: destroyed, timed out, or its connection dropped. Its handles are gone with it. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Attaches a plugin handle ('janus.plugin.videoroom'). */
  async attach(plugin: string): Promise<JanusHandle> {
    const reply = await this.#send({ janus: 'attach', plugin }, false, `attach ${plugin}`);
    const id = objectAt(reply, 'data')?.id;
    if (typeof id !== 'number') {
      throw new JanusError(
        0,
        `Janus answered attach ${plugin} without a handle id. Check that the URL points at ` +
          "Janus's WebSocket API (protocol janus-protocol).",
      );
    }
    const handle = new JanusHandle(id, plugin, this.#handleChannel);
    if (this.#gone) handle.markGone();
    else this.#handles.set(id, handle);
    return handle;
  }

  /**
   * Told once when the session is gone: destroyed, timed out ("janus":"timeout"), or the
   * connection dropped. A listener added after that is told at once.
   */
  onGone(listener: () => void): void {
    if (this.#gone) {
      callListener(listener);
      return;
    }
    this.#goneListeners.add(listener);
  }

  /** Destroys it on Janus (best effort, never rejects) and stops its keepalives. */
  async destroy(): Promise<void> {
    if (this.#gone) return;
    this.#channel.clock.clearTimeout(this.#keepAliveTimer);
    try {
      await this.#send({ janus: 'destroy' }, false, 'destroy session');
    } catch {
      // Best effort: Janus forgets the session anyway when it times out or the socket closes.
    }
    this.markGone();
  }

  /** Routes a message Janus sent about this session outside any transaction of ours. @internal */
  dispatch(message: JanusMessage): void {
    if (message.janus === 'timeout') {
      this.markGone();
      return;
    }
    const sender = message.sender;
    if (typeof sender !== 'number') return;
    this.#handles.get(sender)?.dispatch(message);
  }

  /** Marks it gone (once): stops keepalives, forgets handles, tells the listeners. @internal */
  markGone(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#channel.clock.clearTimeout(this.#keepAliveTimer);
    for (const handle of this.#handles.values()) handle.markGone();
    this.#handles.clear();
    this.#channel.forget(this.id);
    const listeners = [...this.#goneListeners];
    this.#goneListeners.clear();
    for (const listener of listeners) callListener(listener);
  }

  async #send(
    message: Record<string, unknown>,
    ackIsAnswer: boolean,
    what: string,
    keepalive = false,
  ): Promise<JanusMessage> {
    if (this.#gone) {
      throw new JanusError(
        458,
        `Janus session ${this.id} is gone (destroyed, timed out or its connection dropped), ` +
          `so ${what} was not sent. Create a new session.`,
      );
    }
    try {
      return await this.#channel.send(
        { ...message, session_id: this.id, token: this.#token() },
        ackIsAnswer,
        what,
        keepalive,
      );
    } catch (error) {
      if (error instanceof JanusError && error.code === 458) this.markGone();
      throw error;
    }
  }

  #scheduleKeepAlive(): void {
    const { clock, keepAliveMs } = this.#channel;
    this.#keepAliveTimer = clock.setTimeout(() => {
      if (this.#gone) return;
      // Janus answers a keepalive with a bare "ack"; failures other than 458 (handled in #send)
      // are the connection's business: it reconnects, and the session goes with the socket.
      this.#send({ janus: 'keepalive' }, true, 'keepalive', true).catch(() => undefined);
      this.#scheduleKeepAlive();
    }, keepAliveMs);
  }
}
