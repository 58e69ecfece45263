import type { Redis } from 'ioredis';
import { ErrorCodes, RelayError } from '../../protocol/index.js';
import { optionalPeerError, type OptionalPeer } from './optionalPeerError.js';
import { redactRedisUrl } from './redactRedisUrl.js';
import { flatten, pairsToObject, toFamily, toToken } from './redisRecords.js';
import { redisScripts, type Script } from './redisScripts.js';
import type {
  FamilyRecord,
  ProjectRecord,
  RefreshTokenRecord,
  RelayStore,
  RotateOutcome,
} from './RelayStore.js';
import { isReplyError, translateRedisError } from './translateRedisError.js';

export { redactRedisUrl } from './redactRedisUrl.js';

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
    if (raced === null || raced === undefined) return secret;
    if (typeof raced !== 'string') {
      throw new Error(`Redis answered SET NX GET with a ${typeof raced}, not the stored secret.`);
    }
    return raced;
  }

  async createFamily(family: FamilyRecord, token: RefreshTokenRecord): Promise<void> {
    if (token.familyId !== family.id) {
      throw new Error(`Refresh token belongs to family ${token.familyId}, not ${family.id}`);
    }
    const familyFields = flatten(family);
    await this.eval(redisScripts.createFamily, [
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
    return (await this.eval(redisScripts.revoke, [id, String(at), reason])) === 1;
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
    const reply = await this.eval(redisScripts.rotate, [
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
      const reply = await this.eval(redisScripts.purge, [String(now), String(PURGE_BATCH)]);
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
      throw translateRedisError(error);
    }
  }
}

const IOREDIS_PEER: OptionalPeer = {
  feature: 'The Redis store',
  pkg: 'ioredis',
  major: 6,
  instead: 'use --store sqlite:PATH',
};
