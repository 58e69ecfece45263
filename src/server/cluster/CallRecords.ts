import type { Redis } from 'ioredis';
import type { CallRecord } from '../../protocol/index.js';
import type { BoardMirror } from '../supervision/CallBoard.js';
import type { Presence } from './Presence.js';

interface Stored {
  node: string;
  record: CallRecord;
}

interface Update extends Stored {
  projectId: string;
  ended: boolean;
  before?: CallRecord;
}

/** Told of another node's call record changing or ending. */
export type RemoteUpdate = (
  projectId: string,
  record: CallRecord,
  ended: boolean,
  before?: CallRecord,
) => void;

/**
 * The call records of every node, in Redis, for supervisors listing a project's calls on any
 * node: one hash per project (call id → the owning node and its record), written by the node
 * owning the call on every change, and one channel telling every node of the changes (for
 * `calls.watch`). Records of a node that died are dropped when a listing finds them.
 */
export class CallRecords implements BoardMirror {
  private listening = false;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly presence: Presence,
    /** Told of a write or publish that failed. */
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Subscribes to the other nodes' changes. */
  async listen(onUpdate: RemoteUpdate): Promise<void> {
    if (this.listening) return;
    this.listening = true;
    const channel = this.channel();
    this.sub.on('message', (from: string, text: string) => {
      if (from !== channel) return;
      let update: Update;
      try {
        update = JSON.parse(text) as Update;
      } catch {
        return;
      }
      if (update.node === this.nodeId) return;
      onUpdate(update.projectId, update.record, update.ended === true, update.before);
    });
    await this.sub.subscribe(channel);
  }

  publish(projectId: string, record: CallRecord, ended: boolean, before?: CallRecord): void {
    const key = this.key(projectId);
    const write = ended
      ? this.pub.hdel(key, record.id)
      : this.pub.hset(key, record.id, JSON.stringify({ node: this.nodeId, record }));
    // A write lost while Redis is away is written again by the call's next change.
    write.catch(this.failed);
    const update: Update = { node: this.nodeId, projectId, record, ended };
    if (before) update.before = before;
    this.pub.publish(this.channel(), JSON.stringify(update)).catch(this.failed);
  }

  async list(projectId: string): Promise<CallRecord[]> {
    const key = this.key(projectId);
    const stored: Stored[] = [];
    for (const text of Object.values(await this.pub.hgetall(key))) {
      try {
        const entry = JSON.parse(text) as Stored;
        if (entry.node !== this.nodeId) stored.push(entry);
      } catch {
        // not a record of ours
      }
    }
    const alive = await this.presence.aliveAmong(stored.map((entry) => entry.node));
    const dead = stored.filter((entry) => !alive.has(entry.node));
    if (dead.length > 0) {
      this.pub.hdel(key, ...dead.map((entry) => entry.record.id)).catch(this.failed);
    }
    return stored.filter((entry) => alive.has(entry.node)).map((entry) => entry.record);
  }

  /** The node owning a call or room of the project, when another live node does. */
  async ownerOf(projectId: string, callId: string): Promise<string | undefined> {
    const text = await this.pub.hget(this.key(projectId), callId);
    if (text === null) return undefined;
    const { node } = JSON.parse(text) as Stored;
    if (node === this.nodeId) return undefined;
    return (await this.presence.alive(node)) ? node : undefined;
  }

  private key(projectId: string): string {
    return `${this.prefix}calls:${projectId}`;
  }

  private channel(): string {
    return `${this.prefix}calls-updated`;
  }
}
