import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import {
  ErrorCodes,
  MIN_SECRET_BYTES,
  RelayError,
  RelayHttpError,
  isScope,
  normalizeIdentity,
  resourceProblem,
  type RelayLimits,
  type Scope,
} from '../protocol/index.js';
import type { Clock } from './clock.js';
import { digestsEqual, hashProjectToken, randomToken, sha256Hex } from './crypto.js';
import type { FamilyRecord, ProjectRecord, RelayStore } from './store/RelayStore.js';

export interface TokenPair {
  jwtToken: string;
  refreshToken: string;
}

/** What a verified JWT grants. */
export interface VerifiedToken {
  projectId: string;
  resource: string;
  scopes: Scope[];
  familyId: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface IssueRequest {
  resource: string;
  expiresInMinutes: number;
  scopes: Scope[];
}

const ALGORITHM = 'HS512';
// Compared against when the project is unknown, so a miss costs what a hit does.
const DUMMY_SALT = randomBytes(16).toString('hex');
const DUMMY_HASH = hashProjectToken(DUMMY_SALT, randomToken());

/** Refuses a signing secret too short for HS512 (RFC 7518 §3.2). */
export function assertSecretStrength(secret: string): Uint8Array<ArrayBuffer> {
  const key = new TextEncoder().encode(secret);
  if (key.byteLength < MIN_SECRET_BYTES) {
    throw new RelayError(
      ErrorCodes.badRequest,
      `The JWT signing secret is ${key.byteLength} bytes; HS512 needs at least ${MIN_SECRET_BYTES} bytes. ` +
        'Generate one with `openssl rand -base64 64` and set RELAYCALL_SECRET to it.',
    );
  }
  return key;
}

/** A new random signing secret (64 bytes of entropy). */
export function generateSecret(): string {
  return randomToken(64);
}

/** Issues, rotates, revokes and verifies the Relay's tokens. */
export class TokenService {
  /**
   * Imported once: given raw bytes, jose imports a key for every sign and verify, and
   * those per-connect allocations were most of the Relay's memory per session.
   */
  private readonly key: Promise<CryptoKey>;

  constructor(
    private readonly store: RelayStore,
    secret: string,
    private readonly clock: Clock,
    private readonly limits: RelayLimits,
    private readonly issuer: string,
    /** Called after a family was revoked, so its live sessions can be closed. */
    private readonly onRevoke: (familyId: string, reason: string) => void,
  ) {
    this.key = crypto.subtle.importKey(
      'raw',
      assertSecretStrength(secret),
      { name: 'HMAC', hash: 'SHA-512' },
      false,
      ['sign', 'verify'],
    );
  }

  /** Stores a project with its token hashed. `id` is stored in NFC. */
  async putProject(id: string, token: string): Promise<void> {
    const salt = randomBytes(16).toString('hex');
    await this.store.putProject({
      id: normalizeIdentity(id),
      salt,
      tokenHash: hashProjectToken(salt, token),
      createdAt: this.clock.now(),
    });
  }

  /** The project when `token` is its token, compared in constant time; otherwise undefined. */
  async authenticateProject(id: string, token: string): Promise<ProjectRecord | undefined> {
    const project = resourceProblem(id, this.limits.maxProjectIdLength)
      ? undefined
      : await this.store.getProject(normalizeIdentity(id));
    const salt = project?.salt ?? DUMMY_SALT;
    const expected = project?.tokenHash ?? DUMMY_HASH;
    const matches = digestsEqual(hashProjectToken(salt, token), expected);
    return matches && project ? project : undefined;
  }

  /**
   * Starts a new refresh family and returns its first pair. The resource is checked (see
   * `resourceProblem`) and stored in NFC, the one spelling every later refresh and call uses.
   */
  async issue(projectId: string, request: IssueRequest): Promise<TokenPair> {
    const problem = resourceProblem(request.resource, this.limits.maxResourceLength);
    if (problem) throw new RelayHttpError(400, ErrorCodes.badRequest, `"resource" ${problem}.`);
    const now = this.clock.now();
    const family: FamilyRecord = {
      id: randomUUID(),
      projectId,
      resource: normalizeIdentity(request.resource),
      scopes: [...request.scopes],
      expiresInMinutes: request.expiresInMinutes,
      createdAt: now,
      revokedAt: null,
      revokedReason: null,
    };
    const refreshToken = randomToken(32);
    await this.store.createFamily(family, {
      hash: sha256Hex(refreshToken),
      familyId: family.id,
      createdAt: now,
      expiresAt: now + this.limits.refreshTokenTtlMs,
      rotatedAt: null,
    });
    return { jwtToken: await this.sign(family), refreshToken };
  }

  /**
   * Exchanges a refresh token for a new pair of the same family. A token that
   * was already exchanged is treated as stolen: its whole family is revoked.
   */
  async refresh(projectId: string, refreshToken: string): Promise<TokenPair> {
    const hash = sha256Hex(refreshToken);
    const family = await this.ownedFamily(projectId, hash);
    const now = this.clock.now();
    const next = randomToken(32);
    const outcome = await this.store.rotateRefreshToken(
      hash,
      {
        hash: sha256Hex(next),
        familyId: family.id,
        createdAt: now,
        expiresAt: now + this.limits.refreshTokenTtlMs,
        rotatedAt: null,
      },
      now,
    );
    if (outcome.status === 'rotated')
      return { jwtToken: await this.sign(outcome.family), refreshToken: next };
    if (outcome.status === 'reused') {
      await this.revokeFamily(outcome.family.id, 'reuse');
      throw new RelayHttpError(
        400,
        ErrorCodes.refreshTokenReused,
        'This refresh token was already used, so its token family has been revoked as a precaution. ' +
          'Sign the user in again to get a new token pair.',
      );
    }
    throw invalidRefreshToken();
  }

  /** Revokes the family of a refresh token (logout). */
  async revoke(projectId: string, refreshToken: string): Promise<void> {
    const family = await this.ownedFamily(projectId, sha256Hex(refreshToken));
    if (family.revokedAt === null) await this.revokeFamily(family.id, 'logout');
  }

  async revokeFamily(familyId: string, reason: string): Promise<void> {
    if (await this.store.revokeFamily(familyId, this.clock.now(), reason)) {
      this.onRevoke(familyId, reason);
    }
  }

  /** Verifies a JWT for `projectId`; throws a RelayError with auth_failed, token_expired or token_revoked. */
  async verify(projectId: string, token: string): Promise<VerifiedToken> {
    const claims = await this.verifySignature(token);
    if (claims.sub !== projectId) {
      throw new RelayError(
        ErrorCodes.authFailed,
        'The token was issued for another project. Connect with the project id the token was issued for.',
      );
    }
    const family = await this.store.getFamily(claims.fam);
    if (!family || family.revokedAt !== null || family.projectId !== projectId) {
      throw new RelayError(
        ErrorCodes.tokenRevoked,
        'The token has been revoked (logout or refresh-token reuse). Fetch a new token from your back end.',
      );
    }
    return {
      projectId,
      resource: claims.resource,
      scopes: claims.scopes,
      familyId: claims.fam,
      expiresAt: claims.exp * 1000,
    };
  }

  private async verifySignature(token: string) {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await this.key, {
        algorithms: [ALGORITHM],
        issuer: this.issuer,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['sub', 'iat', 'exp', 'jti', 'resource', 'scopes', 'fam'],
      }));
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_JWT_EXPIRED') {
        throw new RelayError(
          ErrorCodes.tokenExpired,
          'The token has expired. Fetch a fresh token from your back end and connect again.',
        );
      }
      throw new RelayError(
        ErrorCodes.authFailed,
        'The token is not a valid Relay JWT for this server. Fetch a new token from your back end.',
        { cause: error },
      );
    }
    const { sub, resource, scopes, fam, exp } = payload;
    if (
      typeof sub !== 'string' ||
      typeof resource !== 'string' ||
      typeof fam !== 'string' ||
      typeof exp !== 'number' ||
      !Array.isArray(scopes) ||
      !scopes.every(isScope)
    ) {
      throw new RelayError(
        ErrorCodes.authFailed,
        'The token carries malformed claims. Fetch a new token from your back end.',
      );
    }
    return { sub, resource, scopes, fam, exp };
  }

  private async ownedFamily(projectId: string, hash: string): Promise<FamilyRecord> {
    const record = await this.store.getRefreshToken(hash);
    const family = record && (await this.store.getFamily(record.familyId));
    // A token of another project is answered exactly like an unknown one.
    if (!family || family.projectId !== projectId) throw invalidRefreshToken();
    return family;
  }

  private async sign(family: FamilyRecord): Promise<string> {
    const iat = Math.floor(this.clock.now() / 1000);
    return new SignJWT({ resource: family.resource, scopes: family.scopes, fam: family.id })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(family.projectId)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + family.expiresInMinutes * 60)
      .setJti(randomUUID())
      .sign(await this.key);
  }
}

function invalidRefreshToken(): RelayHttpError {
  return new RelayHttpError(
    400,
    ErrorCodes.invalidRefreshToken,
    'The refresh token is unknown, expired or revoked. Request a new token pair with POST.',
  );
}
