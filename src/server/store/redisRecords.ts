import { isScope, type Scope } from '../../protocol/index.js';
import type { FamilyRecord, RefreshTokenRecord } from './RelayStore.js';

// The store's records as Redis hash fields, and back: absent fields are null, numbers are
// checked, scopes are JSON.

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

export function toFamily(fields: Record<string, string>): FamilyRecord {
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
export function pairsToObject(reply: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

export function toToken(fields: Record<string, string>): RefreshTokenRecord {
  return {
    hash: fields.hash ?? '',
    familyId: fields.familyId ?? '',
    createdAt: num(fields.createdAt, 'createdAt'),
    expiresAt: num(fields.expiresAt, 'expiresAt'),
    rotatedAt: optionalNum(fields.rotatedAt, 'rotatedAt'),
  };
}

/** Record fields as [field, value, ...], leaving out null ones (absent means null). */
export function flatten(record: object): string[] {
  const out: string[] = [];
  for (const [field, value] of Object.entries(record)) {
    if (value === null || value === undefined) continue;
    out.push(field, Array.isArray(value) ? JSON.stringify(value) : String(value));
  }
  return out;
}
