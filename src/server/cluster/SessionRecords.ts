import type { Redis } from 'ioredis';
import type { Scope } from '../../protocol/index.js';
import type { Session, SessionBuffer, SessionJournal } from '../signaling/Session.js';

const REMOVE_IF_HELD = `
if redis.call('HGET', KEYS[1], 'node') == ARGV[1] then
  return redis.call('DEL', KEYS[1], KEYS[2])
end
return 0`;

/** A session as Redis keeps it for a resume on any node. */
export interface SessionRecord {
  id: string;
  projectId: string;
  resource: string;
  familyId: string;
  scopes: Scope[];
  expiresAt: number;
  /** The node that held it last. */
  node: string;
  buffer: SessionBuffer;
}

/**
 * Each session's identity and resume buffer, in Redis: a node that dies leaves them behind,
 * and the node its client reconnects to resumes the session from them. Writes are pipelined
 * on the node's command connection, in order, without waiting.
 *
 * Keys under the prefix P: `P session-record:<id>` (hash) and `P session-outbox:<id>` (list of
 * the unacknowledged notifications, oldest first). Both expire `ttlMs` after they were last
 * saved (a session saves its record again at every re-authentication).
 */
export class SessionRecords {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    /** Told of a write that failed. */
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Records a session held by `node` (new, resumed here, or re-authenticated). */
  save(session: Session, node: string, buffer?: SessionBuffer): void {
    const pipeline = this.redis.pipeline().hset(this.recordKey(session.id), {
      projectId: session.projectId,
      resource: session.resource,
      familyId: session.familyId,
      scopes: JSON.stringify(session.scopes),
      expiresAt: String(session.expiresAt),
      node,
    });
    if (buffer) {
      pipeline
        .hset(this.recordKey(session.id), { floor: String(buffer.floor) })
        .del(this.outboxKey(session.id));
      if (buffer.outbox.length > 0) pipeline.rpush(this.outboxKey(session.id), ...buffer.outbox);
    }
    pipeline
      .pexpire(this.recordKey(session.id), this.ttlMs)
      .pexpire(this.outboxKey(session.id), this.ttlMs)
      .exec()
      .catch(this.failed);
  }

  /** Copies a session's buffer changes to Redis as they happen. */
  journal(sessionId: string): SessionJournal {
    const record = this.recordKey(sessionId);
    const outbox = this.outboxKey(sessionId);
    // Single commands, not pipelines: the connection auto-pipelines what a turn sends, so a
    // busy node writes its journal in one write per turn. The last seq is floor + the length.
    return {
      appended: (seq, text) => {
        this.redis.rpush(outbox, text).catch(this.failed);
        // The list may have been created by this push: give it the record's lifetime.
        if (seq % 32 === 1) this.redis.pexpire(outbox, this.ttlMs).catch(this.failed);
      },
      trimmed: (floor, dropped) => {
        this.redis.ltrim(outbox, dropped, -1).catch(this.failed);
        this.redis.hset(record, 'floor', String(floor)).catch(this.failed);
      },
    };
  }

  async load(sessionId: string): Promise<SessionRecord | undefined> {
    const [[, fields], [, outbox]] = ((await this.redis
      .pipeline()
      .hgetall(this.recordKey(sessionId))
      .lrange(this.outboxKey(sessionId), 0, -1)
      .exec()) ?? []) as [[unknown, Record<string, string>], [unknown, string[]]];
    if (!fields?.projectId || !fields.resource || !fields.node) return undefined;
    return {
      id: sessionId,
      projectId: fields.projectId,
      resource: fields.resource,
      familyId: fields.familyId ?? '',
      scopes: JSON.parse(fields.scopes ?? '[]') as Scope[],
      expiresAt: Number(fields.expiresAt),
      node: fields.node,
      buffer: {
        seq: Number(fields.floor ?? 0) + (outbox?.length ?? 0),
        floor: Number(fields.floor ?? 0),
        outbox: outbox ?? [],
      },
    };
  }

  /** Removes a session's record, unless another node has taken the session over since. */
  remove(sessionId: string, node: string): void {
    this.redis
      .eval(REMOVE_IF_HELD, 2, this.recordKey(sessionId), this.outboxKey(sessionId), node)
      .catch(this.failed);
  }

  private recordKey(sessionId: string): string {
    return `${this.prefix}session-record:${sessionId}`;
  }

  private outboxKey(sessionId: string): string {
    return `${this.prefix}session-outbox:${sessionId}`;
  }
}
