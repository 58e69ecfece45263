import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, createRelayServer, type RelayServer } from 'relaycall/server';
import {
  ManualClock,
  PROJECT,
  RpcFailure,
  TestClient,
  basic,
  connectWith,
  rest,
  startRelay,
  type Pair,
} from './helpers.js';

const tempDirs: string[] = [];
const relays: RelayServer[] = [];
const sockets: TestClient[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'relaycall-persist-'));
  tempDirs.push(dir);
  return join(dir, 'relay.sqlite');
}

/** A relay on `store` with neither projects nor secret: everything must come from the store. */
async function restart(store: SqliteStore, clock: ManualClock) {
  const relay = await createRelayServer({ store, clock, limits: { heartbeatIntervalMs: 0 } });
  relays.push(relay);
  const url = await relay.listen({ port: 0 });
  return { relay, url, wsUrl: `${url.replace(/^http/, 'ws')}/api/relay/ws` };
}

async function connect(wsUrl: string, token: string) {
  const { client, result } = await connectWith(wsUrl, { project: PROJECT.id, token });
  sockets.push(client);
  return result;
}

const put = (url: string, refreshToken: string) =>
  rest(url, 'PUT', { refresh_token: refreshToken }, basic(PROJECT));

const errorCode = (json: unknown) => (json as { error?: { code?: unknown } }).error?.code;

describe('a SQLite-backed relay restarted on the same file', () => {
  it('keeps projects, the signing secret and refresh families', async () => {
    const file = tempFile();
    const store = await SqliteStore.open(file);
    const first = await startRelay({ store });
    relays.push(first.relay);
    const original = await first.token({ resource: 'alice' });
    const rotatedBefore = (await put(first.url, original.refresh_token)).json as Pair;
    await first.close();
    // close() closed the store too.
    await expect(store.ping()).rejects.toThrow();

    const clock = new ManualClock(first.clock.now());
    const second = await restart(await SqliteStore.open(file), clock);

    // The project, stored hashed, still authenticates, and only with its token.
    expect((await rest(second.url, 'POST', undefined, basic(PROJECT))).status).toBe(201);
    const wrong = basic({ id: PROJECT.id, token: 'wrong-token-0123456789abcdef' });
    expect((await rest(second.url, 'POST', undefined, wrong)).status).toBe(401);

    // JWTs signed before the restart still verify: the secret persisted.
    expect((await connect(second.wsUrl, original.jwt_token)).resource).toBe('alice');
    expect((await connect(second.wsUrl, rotatedBefore.jwt_token)).resource).toBe('alice');

    // The family survived: its current refresh token rotates.
    const refreshed = await put(second.url, rotatedBefore.refresh_token);
    expect(refreshed.status).toBe(200);
    const newest = refreshed.json as Pair;

    // And the token rotated before the restart still counts as used.
    const reused = await put(second.url, original.refresh_token);
    expect(reused.status).toBe(400);
    expect(errorCode(reused.json)).toBe('refresh_token_reused');
    expect(errorCode((await put(second.url, newest.refresh_token)).json)).toBe(
      'invalid_refresh_token',
    );
    const failure = await connect(second.wsUrl, newest.jwt_token).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RpcFailure);
    expect((failure as RpcFailure).code).toBe('token_revoked');
  });

  it('keeps a revocation across a restart', async () => {
    const file = tempFile();
    const first = await startRelay({ store: await SqliteStore.open(file) });
    relays.push(first.relay);
    const pair = await first.token({ resource: 'bob' });
    const revoked = await rest(
      first.url,
      'DELETE',
      { refresh_token: pair.refresh_token },
      basic(PROJECT),
    );
    expect(revoked.status).toBe(204);
    await first.close();

    const second = await restart(await SqliteStore.open(file), new ManualClock(first.clock.now()));
    expect(errorCode((await put(second.url, pair.refresh_token)).json)).toBe(
      'invalid_refresh_token',
    );
    const client = await TestClient.open(second.wsUrl);
    sockets.push(client);
    await expect(
      client.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token }),
    ).rejects.toMatchObject({ code: 'token_revoked' });
    expect((await client.closed).code).toBe(4005);
  });

  it('rejects JWTs signed with another secret after a restart with a new secret', async () => {
    const file = tempFile();
    const first = await startRelay({ store: await SqliteStore.open(file), secret: 'a'.repeat(64) });
    relays.push(first.relay);
    const pair = await first.token({ resource: 'carol' });
    await first.close();

    const relay = await createRelayServer({
      store: await SqliteStore.open(file),
      secret: 'b'.repeat(64),
      clock: new ManualClock(first.clock.now()),
      limits: { heartbeatIntervalMs: 0 },
    });
    relays.push(relay);
    const url = await relay.listen({ port: 0 });
    const failure = await connect(
      `${url.replace(/^http/, 'ws')}/api/relay/ws`,
      pair.jwt_token,
    ).catch((error: unknown) => error);
    expect((failure as RpcFailure).code).toBe('auth_failed');
  });
});

describe('the signing secret', () => {
  it('must be at least 64 bytes, counted in UTF-8', async () => {
    const error = await createRelayServer({ secret: 'x'.repeat(63) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/at least 64 bytes/);
    // 31 two-byte characters are 62 bytes; 32 are enough.
    await expect(createRelayServer({ secret: 'é'.repeat(31) })).rejects.toThrow(/64 bytes/);
    relays.push(await createRelayServer({ secret: 'é'.repeat(32) }));
    relays.push(await createRelayServer({ secret: 'x'.repeat(64) }));
  });
});
