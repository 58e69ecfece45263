import { JanusError } from './JanusError.js';

/** A WebRTC session description exchanged with a Janus plugin. */
export interface Jsep {
  type: 'offer' | 'answer';
  sdp: string;
}

/** A plugin event: the plugin's data, and the SDP that came with it, if any. */
export interface JanusEvent {
  data: Record<string, unknown>;
  jsep?: Jsep;
}

/** A core event of a handle: `janus` is "webrtcup", "hangup", "media", "slowlink", "detached"... */
export type JanusCoreEvent = { janus: string } & Record<string, unknown>;

/** One JSON message from Janus, already checked to be an object. */
export type JanusMessage = Record<string, unknown>;

/**
 * How a handle sends its requests: through its session, which adds session_id, token and
 * transaction. Internal to src/server/janus.
 * @internal
 */
export interface HandleChannel {
  /**
   * Sends `message` and resolves with Janus's answer ("success", "event"...), rejecting a
   * JanusError for a Janus "error". With `ackIsAnswer`, Janus's "ack" is the answer.
   */
  send(message: Record<string, unknown>, ackIsAnswer: boolean, what: string): Promise<JanusMessage>;
  /** Forgets the handle (detached). */
  forget(handleId: number): void;
}

/**
 * Calls `listener` so that an exception in it reaches the process as an uncaught error instead of
 * breaking the message routing that called it.
 * @internal
 */
export function callListener<A extends unknown[]>(
  listener: (...args: A) => void,
  ...args: A
): void {
  try {
    listener(...args);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** Object-valued property `key` of `value`, or undefined. @internal */
export function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const inner = (value as Record<string, unknown>)[key];
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner)
    ? (inner as Record<string, unknown>)
    : undefined;
}

function jsepOf(message: JanusMessage): Jsep | undefined {
  const jsep = objectAt(message, 'jsep');
  if (!jsep) return undefined;
  const { type, sdp } = jsep;
  if ((type !== 'offer' && type !== 'answer') || typeof sdp !== 'string') return undefined;
  return { type, sdp };
}

/** The plugin's answer in `reply`, rejecting (as a JanusError) an error the plugin reported. */
function pluginAnswer(reply: JanusMessage, what: string): JanusEvent {
  const data = objectAt(objectAt(reply, 'plugindata'), 'data');
  if (!data) {
    throw new JanusError(
      0,
      `Janus answered ${what} without plugin data (${String(reply.janus)}). ` +
        'Check that the handle is attached to the plugin you meant.',
    );
  }
  // Plugins (videoroom, sip...) report their errors inside a successful Janus answer.
  if (typeof data.error_code === 'number') {
    throw JanusError.answered(
      what,
      data.error_code,
      typeof data.error === 'string' ? data.error : 'no reason given',
    );
  }
  const jsep = jsepOf(reply);
  return jsep ? { data, jsep } : { data };
}

function describe(body: Record<string, unknown>): string {
  return typeof body.request === 'string' ? `"${body.request}"` : 'the plugin message';
}

/** A handle attached to a Janus plugin, created by JanusSession.attach(). */
export class JanusHandle {
  /** Janus's id of the handle. */
  readonly id: number;
  /** The plugin it is attached to, e.g. 'janus.plugin.videoroom'. */
  readonly plugin: string;
  readonly #channel: HandleChannel;
  readonly #eventListeners = new Set<(event: JanusEvent) => void>();
  readonly #coreListeners = new Set<(event: JanusCoreEvent) => void>();
  #detached = false;

  /** @internal Use JanusSession.attach(). */
  constructor(id: number, plugin: string, channel: HandleChannel) {
    this.id = id;
    this.plugin = plugin;
    this.#channel = channel;
  }

  /** Detached now (by detach(), by Janus, or because its session is gone). */
  get detached(): boolean {
    return this.#detached;
  }

  /**
   * A synchronous plugin request (videoroom create, destroy, exists, kick, moderate,
   * listparticipants, configure of a subscriber's substream...): resolves with plugindata.data
   * ("janus":"success"); rejects JanusError with data.error_code/error when the plugin answered
   * an error, or the Janus error.
   */
  async request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const what = `${this.#pluginName()} ${describe(body)}`;
    const reply = await this.#channel.send(
      { janus: 'message', handle_id: this.id, body },
      false,
      what,
    );
    return pluginAnswer(reply, what).data;
  }

  /**
   * An asynchronous plugin message (videoroom join, publish, configure with jsep, start): after
   * Janus's "ack", resolves with the "event" that answers the same transaction (data and jsep);
   * rejects like request().
   */
  async message(body: Record<string, unknown>, jsep?: Jsep): Promise<JanusEvent> {
    const what = `${this.#pluginName()} ${describe(body)}`;
    const message: Record<string, unknown> = { janus: 'message', handle_id: this.id, body };
    if (jsep) message.jsep = { type: jsep.type, sdp: jsep.sdp };
    const reply = await this.#channel.send(message, false, what);
    return pluginAnswer(reply, what);
  }

  /** Trickles an ICE candidate ({candidate, sdpMid, sdpMLineIndex}); null says gathering completed. */
  async trickle(
    candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null,
  ): Promise<void> {
    const payload =
      candidate === null
        ? { completed: true }
        : {
            candidate: candidate.candidate,
            ...(candidate.sdpMid == null ? {} : { sdpMid: candidate.sdpMid }),
            ...(candidate.sdpMLineIndex == null ? {} : { sdpMLineIndex: candidate.sdpMLineIndex }),
          };
    await this.#channel.send(
      { janus: 'trickle', handle_id: this.id, candidate: payload },
      true,
      'a trickled candidate',
    );
  }

  /** Plugin events not answering a transaction of ours (publishers joined/left, talking, unpublished, ...). */
  onEvent(listener: (event: JanusEvent) => void): void {
    this.#eventListeners.add(listener);
  }

  /** "webrtcup", "hangup" (with reason), "media" (type, receiving), "slowlink", "detached": Janus's core events for this handle. */
  onCore(listener: (event: JanusCoreEvent) => void): void {
    this.#coreListeners.add(listener);
  }

  /** Detaches (best effort, never rejects). */
  async detach(): Promise<void> {
    if (this.#detached) return;
    try {
      await this.#channel.send({ janus: 'detach', handle_id: this.id }, false, 'detach');
    } catch {
      // Best effort: a handle whose session or connection is gone is detached on Janus already.
    }
    this.#markDetached();
  }

  /** Routes a message Janus sent about this handle outside any transaction of ours. @internal */
  dispatch(message: JanusMessage): void {
    if (message.janus === 'event') {
      const data = objectAt(objectAt(message, 'plugindata'), 'data');
      if (!data) return;
      const jsep = jsepOf(message);
      const event: JanusEvent = jsep ? { data, jsep } : { data };
      for (const listener of [...this.#eventListeners]) callListener(listener, event);
      return;
    }
    if (typeof message.janus !== 'string') return;
    if (message.janus === 'detached') this.#markDetached();
    const core = message as JanusCoreEvent;
    for (const listener of [...this.#coreListeners]) callListener(listener, core);
  }

  /** Marks it detached because its session is gone. @internal */
  markGone(): void {
    this.#detached = true;
  }

  #markDetached(): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#channel.forget(this.id);
  }

  #pluginName(): string {
    return this.plugin.replace(/^janus\.plugin\./, '');
  }
}
