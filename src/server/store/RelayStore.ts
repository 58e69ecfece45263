import type { Scope } from '../../protocol/index.js';

/** A project: the credentials an app back end uses on the REST API. */
export interface ProjectRecord {
  id: string;
  /** Hex SHA-256 of `salt || token`; the token itself is never stored. */
  tokenHash: string;
  /** Hex random salt, per project. */
  salt: string;
  /** ms since the epoch. */
  createdAt: number;
}

/** A refresh family: every token pair descended from one `POST /jwt`. */
export interface FamilyRecord {
  id: string;
  projectId: string;
  resource: string;
  scopes: Scope[];
  /** JWT lifetime of the family, in minutes (kept across refreshes). */
  expiresInMinutes: number;
  /** ms since the epoch. */
  createdAt: number;
  /** ms since the epoch, or null while the family is live. */
  revokedAt: number | null;
  /** Why it was revoked ('logout', 'reuse', ...), or null. */
  revokedReason: string | null;
}

/** One refresh token of a family; only its SHA-256 is stored. */
export interface RefreshTokenRecord {
  /** Hex SHA-256 of the opaque refresh token. */
  hash: string;
  familyId: string;
  /** ms since the epoch. */
  createdAt: number;
  /** ms since the epoch. */
  expiresAt: number;
  /** ms since the epoch when it was exchanged for a new pair, or null while current. */
  rotatedAt: number | null;
}

export type RotateOutcome =
  /** The old token was current; it is now rotated and the new one stored. */
  | { status: 'rotated'; family: FamilyRecord }
  /** The old token had been rotated before: a replay. Nothing was stored. */
  | { status: 'reused'; family: FamilyRecord }
  /** Unknown, expired, or its family is revoked. Nothing was stored. */
  | { status: 'invalid' };

/**
 * Durable state of a Relay: projects, the signing secret and refresh families.
 * Every method is async so a networked store (Redis) fits behind it; every
 * multi-step change is atomic, as concurrent refreshes race on it.
 */
export interface RelayStore {
  getProject(id: string): Promise<ProjectRecord | undefined>;
  /** Insert or replace a project. */
  putProject(project: ProjectRecord): Promise<void>;
  /** Every project, oldest first (by `createdAt`, then `id`). Records hold token hashes only. */
  listProjects(): Promise<ProjectRecord[]>;

  /** The stored JWT signing secret, or `create()`'s result stored first (atomically) when none is. */
  getOrCreateSecret(create: () => string): Promise<string>;

  /** Store a new family together with its first refresh token. */
  createFamily(family: FamilyRecord, token: RefreshTokenRecord): Promise<void>;
  getFamily(id: string): Promise<FamilyRecord | undefined>;
  /** Mark a family revoked. Returns false when it was unknown or already revoked. */
  revokeFamily(id: string, at: number, reason: string): Promise<boolean>;

  getRefreshToken(hash: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Exchange refresh token `oldHash` for `next` atomically, at time `now`:
   * rotated when `oldHash` is current, unexpired and its family live;
   * reused when it was already rotated (the caller then revokes the family);
   * invalid otherwise.
   */
  rotateRefreshToken(
    oldHash: string,
    next: RefreshTokenRecord,
    now: number,
  ): Promise<RotateOutcome>;

  /** Delete refresh tokens expired before `now`, and families left without any. Returns how many rows went. */
  purgeExpired(now: number): Promise<number>;
  /** Resolves when the store can serve; rejects otherwise (used by /healthz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
