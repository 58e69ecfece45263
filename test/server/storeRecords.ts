/** Records for store tests: a fixed clock origin and builders with sensible defaults. */
import type { FamilyRecord, ProjectRecord, RefreshTokenRecord } from 'relaycall/server';

export const T0 = 1_700_000_000_000;
export const HOUR = 3_600_000;

export const project = (id: string, over: Partial<ProjectRecord> = {}): ProjectRecord => ({
  id,
  tokenHash: `hash-${id}`,
  salt: `salt-${id}`,
  createdAt: T0,
  ...over,
});

export const family = (id: string, over: Partial<FamilyRecord> = {}): FamilyRecord => ({
  id,
  projectId: 'p1',
  resource: 'alice',
  scopes: ['calls:dial', 'calls:receive'],
  expiresInMinutes: 15,
  createdAt: T0,
  revokedAt: null,
  revokedReason: null,
  ...over,
});

export const token = (
  hash: string,
  familyId: string,
  expiresAt = T0 + HOUR,
): RefreshTokenRecord => ({
  hash,
  familyId,
  createdAt: T0,
  expiresAt,
  rotatedAt: null,
});
