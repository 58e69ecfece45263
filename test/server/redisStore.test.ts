import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ErrorCodes,
  RedisStore,
  RelayError,
  createRelayServer,
  type RedisStoreOptions,
  type RelayServer,
  type RelayStore,
} from 'relaycall/server';
import {
  PROJECT,
  RpcFailure,
  TestClient,
  basic,
  connectWith,
  rest,
  startRelay,
  until,
  type Pair,
  type TestRelay,
} from './helpers.js';
import { startRedisServer, type RedisServer } from './redisServer.js';
import { T0, family, token } from './storeRecords.js';

// The contract every store keeps (projects, secret, families, atomic rotation, reuse) runs
// against RedisStore in store.test.ts; this file covers what only Redis has: several nodes on
// one Redis, a Redis restart, Redis being away, and the CLI's --store redis://.

const SLOW = { timeout: 30_000 };
/** Reconnection attempts at most this far apart, so recoveries are quick in tests. */
const FAST: RedisStoreOptions = { maxReconnectDelayMs: 100 };

const servers: RedisServer[] = [];
const stores: RelayStore[] = [];
const relays: (TestRelay | RelayServer)[] = [];
const sockets: TestClient[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function redisServer(appendOnly = false): Promise<RedisServer> {
  const server = await startRedisServer({ appendOnly });
  servers.push(server);
  return server;
}

async function openStore(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
  const store = await RedisStore.open(url, { ...FAST, ...options });
  stores.push(store);
  return store;
}

const health = async (url: string) => (await fetch(`${url}/healthz`)).status;
const put = (url: string, refreshToken: string) =>
  rest(url, 'PUT', { refresh_token: refreshToken }, basic(PROJECT));
const errorOf = (json: unknown) =>
  (json as { error?: { code?: unknown; message?: unknown } }).error ?? {};

describe('RedisStore on a real redis-server', () => {
  it('lets two nodes share one Redis: one secret, one winner per rotation', async () => {
    const { url } = await redisServer();
    const [a, b] = [await openStore(url), await openStore(url)];

    const secrets = await Promise.all([
      a.getOrCreateSecret(() => 'secret-of-a'),
      b.getOrCreateSecret(() => 'secret-of-b'),
    ]);
    expect(secrets[0]).toBe(secrets[1]);

    await a.createFamily(family('f1'), token('t1', 'f1'));
    const outcomes = await Promise.all([
      a.rotateRefreshToken('t1', token('from-a', 'f1'), T0 + 1),
      b.rotateRefreshToken('t1', token('from-b', 'f1'), T0 + 1),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['reused', 'rotated']);
    const stored = [await b.getRefreshToken('from-a'), await a.getRefreshToken('from-b')];
    expect(stored.filter(Boolean)).toHaveLength(1);

    expect(await b.revokeFamily('f1', T0 + 2, 'reuse')).toBe(true);
    expect(await a.revokeFamily('f1', T0 + 3, 'logout')).toBe(false);
    expect((await a.getFamily('f1'))?.revokedReason).toBe('reuse');
  });

  it('round-trips unusual records and keeps deployments apart by key prefix', async () => {
    const { url } = await redisServer();
    const store = await openStore(url, { keyPrefix: 'one:' });
    const other = await openStore(url, { keyPrefix: 'two:' });
    const odd = family('f:1 ü', { scopes: [], resource: 'bob:{x} "quoted" ü', createdAt: 0 });
    await store.createFamily(odd, token('h:1', 'f:1 ü', Number.MAX_SAFE_INTEGER));
    expect(await store.getFamily('f:1 ü')).toEqual(odd);
    expect(await store.getRefreshToken('h:1')).toEqual(
      token('h:1', 'f:1 ü', Number.MAX_SAFE_INTEGER),
    );
    expect(await other.getFamily('f:1 ü')).toBeUndefined();
    expect(await other.getOrCreateSecret(() => 'two')).toBe('two');
    expect(await store.getOrCreateSecret(() => 'one')).toBe('one');
  });

  it('purges more expired tokens than one script run takes', SLOW, async () => {
    const { url } = await redisServer();
    const store = await openStore(url);
    const count = 1_100;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        store.createFamily(family(`f${i}`), token(`t${i}`, `f${i}`, T0 + 10)),
      ),
    );
    await store.createFamily(family('live'), token('live-token', 'live'));
    // Each expired token and its emptied family.
    expect(await store.purgeExpired(T0 + 10)).toBe(2 * count);
    expect(await store.getFamily('f0')).toBeUndefined();
    expect(await store.getFamily('live')).toEqual(family('live'));
  });

  it('refuses a URL that is not a Redis one, saying which form to use', async () => {
    await expect(RedisStore.open('http://127.0.0.1:6379')).rejects.toThrow(
      /is not a Redis URL\. Use redis:\/\/\[\[user\]:password@\]host\[:port\]\[\/db\]/,
    );
    await expect(RedisStore.open('redis://127.0.0.1:6379/zero')).rejects.toThrow(/not a Redis URL/);
  });

  it('fails fast at open when Redis is not running, without echoing the password', async () => {
    const server = await redisServer();
    await server.kill();
    const started = Date.now();
    const error = (await RedisStore.open(`redis://:hunter2@127.0.0.1:${server.port}/0`).catch(
      (e: unknown) => e,
    )) as RelayError;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(RelayError);
    expect(error.code).toBe(ErrorCodes.unavailableService);
    expect(error.message).toMatch(
      new RegExp(
        `^Cannot connect to the Redis store at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/0: ` +
          '.*ECONNREFUSED.*Start Redis or fix the URL',
      ),
    );
    expect(error.message).not.toContain('hunter2');
  });

  it('fails operations at once while Redis is away, then recovers by itself', SLOW, async () => {
    const server = await redisServer(true);
    const lines: string[] = [];
    const store = await openStore(server.url, { log: (line) => lines.push(line) });
    await store.createFamily(family('f1'), token('t1', 'f1'));

    await server.kill();
    const started = Date.now();
    const failure = (await store.ping().catch((e: unknown) => e)) as RelayError;
    const rotation = (await store
      .rotateRefreshToken('t1', token('t2', 'f1'), T0 + 1)
      .catch((e: unknown) => e)) as RelayError;
    // Nothing queued: both failed without waiting for Redis (commandTimeoutMs is 2000).
    expect(Date.now() - started).toBeLessThan(1_500);
    for (const error of [failure, rotation]) {
      expect(error).toBeInstanceOf(RelayError);
      expect(error.code).toBe(ErrorCodes.unavailableService);
      expect(error.message).toMatch(/Redis store is unavailable .*reconnects by itself/);
      expect(error.message).not.toContain(String(server.port));
    }
    await until('the lost-connection log line', async () => lines.length > 0);
    expect(lines[0]).toMatch(/^Redis store: lost the connection to redis:\/\/127\.0\.0\.1:\d+\/0/);

    await server.restart();
    await until('the store to answer again', async () => {
      await store.ping();
      return true;
    });
    expect(lines.at(-1)).toMatch(/connected to redis:\/\/127\.0\.0\.1:\d+\/0 again/);
    // The failed rotation left nothing behind: t1 is still current and rotates now.
    expect(await store.rotateRefreshToken('t1', token('t2', 'f1'), T0 + 1)).toMatchObject({
      status: 'rotated',
    });
  });

  it('explains what to do when ioredis is missing', async () => {
    vi.doMock('ioredis', () => {
      throw Object.assign(new Error("Cannot find package 'ioredis'"), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    });
    try {
      await expect(RedisStore.open('redis://127.0.0.1:1/0')).rejects.toThrow(
        /needs the ioredis package.*npm install ioredis@6.*--store sqlite:PATH/,
      );
    } finally {
      vi.doUnmock('ioredis');
    }
  });
});

describe('a Relay on Redis', () => {
  async function relayOn(url: string) {
    const relay = await startRelay({ store: await RedisStore.open(url, FAST) });
    relays.push(relay);
    return relay;
  }

  async function connect(wsUrl: string, jwt: string) {
    const { client, result } = await connectWith(wsUrl, { project: PROJECT.id, token: jwt });
    sockets.push(client);
    return result;
  }

  it('keeps a refresh family across kill -9 of Redis (AOF, appendfsync always)', SLOW, async () => {
    const server = await redisServer(true);
    const relay = await relayOn(server.url);
    const first = await relay.token({ resource: 'alice' });
    const second = (await put(relay.url, first.refresh_token)).json as Pair;

    await server.kill();
    await server.restart();
    await until('/healthz to answer 200', async () => (await health(relay.url)) === 200);

    // The family and its rotation survived: the current token rotates, the old one is reuse.
    const third = await put(relay.url, second.refresh_token);
    expect(third.status).toBe(200);
    expect((await connect(relay.wsUrl, (third.json as Pair).jwt_token)).resource).toBe('alice');
    const reused = await put(relay.url, first.refresh_token);
    expect(reused.status).toBe(400);
    expect(errorOf(reused.json).code).toBe('refresh_token_reused');
    const revoked = await put(relay.url, (third.json as Pair).refresh_token);
    expect(errorOf(revoked.json).code).toBe('invalid_refresh_token');
  });

  it('answers 503 while Redis is down and recovers without a restart', SLOW, async () => {
    const server = await redisServer(true);
    const relay = await relayOn(server.url);
    const pair = await relay.token({ resource: 'bob' });
    expect(await health(relay.url)).toBe(200);

    await server.kill();
    expect(await health(relay.url)).toBe(503);
    const requests = [
      await rest(relay.url, 'POST', { resource: 'bob' }, basic(PROJECT)),
      await put(relay.url, pair.refresh_token),
      await rest(relay.url, 'DELETE', { refresh_token: pair.refresh_token }, basic(PROJECT)),
    ];
    for (const response of requests) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('2');
      expect(errorOf(response.json)).toEqual({
        code: 'service_unavailable',
        message: expect.stringMatching(
          /^The Relay's store is unavailable, so tokens cannot be issued, refreshed or revoked right now\. Try again in a few seconds\./,
        ) as unknown,
      });
    }

    // A socket that cannot be served is told to come back later (1013), not that its token failed.
    const socket = await TestClient.open(relay.wsUrl);
    await expect(
      socket.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token }),
    ).rejects.toMatchObject({ code: 'service_unavailable' });
    expect((await socket.closed).code).toBe(1013);

    await server.restart();
    await until('/healthz to answer 200 again', async () => (await health(relay.url)) === 200);
    // Nothing was lost or half-done during the outage: the refresh token still rotates once.
    const refreshed = await put(relay.url, pair.refresh_token);
    expect(refreshed.status).toBe(200);
    expect((await rest(relay.url, 'POST', { resource: 'bob' }, basic(PROJECT))).status).toBe(201);
  });

  it('shares projects, the secret and families between two Relays on one Redis', SLOW, async () => {
    const server = await redisServer();
    const a = await relayOn(server.url);
    // No projects and no secret given: both come from Redis. Same clock, so A's JWTs are
    // current for B.
    const b = await createRelayServer({
      store: await RedisStore.open(server.url, FAST),
      clock: a.clock,
      limits: { heartbeatIntervalMs: 0 },
    });
    relays.push(b);
    const bUrl = await b.listen({ port: 0 });
    const bWs = `${bUrl.replace(/^http/, 'ws')}/api/relay/ws`;

    const first = await a.token({ resource: 'carol' });
    expect((await connect(bWs, first.jwt_token)).resource).toBe('carol');
    const rotated = await put(bUrl, first.refresh_token);
    expect(rotated.status).toBe(200);
    // Replaying the rotated token on the other node is reuse there too: the family is revoked.
    const replay = await put(a.url, first.refresh_token);
    expect(errorOf(replay.json).code).toBe('refresh_token_reused');
    const failure = await connect(bWs, (rotated.json as Pair).jwt_token).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RpcFailure);
    expect((failure as RpcFailure).code).toBe('token_revoked');
  });
});

describe('relaycall serve --store redis://', () => {
  // The CLI runs from dist/: `npm test` builds before vitest.
  const BIN = fileURLToPath(new URL('../../bin/relaycall.js', import.meta.url));

  function run(args: string[], env: Record<string, string> = {}) {
    const base = { ...process.env };
    delete base.RELAYCALL_PROJECTS;
    delete base.RELAYCALL_SECRET;
    delete base.RELAYCALL_STORE;
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out.stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out.stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    return { child, out, exited };
  }

  it('serves on Redis given by RELAYCALL_STORE, shown without its password', SLOW, async () => {
    const server = await redisServer();
    const cli = run(['serve', '--port', '0', '--project', `${PROJECT.id}:${PROJECT.token}`], {
      RELAYCALL_STORE: server.url,
    });
    try {
      await until('the Relay to listen', async () =>
        /^Signaling socket: /m.test(cli.out.stdout),
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${cli.out.stdout}\n${cli.out.stderr}`);
      });
      const [, url = ''] =
        /^Relay listening on (http:\/\/\S+) \(store: (\S+)\)$/m.exec(cli.out.stdout) ?? [];
      expect(cli.out.stdout).toContain(`(store: ${server.url})`);
      expect((await rest(url, 'POST', { resource: 'dave' }, basic(PROJECT))).status).toBe(201);
    } finally {
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
    }
  });

  it('names the projects already on Redis when restarted without one', SLOW, async () => {
    const server = await redisServer();
    const started = async () => {
      const cli = run(['serve', '--port', '0'], { RELAYCALL_STORE: server.url });
      await until('the Relay to listen', async () =>
        /^Signaling socket: /m.test(cli.out.stdout),
      ).catch((error: unknown) => {
        cli.child.kill('SIGKILL');
        throw new Error(`${String(error)}\n${cli.out.stdout}\n${cli.out.stderr}`);
      });
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      return cli.out.stdout;
    };
    const [, id = '', token = ''] =
      /^Created project "([^"]+)" with token "([^"]+)"\.$/m.exec(await started()) ?? [];
    expect(id).not.toBe('');

    const again = await started();
    expect(again).toContain(`Projects in the store: ${id}. `);
    expect(again).toContain('restart with --project ID:NEWTOKEN');
    expect(again).not.toContain(token);
  });

  it('exits 1 with what to do when Redis does not answer', SLOW, async () => {
    const server = await redisServer();
    await server.kill();
    const cli = run([
      'serve',
      '--port',
      '0',
      '--store',
      `redis://:pw-secret@127.0.0.1:${server.port}/0`,
    ]);
    expect(await cli.exited).toBe(1);
    expect(cli.out.stderr).toMatch(
      /^Cannot connect to the Redis store at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: .*ECONNREFUSED.*Start Redis or fix the URL/m,
    );
    expect(cli.out.stderr + cli.out.stdout).not.toContain('pw-secret');
  });
});
