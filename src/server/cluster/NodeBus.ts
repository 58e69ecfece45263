import type { Redis } from 'ioredis';
import { ErrorCodes, RelayRpcError, RpcErrorCodes, toRpcError } from '../../protocol/index.js';

/** A message between Relay nodes. */
export type BusMessage = { type: string } & Record<string, unknown>;

/** Handles a message from another node; a request's answer is what it returns (or throws). */
export type BusHandler = (from: string, message: BusMessage) => unknown;

interface Envelope {
  from: string;
  message?: BusMessage;
  /** Set on a request: the reply carries it back. */
  id?: number;
  /** Set on a reply: the id of the request it answers. */
  reply?: number;
  result?: unknown;
  error?: { rpcCode: number; code: string; message: string };
}

interface Pending {
  callback: (error: RelayRpcError | null, result?: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Node-to-node messages over Redis pub/sub, one channel per node: a message reaches only the
 * node it is for, never every node. Messages from one node arrive in the order it sent them,
 * and whatever a settled request started (its promise continuations) has run before the next
 * message is looked at.
 */
export class NodeBus {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly inbox: Envelope[] = [];
  /** Envelopes of this turn, per destination node: published together at its end. */
  private outbox = new Map<string, Envelope[]>();
  /** Drains queued with setImmediate that have not run yet. */
  private scheduledDrains = 0;
  private handler: BusHandler = () => undefined;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    readonly nodeId: string,
    private readonly prefix: string,
    /** Told of a publish that failed. */
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Subscribes to this node's channel; `handler` gets every message for this node. */
  async start(handler: BusHandler): Promise<void> {
    this.handler = handler;
    this.sub.on('message', (_channel: string, text: string) => {
      let envelopes: Envelope[];
      try {
        envelopes = JSON.parse(text) as Envelope[];
      } catch {
        return; // not from a Relay node
      }
      if (!Array.isArray(envelopes)) return;
      this.inbox.push(...envelopes);
      // A drain stops after a reply (see drain), so one per reply and one more. All of them
      // are queued now, from the poll phase, so they run in this turn's check phase, with
      // promise continuations run between them; a drain queued by the drain before it would
      // wait a whole turn of the loop, one reply per turn, and under load replies queued up
      // past their requests' timeouts.
      let drains = 1;
      for (const envelope of envelopes) if (envelope.reply !== undefined) drains += 1;
      for (; drains > 0; drains -= 1) this.scheduleDrain();
    });
    await this.sub.subscribe(this.channel(this.nodeId));
  }

  /** Sends a message to a node, fire and forget (a dead node's messages are lost with it). */
  send(node: string, message: BusMessage): void {
    this.publish(node, { from: this.nodeId, message });
  }

  /**
   * Sends a request and calls back with the other node's answer, in the turn it arrives, or
   * with `service_unavailable` when none comes within `timeoutMs`.
   */
  request(
    node: string,
    message: BusMessage,
    timeoutMs: number,
    callback: (error: RelayRpcError | null, result?: unknown) => void,
  ): void {
    const id = ++this.nextId;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      callback(
        new RelayRpcError(
          RpcErrorCodes.internal,
          ErrorCodes.unavailableService,
          'Another Relay node did not answer in time (it may have stopped). Try again.',
        ),
      );
    }, timeoutMs);
    this.pending.set(id, { callback, timer });
    this.publish(node, { from: this.nodeId, id, message });
  }

  /** Stops; requests still waiting for an answer fail at once instead of at their timeout. */
  close(): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const { timer, callback } of pending) {
      clearTimeout(timer);
      callback(
        new RelayRpcError(
          RpcErrorCodes.internal,
          ErrorCodes.unavailableService,
          'This Relay node is shutting down. Reconnect; another node will serve you.',
        ),
      );
    }
  }

  private scheduleDrain(): void {
    this.scheduledDrains += 1;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.scheduledDrains -= 1;
    // Messages are handled in a row until a reply settles a request: what its requester
    // does next (in promise continuations) must run before the following message.
    let envelope: Envelope | undefined;
    while ((envelope = this.inbox.shift()) !== undefined) {
      if (this.receive(envelope)) break;
    }
    if (this.inbox.length > 0 && this.scheduledDrains === 0) this.scheduleDrain();
  };

  /** Handles one message; true when it was a reply. */
  private receive(envelope: Envelope): boolean {
    if (envelope.reply !== undefined) {
      const pending = this.pending.get(envelope.reply);
      if (!pending) return false;
      this.pending.delete(envelope.reply);
      clearTimeout(pending.timer);
      const { error } = envelope;
      if (error) {
        pending.callback(new RelayRpcError(error.rpcCode, error.code as never, error.message));
      } else pending.callback(null, envelope.result);
      return true;
    }
    if (!envelope.message) return false;
    try {
      const result = this.handler(envelope.from, envelope.message);
      if (envelope.id !== undefined) {
        this.publish(envelope.from, {
          from: this.nodeId,
          reply: envelope.id,
          result: result ?? {},
        });
      }
    } catch (error) {
      if (envelope.id === undefined) return false;
      // Translated as the socket layer does: domain code throws RelayError(code).
      const rpc = toRpcError(error);
      this.publish(envelope.from, {
        from: this.nodeId,
        reply: envelope.id,
        error: { rpcCode: rpc.rpcCode, code: rpc.code, message: rpc.message },
      });
    }
    return false;
  }

  /**
   * Queues an envelope for `node`; a turn's envelopes for one node go out as one publish (a
   * JSON array), in order. Under load that is most of the cost of crossing nodes.
   */
  private publish(node: string, envelope: Envelope): void {
    if (this.outbox.size === 0) setImmediate(this.flush);
    const queued = this.outbox.get(node);
    if (queued) queued.push(envelope);
    else this.outbox.set(node, [envelope]);
  }

  private readonly flush = (): void => {
    const outbox = this.outbox;
    this.outbox = new Map();
    for (const [node, envelopes] of outbox) {
      // A publish lost while Redis is away surfaces as the request's timeout; the node reports
      // itself unhealthy meanwhile.
      this.pub.publish(this.channel(node), JSON.stringify(envelopes)).catch(this.failed);
    }
  };

  private channel(node: string): string {
    return `${this.prefix}node:${node}`;
  }
}
