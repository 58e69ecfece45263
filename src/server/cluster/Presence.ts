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

/**
 * Which node holds each session, in Redis. A resource's sessions are a sorted set whose
 * scores are expiry times: the node holding them pushes the times forward every
 * `ttlMs / 3`, so the entries of a node that died fall out within `ttlMs` on their own.
 * A node's liveness is a key with the same time to live. Families map to the nodes that
 * hold their sessions, so a revocation reaches exactly those.
 *
 * Keys under the prefix P: `P presence:<project, resource>` (zset of `node sessionId`,
 * scored by expiry), `P session:<id>` (hash: node, scopes), `P node:<id>:alive`,
 * `P family-nodes:<family>` (zset of node ids, scored by expiry).
 */
export class Presence {
  private readonly entries = new Map<string, PresenceEntry>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly redis: Redis,
    readonly nodeId: string,
    private readonly prefix: string,
    /** How long an entry outlives the last refresh of its node, in ms. */
    private readonly ttlMs: number,
  ) {}

  /** Starts refreshing this node's entries (and its liveness key). */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.ttlMs / 3);
    this.timer.unref();
  }

  async add(entry: PresenceEntry): Promise<void> {
    this.entries.set(entry.sessionId, entry);
    await this.write([entry]);
  }

  /** Records a session's new scopes or family (re-authentication). */
  async update(entry: PresenceEntry): Promise<void> {
    this.entries.set(entry.sessionId, entry);
    await this.write([entry]);
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
    const members = await this.redis.zrangebyscore(
      this.resourceKey(projectId, resource),
      Date.now(),
      '+inf',
    );
    const found: PresentSession[] = [];
    const remote = members
      .map((member) => member.split(' ') as [string, string])
      .filter(([node]) => node !== this.nodeId);
    if (remote.length === 0) return found;
    const pipeline = this.redis.pipeline();
    for (const [, sessionId] of remote) pipeline.hget(this.sessionKey(sessionId), 'scopes');
    const replies = (await pipeline.exec()) ?? [];
    remote.forEach(([node, sessionId], i) => {
      const scopes = replies[i]?.[1];
      if (typeof scopes === 'string') {
        found.push({ sessionId, node, scopes: JSON.parse(scopes) as Scope[] });
      }
    });
    return found;
  }

  /** The nodes, other than this one, that hold sessions of a token family. */
  async nodesOfFamily(familyId: string): Promise<string[]> {
    const nodes = await this.redis.zrangebyscore(this.familyKey(familyId), Date.now(), '+inf');
    return nodes.filter((node) => node !== this.nodeId);
  }

  /** Whether a node refreshed its liveness within the time to live. */
  async alive(node: string): Promise<boolean> {
    return (await this.redis.exists(this.aliveKey(node))) === 1;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The sessions this node holds. */
  sessionIds(): IterableIterator<string> {
    return this.entries.keys();
  }

  private async refresh(): Promise<void> {
    await this.redis.set(this.aliveKey(this.nodeId), '1', 'PX', this.ttlMs);
    await this.write([...this.entries.values()]);
  }

  private async write(entries: PresenceEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const expires = Date.now() + this.ttlMs;
    const pipeline = this.redis.pipeline();
    for (const entry of entries) {
      const resourceKey = this.resourceKey(entry.projectId, entry.resource);
      pipeline
        .zadd(resourceKey, expires, this.member(entry.sessionId))
        .zremrangebyscore(resourceKey, '-inf', Date.now())
        .pexpire(resourceKey, this.ttlMs)
        .hset(this.sessionKey(entry.sessionId), {
          node: this.nodeId,
          scopes: JSON.stringify(entry.scopes),
        })
        .pexpire(this.sessionKey(entry.sessionId), this.ttlMs)
        .zadd(this.familyKey(entry.familyId), expires, this.nodeId)
        .pexpire(this.familyKey(entry.familyId), this.ttlMs);
    }
    await pipeline.exec();
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
}
