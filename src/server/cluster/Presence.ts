import type { Redis } from 'ioredis';
import type { Scope } from '../../protocol/index.js';

/** A session as the other nodes see it. */
export interface PresentSession {
  sessionId: string;
  node: string;
  scopes: Scope[];
}

/** What a node records of each of its sessions. */
export interface PresenceEntry {
  sessionId: string;
  projectId: string;
  resource: string;
  familyId: string;
  scopes: Scope[];
}

/** How long presence and record keys live without being rewritten: beyond any JWT's life. */
export const LONG_TTL_MS = 48 * 60 * 60 * 1000;

/**
 * Which node holds each session, in Redis. A resource's sessions are a sorted set of
 * `node sessionId` members; whether they are live is their node's: each node keeps a liveness
 * key with a time to live fresh (one write every `ttlMs / 3`, however many sessions it holds),
 * so the sessions of a node that died stop counting within `ttlMs`, and readers remove them.
 * Families map to the nodes that hold their sessions, so a revocation reaches exactly those.
 *
 * Keys under the prefix P: `P presence:<project, resource>` (zset of `node sessionId`),
 * `P session:<id>` (hash: node, scopes), `P node:<id>:alive` (expires), `P node:<id>:seen`
 * (when it was last alive), `P family-nodes:<family>` (zset of node ids).
 */
export class Presence {
  private readonly entries = new Map<string, PresenceEntry>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly redis: Redis,
    readonly nodeId: string,
    private readonly prefix: string,
    /** How long a node counts as alive after its last refresh, in ms. */
    private readonly ttlMs: number,
    /** The Relay's clock, ms since the epoch: when a node was last seen alive. */
    private readonly now: () => number = Date.now,
    /** Told of a background write that failed. */
    private readonly failed: (error: unknown) => void = () => undefined,
  ) {}

  /**
   * Starts refreshing this node's liveness. On real time whatever the Relay's clock: the
   * liveness key expires in Redis's time.
   */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(this.failed), this.ttlMs / 3);
    this.timer.unref();
  }

  /** Records a session, or its new family and scopes (re-authentication). */
  async update(entry: PresenceEntry): Promise<void> {
    this.entries.set(entry.sessionId, entry);
    await this.write(entry);
  }

  async remove(sessionId: string): Promise<void> {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    this.entries.delete(sessionId);
    await this.redis
      .multi()
      .zrem(this.resourceKey(entry.projectId, entry.resource), this.member(sessionId))
      .del(this.sessionKey(sessionId))
      .exec();
  }

  /** The live sessions of a resource on other nodes. */
  async othersOf(projectId: string, resource: string): Promise<PresentSession[]> {
    const key = this.resourceKey(projectId, resource);
    const members = await this.redis.zrange(key, '0', '-1');
    const remote = members
      .map((member) => member.split(' ') as [string, string])
      .filter(([node]) => node !== this.nodeId);
    if (remote.length === 0) return [];
    const live = await this.aliveAmong(remote.map(([node]) => node));
    const found: PresentSession[] = [];
    const pipeline = this.redis.pipeline();
    const asked: [string, string][] = [];
    for (const [node, sessionId] of remote) {
      if (live.has(node)) {
        pipeline.hget(this.sessionKey(sessionId), 'scopes');
        asked.push([node, sessionId]);
      } else {
        // A dead node's session: gone for good (its client resumes elsewhere, as a new member).
        this.redis.zrem(key, `${node} ${sessionId}`).catch(this.failed);
      }
    }
    const replies = asked.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    asked.forEach(([node, sessionId], i) => {
      const scopes = replies[i]?.[1];
      if (typeof scopes === 'string') {
        found.push({ sessionId, node, scopes: JSON.parse(scopes) as Scope[] });
      }
    });
    return found;
  }

  /** The live nodes, other than this one, that hold sessions of a token family. */
  async nodesOfFamily(familyId: string): Promise<string[]> {
    const nodes = (await this.redis.zrange(this.familyKey(familyId), '0', '-1')).filter(
      (node) => node !== this.nodeId,
    );
    const live = await this.aliveAmong(nodes);
    return nodes.filter((node) => live.has(node));
  }

  /** Whether a node refreshed its liveness within the time to live. */
  async alive(node: string): Promise<boolean> {
    return (await this.redis.exists(this.aliveKey(node))) === 1;
  }

  /** When a node was last known alive, on the Relay's clock (0 when never). */
  async lastSeen(node: string): Promise<number> {
    return Number((await this.redis.get(this.seenKey(node))) ?? 0);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The sessions this node holds. */
  sessionIds(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Writes every entry again (after Redis was unreachable, writes may have been lost). */
  async rewrite(): Promise<void> {
    await this.refresh();
    for (const entry of this.entries.values()) await this.write(entry);
  }

  /** The nodes among `nodes` that are alive. */
  async aliveAmong(nodes: string[]): Promise<Set<string>> {
    const distinct = [...new Set(nodes)];
    const pipeline = this.redis.pipeline();
    for (const node of distinct) pipeline.exists(this.aliveKey(node));
    const replies = (await pipeline.exec()) ?? [];
    return new Set(distinct.filter((_, i) => replies[i]?.[1] === 1));
  }

  private async refresh(): Promise<void> {
    await this.redis
      .pipeline()
      .set(this.aliveKey(this.nodeId), '1', 'PX', this.ttlMs)
      .set(this.seenKey(this.nodeId), String(this.now()), 'PX', LONG_TTL_MS)
      .exec();
  }

  private async write(entry: PresenceEntry): Promise<void> {
    const resourceKey = this.resourceKey(entry.projectId, entry.resource);
    await this.redis
      .pipeline()
      .zadd(resourceKey, 0, this.member(entry.sessionId))
      .pexpire(resourceKey, LONG_TTL_MS)
      .hset(this.sessionKey(entry.sessionId), {
        node: this.nodeId,
        scopes: JSON.stringify(entry.scopes),
      })
      .pexpire(this.sessionKey(entry.sessionId), LONG_TTL_MS)
      .zadd(this.familyKey(entry.familyId), 0, this.nodeId)
      .pexpire(this.familyKey(entry.familyId), LONG_TTL_MS)
      .exec();
  }

  private member(sessionId: string): string {
    return `${this.nodeId} ${sessionId}`;
  }

  private resourceKey(projectId: string, resource: string): string {
    // JSON keeps project and resource apart whatever characters they hold.
    return `${this.prefix}presence:${JSON.stringify([projectId, resource])}`;
  }

  private sessionKey(sessionId: string): string {
    return `${this.prefix}session:${sessionId}`;
  }

  private familyKey(familyId: string): string {
    return `${this.prefix}family-nodes:${familyId}`;
  }

  private aliveKey(node: string): string {
    return `${this.prefix}node:${node}:alive`;
  }

  private seenKey(node: string): string {
    return `${this.prefix}node:${node}:seen`;
  }
}
