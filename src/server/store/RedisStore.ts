import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ErrorCodes, RelayError, isScope, type Scope } from '../../protocol/index.js';
import { optionalPeerError, type OptionalPeer } from './optionalPeerError.js';
import type {
  FamilyRecord,
  ProjectRecord,
  RefreshTokenRecord,
  RelayStore,
  RotateOutcome,
} from './RelayStore.js';

/** Options of {@link RedisStore.open}. */
export interface RedisStoreOptions {
  /**
   * Prefix of every key the store reads and writes, so several Relay deployments (or other
   * applications) can share one Redis database. Default: `'relaycall:'`.
   */
  keyPrefix?: string;
  /** How long connecting to Redis may take before the attempt fails, in ms. Default: 2000. */
  connectTimeoutMs?: number;
  /**
   * How long one store operation may wait for Redis's answer before it fails with
   * `service_unavailable`, in ms. Default: 2000.
   */
  commandTimeoutMs?: number;
  /**
   * Longest pause between two reconnection attempts while Redis is unreachable, in ms
   * (attempts start 50 ms apart and back off to this). Default: 1000.
   */
  maxReconnectDelayMs?: number;
  /**
   * Receives one line when the connection to Redis is lost and one when it is back. The
   * lines name the Redis host (never its password). Default: none (silent).
   */
  log?: (line: string) => void;
}

const DEFAULTS = {
  keyPrefix: 'relaycall:',
  connectTimeoutMs: 2000,
  commandTimeoutMs: 2000,
  maxReconnectDelayMs: 1000,
};

/** Expired refresh tokens removed per purge script run, so no run blocks Redis for long. */
const PURGE_BATCH = 500;

/** Errors our scripts raise on purpose start with this; what follows is the message. */
const SCRIPT_ERROR = 'RELAYCALL ';

/**
 * Key layout under the prefix P (every script gets P as ARGV[1]):
 *   P projects             hash   project id -> ProjectRecord JSON
 *   P secret               string the JWT signing secret
 *   P family:ID            hash   FamilyRecord fields (null fields absent, scopes as JSON)
 *   P family-tokens:ID     set    hashes of the family's refresh tokens
 *   P token:HASH           hash   RefreshTokenRecord fields (rotatedAt absent while current)
 *   P token-expiry         zset   token hash scored by expiresAt (for purging)
 * Scripts build the family and token keys themselves, so Redis Cluster is not supported.
 */
const CREATE_FAMILY = `
local p, fid, th, exp, nf = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local fk, tk = p .. 'family:' .. fid, p .. 'token:' .. th
if redis.call('EXISTS', fk) == 1 then
  return redis.error_reply('${SCRIPT_ERROR}Family ' .. fid .. ' already exists')
end
if redis.call('EXISTS', tk) == 1 then
  return redis.error_reply('${SCRIPT_ERROR}Refresh token hash already exists')
end
redis.call('HSET', fk, unpack(ARGV, 6, 5 + nf))
redis.call('HSET', tk, unpack(ARGV, 6 + nf))
redis.call('ZADD', p .. 'token-expiry', exp, th)
redis.call('SADD', p .. 'family-tokens:' .. fid, th)
return 1
`;

const ROTATE = `
local p, old, now = ARGV[1], ARGV[2], ARGV[3]
local nh, nfid, nexp = ARGV[4], ARGV[5], ARGV[6]
local tk = p .. 'token:' .. old
local t = redis.call('HMGET', tk, 'familyId', 'expiresAt', 'rotatedAt')
if not t[1] or tonumber(t[2]) <= tonumber(now) then return {'invalid'} end
local fk = p .. 'family:' .. t[1]
local family = redis.call('HGETALL', fk)
if #family == 0 or redis.call('HEXISTS', fk, 'revokedAt') == 1 then return {'invalid'} end
if t[3] then return {'reused', family} end
if nfid ~= t[1] then
  return redis.error_reply('${SCRIPT_ERROR}New refresh token belongs to family ' .. nfid ..
    ', not ' .. t[1])
end
local nk = p .. 'token:' .. nh
if redis.call('EXISTS', nk) == 1 then
  return redis.error_reply('${SCRIPT_ERROR}Refresh token hash already exists')
end
redis.call('HSET', tk, 'rotatedAt', now)
redis.call('HSET', nk, unpack(ARGV, 7))
redis.call('ZADD', p .. 'token-expiry', nexp, nh)
redis.call('SADD', p .. 'family-tokens:' .. nfid, nh)
return {'rotated', family}
`;

const REVOKE = `
local fk = ARGV[1] .. 'family:' .. ARGV[2]
if redis.call('EXISTS', fk) == 0 or redis.call('HEXISTS', fk, 'revokedAt') == 1 then
  return 0
end
redis.call('HSET', fk, 'revokedAt', ARGV[3], 'revokedReason', ARGV[4])
return 1
`;

const PURGE = `
local p, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local zk = p .. 'token-expiry'
local hashes = redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, limit)
local removed = 0
for _, h in ipairs(hashes) do
  local tk = p .. 'token:' .. h
  local fid = redis.call('HGET', tk, 'familyId')
  removed = removed + redis.call('DEL', tk)
  redis.call('ZREM', zk, h)
  if fid then
    local sk = p .. 'family-tokens:' .. fid
    redis.call('SREM', sk, h)
    if redis.call('SCARD', sk) == 0 then
      removed = removed + redis.call('DEL', p .. 'family:' .. fid)
    end
  end
end
return {#hashes, removed}
`;

interface Script {
  lua: string;
  sha: string;
}

const script = (lua: string): Script => ({
  lua,
  sha: createHash('sha1').update(lua).digest('hex'),
});

const SCRIPTS = {
  createFamily: script(CREATE_FAMILY),
  rotate: script(ROTATE),
  revoke: script(REVOKE),
  purge: script(PURGE),
};

/**
 * A `redis://` or `rediss://` URL with its password masked, fit for logs and messages (a
 * lone user name is masked too: it may be a password). Any other string comes back as is.
 */
export function redactRedisUrl(url: string): string {
  if (!/^rediss?:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    else if (parsed.username) parsed.username = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** A Redis error reply (as opposed to a connection failure). */
const isReplyError = (error: unknown): error is Error =>
  error instanceof Error && error.name === 'ReplyError';

/** Error replies that mean "Redis cannot serve right now", not "this command is wrong". */
const UNAVAILABLE_REPLY =
  /^(LOADING|READONLY|MASTERDOWN|OOM|BUSY|MISCONF|TRYAGAIN|CLUSTERDOWN|NOAUTH|WRONGPASS|NOPERM)\b/;

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (isReplyError(error)) return `Redis answered ${message.split(' ')[0] ?? 'an error'}`;
  if (message === 'Command timed out') return 'Redis did not answer in time';
  if (message.startsWith("Stream isn't writeable")) return 'not connected to Redis';
  if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
    return 'the connection to Redis was lost during the operation';
  }
  return 'the connection to Redis failed';
}

const num = (value: string | undefined, field: string): number => {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n)) {
    throw new Error(`The Redis store holds a corrupt record: ${field} is ${String(value)}`);
  }
  return n;
};

const optionalNum = (value: string | undefined, field: string): number | null =>
  value === undefined ? null : num(value, field);

function parseScopes(json: string | undefined, familyId: string): Scope[] {
  const value: unknown = JSON.parse(json ?? 'null');
  if (!Array.isArray(value)) {
    throw new Error(`The Redis store holds family ${familyId} with corrupt scopes: ${json}`);
  }
  // Dropping a scope this version does not know only ever narrows a grant.
  return value.filter(isScope);
}

function toFamily(fields: Record<string, string>): FamilyRecord {
  const id = fields.id ?? '';
  return {
    id,
    projectId: fields.projectId ?? '',
    resource: fields.resource ?? '',
    scopes: parseScopes(fields.scopes, id),
    expiresInMinutes: num(fields.expiresInMinutes, 'expiresInMinutes'),
    createdAt: num(fields.createdAt, 'createdAt'),
    revokedAt: optionalNum(fields.revokedAt, 'revokedAt'),
    revokedReason: fields.revokedReason ?? null,
  };
}

/** A flat [field, value, ...] reply (HGETALL inside a script) as an object. */
function pairsToObject(reply: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

function toToken(fields: Record<string, string>): RefreshTokenRecord {
  return {
    hash: fields.hash ?? '',
    familyId: fields.familyId ?? '',
    createdAt: num(fields.createdAt, 'createdAt'),
    expiresAt: num(fields.expiresAt, 'expiresAt'),
    rotatedAt: optionalNum(fields.rotatedAt, 'rotatedAt'),
  };
}

/** Record fields as [field, value, ...], leaving out null ones (absent means null). */
function flatten(record: object): string[] {
  const out: string[] = [];
  for (const [field, value] of Object.entries(record)) {
    if (value === null || value === undefined) continue;
    out.push(field, Array.isArray(value) ? JSON.stringify(value) : String(value));
  }
  return out;
}

/**
 * A {@link RelayStore} in Redis (7.0 or newer), via the optional ioredis
 * peer dependency: several Relay nodes share projects, the signing secret and refresh
 * families through it. Every multi-step change is one Lua script, so it is atomic across
 * nodes. Create one with {@link RedisStore.open}.
 *
 * While Redis is unreachable, operations fail at once (within `commandTimeoutMs`) with a
 * {@link RelayError} of code `service_unavailable`: nothing is queued, and no operation is
 * replayed after a reconnection (a replayed refresh would look like token reuse). The client
 * reconnects by itself; `ping()` resolves again once Redis answers.
 */
export class RedisStore implements RelayStore {
  private closed = false;
  /** Ready now; `wasReady`: ready at least once (so a 'ready' after that is a recovery). */
  private connected = false;
  private wasReady = false;
  private lastConnectionError: string | undefined;

  private constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly shownUrl: string,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    client.on('error', (error: Error) => {
      this.lastConnectionError = error.message;
    });
    client.on('close', () => {
      if (this.closed || !this.connected) return;
      this.connected = false;
      this.log?.(
        `Redis store: lost the connection to ${this.shownUrl}` +
          `${this.lastConnectionError ? ` (${this.lastConnectionError})` : ''}. ` +
          'Requests that need the store get 503 until it is back; reconnecting.',
      );
    });
    client.on('ready', () => {
      if (this.wasReady && !this.connected) {
        this.log?.(`Redis store: connected to ${this.shownUrl} again.`);
      }
      this.connected = true;
      this.wasReady = true;
      this.lastConnectionError = undefined;
    });
  }

  /**
   * Connects to Redis at `url` (`redis://[[user]:password@]host[:port][/db]`, or `rediss://`
   * for TLS). Rejects with a `service_unavailable` {@link RelayError} when Redis does not
   * answer within `connectTimeoutMs`, and with an explanatory error when ioredis is missing.
   */
  static async open(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    const shownUrl = redactRedisUrl(url);
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      // Reported below.
    }
    if (
      !parsed ||
      (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') ||
      !/^\/?\d*$/.test(parsed.pathname)
    ) {
      throw new RelayError(
        ErrorCodes.badRequest,
        `"${shownUrl}" is not a Redis URL. Use redis://[[user]:password@]host[:port][/db], ` +
          'or rediss://… for TLS.',
      );
    }
    const settings = { ...DEFAULTS, ...options };
    let Client: typeof Redis;
    try {
      Client = (await import('ioredis')).Redis;
    } catch (error) {
      throw optionalPeerError(error, IOREDIS_PEER);
    }
    const client = new Client(url, {
      lazyConnect: true,
      connectTimeout: settings.connectTimeoutMs,
      commandTimeout: settings.commandTimeoutMs,
      // Fail fast while Redis is away instead of queueing, and never replay a command
      // whose answer was lost: it may have run already.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // How long disconnect() lets a socket close by itself before destroying it; ioredis's
      // 2000 ms would keep a failed start (whose socket is already gone) alive that long.
      disconnectTimeout: 200,
      retryStrategy: (attempt) =>
        Math.min(50 * 2 ** Math.min(attempt - 1, 10), settings.maxReconnectDelayMs),
    });
    // The constructor listens for 'error': without a listener, ioredis prints every one.
    const store = new RedisStore(client, settings.keyPrefix, shownUrl, options.log);
    let timer: NodeJS.Timeout | undefined;
    try {
      // connectTimeout covers the TCP connection only; a Redis that accepts it and then does
      // not answer (stopped, or not Redis at all) must not hold the start either.
      const limit = settings.connectTimeoutMs + settings.commandTimeoutMs;
      await Promise.race([
        client.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Redis did not become ready within ${limit} ms`)),
            limit,
          );
        }),
      ]);
    } catch (error) {
      client.disconnect();
      // connect() itself only says "Connection is closed."; the 'error' before it says why.
      const reason =
        store.lastConnectionError ?? (error instanceof Error ? error.message : String(error));
      throw new RelayError(
        ErrorCodes.unavailableService,
        `Cannot connect to the Redis store at ${shownUrl}: ${reason}. Start Redis or fix ` +
          'the URL (and its password), or use another store (--store sqlite:PATH).',
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
    return store;
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const json = await this.run(() => this.client.hget(this.key('projects'), id));
    return json === null ? undefined : (JSON.parse(json) as ProjectRecord);
  }

  async putProject(project: ProjectRecord): Promise<void> {
    const { id, tokenHash, salt, createdAt } = project;
    const json = JSON.stringify({ id, tokenHash, salt, createdAt });
    await this.run(() => this.client.hset(this.key('projects'), id, json));
  }

  async listProjects(): Promise<ProjectRecord[]> {
    const values = await this.run(() => this.client.hvals(this.key('projects')));
    return values
      .map((json) => JSON.parse(json) as ProjectRecord)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async getOrCreateSecret(create: () => string): Promise<string> {
    const key = this.key('secret');
    const existing = await this.run(() => this.client.get(key));
    if (existing !== null) return existing;
    const secret = create();
    // SET NX GET: stores ours unless another node got there first, then answers theirs.
    const raced = await this.run(() => this.client.call('SET', key, secret, 'NX', 'GET'));
    return raced === null || raced === undefined ? secret : String(raced);
  }

  async createFamily(family: FamilyRecord, token: RefreshTokenRecord): Promise<void> {
    if (token.familyId !== family.id) {
      throw new Error(`Refresh token belongs to family ${token.familyId}, not ${family.id}`);
    }
    const familyFields = flatten(family);
    await this.eval(SCRIPTS.createFamily, [
      family.id,
      token.hash,
      String(token.expiresAt),
      String(familyFields.length),
      ...familyFields,
      ...flatten(token),
    ]);
  }

  async getFamily(id: string): Promise<FamilyRecord | undefined> {
    const fields = await this.run(() => this.client.hgetall(this.key(`family:${id}`)));
    return Object.keys(fields).length === 0 ? undefined : toFamily(fields);
  }

  async revokeFamily(id: string, at: number, reason: string): Promise<boolean> {
    return (await this.eval(SCRIPTS.revoke, [id, String(at), reason])) === 1;
  }

  async getRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    const fields = await this.run(() => this.client.hgetall(this.key(`token:${hash}`)));
    return Object.keys(fields).length === 0 ? undefined : toToken(fields);
  }

  async rotateRefreshToken(
    oldHash: string,
    next: RefreshTokenRecord,
    now: number,
  ): Promise<RotateOutcome> {
    const reply = await this.eval(SCRIPTS.rotate, [
      oldHash,
      String(now),
      next.hash,
      next.familyId,
      String(next.expiresAt),
      ...flatten(next),
    ]);
    const [status, family] = Array.isArray(reply) ? (reply as unknown[]) : [];
    if (status === 'rotated' || status === 'reused') {
      return { status, family: toFamily(pairsToObject(family)) };
    }
    return { status: 'invalid' };
  }

  async purgeExpired(now: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const reply = await this.eval(SCRIPTS.purge, [String(now), String(PURGE_BATCH)]);
      const [seen, gone] = Array.isArray(reply) ? (reply as unknown[]) : [];
      removed += Number(gone ?? 0);
      if (Number(seen ?? 0) < PURGE_BATCH) return removed;
    }
  }

  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.quit();
    } catch {
      // Not connected: nothing to say goodbye to.
    } finally {
      this.client.disconnect();
    }
  }

  private key(name: string): string {
    return this.prefix + name;
  }

  /** Runs a script by its SHA, loading it first when Redis does not know it (after a restart). */
  private eval(s: Script, args: string[]): Promise<unknown> {
    return this.run(async () => {
      try {
        return await this.client.evalsha(s.sha, 0, this.prefix, ...args);
      } catch (error) {
        if (!isReplyError(error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return this.client.eval(s.lua, 0, this.prefix, ...args);
      }
    });
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('The Redis store is closed');
    try {
      return await operation();
    } catch (error) {
      throw this.translate(error);
    }
  }

  private translate(error: unknown): Error {
    if (isReplyError(error)) {
      const at = error.message.indexOf(SCRIPT_ERROR);
      if (at >= 0) {
        // "Family f1 already exists" and the like: the caller's mistake, as in the other stores.
        return new Error(error.message.slice(at + SCRIPT_ERROR.length).split('\n')[0], {
          cause: error,
        });
      }
      if (!UNAVAILABLE_REPLY.test(error.message)) {
        return new Error(`Redis refused an operation of the Relay's store: ${error.message}`, {
          cause: error,
        });
      }
    }
    // Connection trouble. The message may reach API clients, so it names no host.
    return new RelayError(
      ErrorCodes.unavailableService,
      `The Relay's Redis store is unavailable (${describeFailure(error)}). ` +
        'Try again in a few seconds: the Relay reconnects by itself. ' +
        "If this persists, the Relay's operator should check that Redis is running and reachable.",
      { cause: error },
    );
  }
}

const IOREDIS_PEER: OptionalPeer = {
  feature: 'The Redis store',
  pkg: 'ioredis',
  major: 6,
  instead: 'use --store sqlite:PATH',
};
