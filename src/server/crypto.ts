import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** Hex SHA-256 of a string. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** URL-safe random string carrying `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Compares two hex digests in constant time (for equal lengths, which SHA-256 digests have). */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Hash of a project token with its salt, as stored. */
export function hashProjectToken(salt: string, token: string): string {
  return sha256Hex(`${salt}:${token}`);
}

/**
 * A random UUID as one flat string. Node builds randomUUID()'s result by concatenation: a tree
 * of a dozen string pieces (about 300 bytes) for as long as the id is kept, and the Relay
 * keeps ids of every session, call and participant.
 */
export function newId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}
