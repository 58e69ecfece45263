import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../src/server/store/MemoryStore.js';
import type { RelayStore } from '../../src/server/store/RelayStore.js';
import { RedisStore } from '../../src/server/store/RedisStore.js';
import { SqliteStore } from '../../src/server/store/SqliteStore.js';
import { startRedisServer, type RedisServer } from './redisServer.js';
import { HOUR, T0, family, project, token } from './storeRecords.js';

interface Variant {
  name: string;
  /** A fresh, empty store; `reopen` opens another store on the same data, when durable. */
  make(): Promise<{ store: RelayStore; reopen?: () => Promise<RelayStore> }>;
}

const tempDirs: string[] = [];
const openStores: RelayStore[] = [];

afterEach(async () => {
  await Promise.all(openStores.splice(0).map((s) => s.close()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** One redis-server for the file, started by the first Redis test; a key prefix per store. */
let redis: Promise<RedisServer> | undefined;
let redisPrefixes = 0;

afterAll(async () => {
  if (redis) await (await redis).stop();
});

function track<S extends RelayStore>(store: S): S {
  openStores.push(store);
  return store;
}

const variants: Variant[] = [
  { name: 'MemoryStore', make: async () => ({ store: track(new MemoryStore()) }) },
  {
    name: 'SqliteStore',
    make: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'relaycall-store-'));
      tempDirs.push(dir);
      const path = join(dir, 'nested', 'relay.sqlite');
      return {
        store: track(await SqliteStore.open(path)),
        reopen: async () => track(await SqliteStore.open(path)),
      };
    },
  },
  {
    name: 'RedisStore',
    make: async () => {
      redis ??= startRedisServer();
      const { url } = await redis;
      const keyPrefix = `relaycall-test-${++redisPrefixes}:`;
      return {
        store: track(await RedisStore.open(url, { keyPrefix })),
        reopen: async () => track(await RedisStore.open(url, { keyPrefix })),
      };
    },
  },
];

describe.each(variants)('$name', ({ make }) => {
  const fresh = async () => (await make()).store;

  /** A store holding family f1 (project p1) with current token t1. */
  const withFamily = async () => {
    const store = await fresh();
    await store.createFamily(family('f1'), token('t1', 'f1'));
    return store;
  };

  it('puts, gets, lists and replaces projects', async () => {
    const store = await fresh();
    expect(await store.getProject('p1')).toBeUndefined();
    expect(await store.listProjects()).toEqual([]);
    await store.putProject(project('p1'));
    await store.putProject(project('p2', { createdAt: T0 + 1 }));
    expect(await store.getProject('p1')).toEqual(project('p1'));
    await store.putProject(project('p1', { tokenHash: 'new-hash', salt: 'new-salt' }));
    expect(await store.getProject('p1')).toEqual(
      project('p1', { tokenHash: 'new-hash', salt: 'new-salt' }),
    );
    const list = await store.listProjects();
    expect(list).toHaveLength(2);
    expect(list.map((p) => p.id).sort()).toEqual(['p1', 'p2']);
  });

  it('lists projects oldest first, then by id (what `relaycall serve` prints)', async () => {
    const store = await fresh();
    await store.putProject(project('late', { createdAt: T0 + 2 }));
    await store.putProject(project('b', { createdAt: T0 + 1 }));
    await store.putProject(project('a', { createdAt: T0 + 1 }));
    await store.putProject(project('first', { createdAt: T0 }));
    // Replacing a project leaves one entry for it, placed by its record.
    await store.putProject(project('b', { createdAt: T0 + 1, tokenHash: 'rotated' }));
    expect(await store.listProjects()).toEqual([
      project('first', { createdAt: T0 }),
      project('a', { createdAt: T0 + 1 }),
      project('b', { createdAt: T0 + 1, tokenHash: 'rotated' }),
      project('late', { createdAt: T0 + 2 }),
    ]);
  });

  it('returns copies of its records', async () => {
    const store = await withFamily();
    const p = project('p1');
    await store.putProject(p);
    p.tokenHash = 'mutated-input';
    const got = await store.getProject('p1');
    got!.tokenHash = 'mutated-output';
    (await store.listProjects())[0]!.salt = 'mutated-list';
    expect(await store.getProject('p1')).toEqual(project('p1'));

    const f = await store.getFamily('f1');
    f!.scopes.pop();
    f!.revokedAt = 1;
    expect(await store.getFamily('f1')).toEqual(family('f1'));

    const t = await store.getRefreshToken('t1');
    t!.rotatedAt = 1;
    expect(await store.getRefreshToken('t1')).toEqual(token('t1', 'f1'));
  });

  it('creates the secret once and returns it afterwards', async () => {
    const store = await fresh();
    const create = vi.fn(() => 'secret-1');
    expect(await store.getOrCreateSecret(create)).toBe('secret-1');
    const again = vi.fn(() => 'secret-2');
    expect(await store.getOrCreateSecret(again)).toBe('secret-1');
    expect(create).toHaveBeenCalledTimes(1);
    expect(again).not.toHaveBeenCalled();
  });

  it('stores a family with its first refresh token', async () => {
    const store = await withFamily();
    expect(await store.getFamily('f1')).toEqual(family('f1'));
    expect(await store.getRefreshToken('t1')).toEqual(token('t1', 'f1'));
    expect(await store.getFamily('nope')).toBeUndefined();
    expect(await store.getRefreshToken('nope')).toBeUndefined();
  });

  it('refuses a duplicate family or a token of another family', async () => {
    const store = await withFamily();
    await expect(store.createFamily(family('f1'), token('t9', 'f1'))).rejects.toThrow();
    await expect(store.createFamily(family('f2'), token('t2', 'f1'))).rejects.toThrow();
    expect(await store.getFamily('f2')).toBeUndefined();
    expect(await store.getRefreshToken('t9')).toBeUndefined();
    expect(await store.getRefreshToken('t2')).toBeUndefined();
  });

  it('rotates a current token', async () => {
    const store = await withFamily();
    const now = T0 + 1000;
    const outcome = await store.rotateRefreshToken('t1', token('t2', 'f1', now + HOUR), now);
    expect(outcome).toEqual({ status: 'rotated', family: family('f1') });
    expect((await store.getRefreshToken('t1'))?.rotatedAt).toBe(now);
    expect(await store.getRefreshToken('t2')).toEqual(token('t2', 'f1', now + HOUR));
  });

  it('reports reuse of a rotated token and stores nothing', async () => {
    const store = await withFamily();
    await store.rotateRefreshToken('t1', token('t2', 'f1'), T0 + 1);
    const outcome = await store.rotateRefreshToken('t1', token('t3', 'f1'), T0 + 2);
    expect(outcome).toEqual({ status: 'reused', family: family('f1') });
    expect(await store.getRefreshToken('t3')).toBeUndefined();
    expect((await store.getRefreshToken('t1'))?.rotatedAt).toBe(T0 + 1);
  });

  it('rejects unknown, expired and revoked-family tokens', async () => {
    const store = await withFamily();
    await store.createFamily(family('f2'), token('short', 'f2', T0 + 10));
    expect(await store.rotateRefreshToken('nope', token('n1', 'f1'), T0)).toEqual({
      status: 'invalid',
    });
    expect(await store.rotateRefreshToken('short', token('n2', 'f2'), T0 + 10)).toEqual({
      status: 'invalid',
    });
    await store.revokeFamily('f1', T0, 'logout');
    expect(await store.rotateRefreshToken('t1', token('n3', 'f1'), T0 + 1)).toEqual({
      status: 'invalid',
    });
    for (const hash of ['n1', 'n2', 'n3']) {
      expect(await store.getRefreshToken(hash)).toBeUndefined();
    }
    expect((await store.getRefreshToken('t1'))?.rotatedAt).toBeNull();
  });

  it('revokes a family once', async () => {
    const store = await withFamily();
    expect(await store.revokeFamily('f1', T0 + 5, 'reuse')).toBe(true);
    expect(await store.revokeFamily('f1', T0 + 6, 'logout')).toBe(false);
    expect(await store.revokeFamily('nope', T0, 'logout')).toBe(false);
    expect(await store.getFamily('f1')).toEqual(
      family('f1', { revokedAt: T0 + 5, revokedReason: 'reuse' }),
    );
  });

  it('lets exactly one of two concurrent rotations win', async () => {
    const store = await withFamily();
    const outcomes = await Promise.all([
      store.rotateRefreshToken('t1', token('a', 'f1'), T0 + 1),
      store.rotateRefreshToken('t1', token('b', 'f1'), T0 + 1),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['reused', 'rotated']);
    const stored = [await store.getRefreshToken('a'), await store.getRefreshToken('b')];
    expect(stored.filter(Boolean)).toHaveLength(1);
  });

  it('purges expired tokens and emptied families, keeping live ones', async () => {
    const store = await withFamily();
    await store.createFamily(family('f2'), token('old', 'f2', T0 + 10));
    await store.createFamily(family('f3'), token('f3-old', 'f3', T0 + 10));
    await store.rotateRefreshToken('f3-old', token('f3-new', 'f3', T0 + HOUR), T0 + 5);

    // Expired: 'old' (family f2 goes with it) and 'f3-old'; f1 and f3 stay.
    expect(await store.purgeExpired(T0 + 10)).toBe(3);
    expect(await store.getRefreshToken('old')).toBeUndefined();
    expect(await store.getFamily('f2')).toBeUndefined();
    expect(await store.getRefreshToken('f3-old')).toBeUndefined();
    expect(await store.getRefreshToken('f3-new')).toBeDefined();
    expect(await store.getFamily('f3')).toBeDefined();
    expect(await store.getRefreshToken('t1')).toEqual(token('t1', 'f1'));
    expect(await store.getFamily('f1')).toEqual(family('f1'));
    expect(await store.purgeExpired(T0 + 10)).toBe(0);
  });

  it('pings while open and rejects once closed', async () => {
    const store = await fresh();
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toThrow();
  });
});

describe.each(variants.filter((v) => v.name !== 'MemoryStore'))('$name, durable', ({ make }) => {
  it('keeps everything across close and reopen', async () => {
    const { store, reopen } = await make();
    await store.putProject(project('p1'));
    const secret = await store.getOrCreateSecret(() => 'the-secret');
    await store.createFamily(family('f1'), token('t1', 'f1'));
    await store.rotateRefreshToken('t1', token('t2', 'f1'), T0 + 1);
    await store.createFamily(family('f2', { scopes: ['calls:receive'] }), token('u1', 'f2'));
    await store.revokeFamily('f2', T0 + 2, 'logout');
    await store.close();

    const again = await reopen!();
    expect(await again.listProjects()).toEqual([project('p1')]);
    expect(await again.getOrCreateSecret(() => 'other')).toBe(secret);
    expect(await again.getFamily('f1')).toEqual(family('f1'));
    expect((await again.getRefreshToken('t1'))?.rotatedAt).toBe(T0 + 1);
    expect(await again.getRefreshToken('t2')).toEqual(token('t2', 'f1'));
    expect(await again.getFamily('f2')).toEqual(
      family('f2', { scopes: ['calls:receive'], revokedAt: T0 + 2, revokedReason: 'logout' }),
    );
    expect(await again.rotateRefreshToken('t1', token('t3', 'f1'), T0 + 3)).toMatchObject({
      status: 'reused',
    });
  });
});

describe('SqliteStore only', () => {
  it('creates the parent directory and works in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relaycall-store-'));
    tempDirs.push(dir);
    const path = join(dir, 'a', 'b', 'relay.sqlite');
    track(await SqliteStore.open(path));
    expect(existsSync(path)).toBe(true);

    const mem = track(await SqliteStore.open(':memory:'));
    await mem.putProject(project('p1'));
    expect(await mem.getProject('p1')).toEqual(project('p1'));
  });

  it('explains what to do when better-sqlite3 is missing', async () => {
    vi.doMock('better-sqlite3', () => {
      throw Object.assign(new Error("Cannot find package 'better-sqlite3'"), {
        code: 'ERR_MODULE_NOT_FOUND',
      });
    });
    try {
      await expect(SqliteStore.open(':memory:')).rejects.toThrow(
        /needs the better-sqlite3 package.*npm install better-sqlite3@12.*--store memory/,
      );
    } finally {
      vi.doUnmock('better-sqlite3');
    }
  });
});
