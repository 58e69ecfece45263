import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { isScope, type Scope } from '../../protocol/index.js';
import { settle } from './settle.js';
import { optionalPeerError, type OptionalPeer } from './optionalPeerError.js';
import type {
  FamilyRecord,
  ProjectRecord,
  RefreshTokenRecord,
  RelayStore,
  RotateOutcome,
} from './RelayStore.js';

/** The schema this code writes; stored in `PRAGMA user_version`. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS projects (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  salt TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS families (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  resource TEXT NOT NULL,
  scopes TEXT NOT NULL,
  expires_in_minutes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoked_reason TEXT
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  hash TEXT PRIMARY KEY,
  family_id TEXT NOT NULL REFERENCES families (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  rotated_at INTEGER
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at ON refresh_tokens (expires_at);
`;

const BUSY_TIMEOUT_MS = 5000;
const SECRET_NAME = 'jwt';

const PROJECT_COLUMNS = 'id, token_hash AS tokenHash, salt, created_at AS createdAt';
const TOKEN_COLUMNS =
  'hash, family_id AS familyId, created_at AS createdAt, expires_at AS expiresAt, ' +
  'rotated_at AS rotatedAt';

/** A family as selected: scopes still JSON text. */
type FamilyRow = Omit<FamilyRecord, 'scopes'> & { scopes: string };
const FAMILY_COLUMNS =
  'id, project_id AS projectId, resource, scopes, expires_in_minutes AS expiresInMinutes, ' +
  'created_at AS createdAt, revoked_at AS revokedAt, revoked_reason AS revokedReason';

const toFamily = (row: FamilyRow): FamilyRecord => ({
  ...row,
  scopes: parseScopes(row.scopes, row.id),
});

function parseScopes(json: string, familyId: string): Scope[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) throw new Error(`Family ${familyId} has corrupt scopes: ${json}`);
  // Dropping a scope this version does not know only ever narrows a grant.
  return value.filter(isScope);
}

/**
 * A {@link RelayStore} in a SQLite file, via the optional better-sqlite3 peer
 * dependency. A restarted server reopening the same file keeps its projects,
 * signing secret and refresh families. Create one with {@link SqliteStore.open}.
 */
export class SqliteStore implements RelayStore {
  private readonly stmt;
  private readonly rotateTx;
  private readonly secretTx;
  private readonly createFamilyTx;
  private readonly purgeTx;

  private constructor(private readonly db: Database.Database) {
    // Records bind by name straight into the statements (extra keys are ignored),
    // and the SELECTs alias columns so rows come back as records.
    this.stmt = {
      ping: db.prepare('SELECT 1'),
      getProject: db.prepare<[string], ProjectRecord>(
        `SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = ?`,
      ),
      listProjects: db.prepare<[], ProjectRecord>(
        `SELECT ${PROJECT_COLUMNS} FROM projects ORDER BY created_at, id`,
      ),
      // An upsert, not INSERT OR REPLACE: REPLACE deletes the row first.
      putProject: db.prepare<ProjectRecord>(
        `INSERT INTO projects (id, token_hash, salt, created_at)
         VALUES (@id, @tokenHash, @salt, @createdAt)
         ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash,
           salt = excluded.salt, created_at = excluded.created_at`,
      ),
      getSecret: db.prepare<[string], string>('SELECT value FROM secrets WHERE name = ?').pluck(),
      putSecret: db.prepare<[string, string]>('INSERT INTO secrets (name, value) VALUES (?, ?)'),
      getFamily: db.prepare<[string], FamilyRow>(
        `SELECT ${FAMILY_COLUMNS} FROM families WHERE id = ?`,
      ),
      insertFamily: db.prepare<FamilyRow>(
        `INSERT INTO families (id, project_id, resource, scopes, expires_in_minutes, created_at,
           revoked_at, revoked_reason)
         VALUES (@id, @projectId, @resource, @scopes, @expiresInMinutes, @createdAt,
           @revokedAt, @revokedReason)`,
      ),
      revokeFamily: db.prepare<[number, string, string]>(
        `UPDATE families SET revoked_at = ?, revoked_reason = ?
         WHERE id = ? AND revoked_at IS NULL`,
      ),
      getToken: db.prepare<[string], RefreshTokenRecord>(
        `SELECT ${TOKEN_COLUMNS} FROM refresh_tokens WHERE hash = ?`,
      ),
      insertToken: db.prepare<RefreshTokenRecord>(
        `INSERT INTO refresh_tokens (hash, family_id, created_at, expires_at, rotated_at)
         VALUES (@hash, @familyId, @createdAt, @expiresAt, @rotatedAt)`,
      ),
      markRotated: db.prepare<[number, string]>(
        'UPDATE refresh_tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL',
      ),
      purgeTokens: db.prepare<[number]>('DELETE FROM refresh_tokens WHERE expires_at <= ?'),
      purgeFamilies: db.prepare(
        `DELETE FROM families
         WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = families.id)`,
      ),
    };

    // better-sqlite3 transactions are synchronous, so no other call interleaves
    // inside this process; IMMEDIATE (below) takes the write lock up front so
    // another process cannot slip in between the read and the write either.
    this.rotateTx = db.transaction(
      (oldHash: string, next: RefreshTokenRecord, now: number): RotateOutcome => {
        const old = this.stmt.getToken.get(oldHash);
        if (!old || old.expiresAt <= now) return { status: 'invalid' };
        const family = this.stmt.getFamily.get(old.familyId);
        if (!family || family.revokedAt !== null) return { status: 'invalid' };
        if (old.rotatedAt !== null) return { status: 'reused', family: toFamily(family) };
        if (next.familyId !== old.familyId) {
          throw new Error(
            `New refresh token belongs to family ${next.familyId}, not ${old.familyId}`,
          );
        }
        this.stmt.markRotated.run(now, oldHash);
        this.stmt.insertToken.run(next);
        return { status: 'rotated', family: toFamily(family) };
      },
    );
    this.secretTx = db.transaction((create: () => string): string => {
      const existing = this.stmt.getSecret.get(SECRET_NAME);
      if (existing !== undefined) return existing;
      const secret = create();
      this.stmt.putSecret.run(SECRET_NAME, secret);
      return secret;
    });
    this.createFamilyTx = db.transaction((family: FamilyRecord, token: RefreshTokenRecord) => {
      if (token.familyId !== family.id) {
        throw new Error(`Refresh token belongs to family ${token.familyId}, not ${family.id}`);
      }
      this.stmt.insertFamily.run({ ...family, scopes: JSON.stringify(family.scopes) });
      this.stmt.insertToken.run(token);
    });
    this.purgeTx = db.transaction(
      (now: number): number =>
        this.stmt.purgeTokens.run(now).changes + this.stmt.purgeFamilies.run().changes,
    );
  }

  /**
   * Open (creating if needed) the database at `path`; `':memory:'` gives a
   * throwaway one. Rejects with an explanatory error when better-sqlite3 is missing.
   */
  static async open(path: string): Promise<SqliteStore> {
    let Driver: typeof Database;
    try {
      Driver = (await import('better-sqlite3')).default;
    } catch (error) {
      throw optionalPeerError(error, SQLITE_PEER);
    }
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });

    let db: Database.Database;
    try {
      db = new Driver(path, { timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`Cannot open the SQLite store at ${path}: ${message}`, { cause: error });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('foreign_keys = ON');
      migrate(db, path);
      return new SqliteStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  getProject(id: string): Promise<ProjectRecord | undefined> {
    return settle(() => this.stmt.getProject.get(id));
  }

  putProject(project: ProjectRecord): Promise<void> {
    return settle(() => {
      this.stmt.putProject.run(project);
    });
  }

  listProjects(): Promise<ProjectRecord[]> {
    return settle(() => this.stmt.listProjects.all());
  }

  getOrCreateSecret(create: () => string): Promise<string> {
    return settle(() => this.secretTx.immediate(create));
  }

  createFamily(family: FamilyRecord, token: RefreshTokenRecord): Promise<void> {
    return settle(() => {
      this.createFamilyTx.immediate(family, token);
    });
  }

  getFamily(id: string): Promise<FamilyRecord | undefined> {
    return settle(() => {
      const row = this.stmt.getFamily.get(id);
      return row && toFamily(row);
    });
  }

  revokeFamily(id: string, at: number, reason: string): Promise<boolean> {
    return settle(() => this.stmt.revokeFamily.run(at, reason, id).changes === 1);
  }

  getRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined> {
    return settle(() => this.stmt.getToken.get(hash));
  }

  rotateRefreshToken(
    oldHash: string,
    next: RefreshTokenRecord,
    now: number,
  ): Promise<RotateOutcome> {
    return settle(() => this.rotateTx.immediate(oldHash, next, now));
  }

  purgeExpired(now: number): Promise<number> {
    return settle(() => this.purgeTx.immediate(now));
  }

  ping(): Promise<void> {
    return settle(() => {
      this.stmt.ping.get();
    });
  }

  /**
   * Copies the database to `destination` (a new file) while the Relay keeps using it: SQLite's
   * online backup, consistent as of the moment it finishes. Restore by starting the Relay on
   * the copy. Rejects when `destination` exists, rather than overwriting it.
   */
  async backup(destination: string): Promise<void> {
    if (existsSync(destination)) {
      throw new Error(
        `${destination} exists. Back up to a new file; move or delete the old one first.`,
      );
    }
    await this.db.backup(destination);
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.db.open) this.db.close();
    });
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true });
  if (typeof version !== 'number' || version > SCHEMA_VERSION) {
    throw new Error(
      `The SQLite store at ${path} has schema version ${String(version)}, newer than this ` +
        `relaycall supports (${SCHEMA_VERSION}). Upgrade relaycall or use another file.`,
    );
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

const SQLITE_PEER: OptionalPeer = {
  feature: 'The SQLite store',
  pkg: 'better-sqlite3',
  major: 12,
  instead: 'use --store memory',
};
