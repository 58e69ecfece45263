/**
 * Seeded randomness for the fuzz run. Every generated frame and request comes from an {@link Rng}
 * derived from the run's seed and a stable label (lane, life, address), so one seed reproduces
 * the same hostile input whatever the timing of the run.
 */
import { randomBytes } from 'node:crypto';

/** mulberry32: a small, fast 32-bit PRNG. Not cryptographic; it only has to be reproducible. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max], both included. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: no items');
    return items[this.int(items.length)] as T;
  }

  /** A key of `weights`, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Partial<Record<K, number>>>): K {
    const entries = (Object.entries(weights) as [K, number | undefined][]).filter(
      (entry): entry is [K, number] => (entry[1] ?? 0) > 0,
    );
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return (entries[entries.length - 1] as [K, number])[0];
  }

  /** `length` UTF-16 code units drawn from `alphabet` (a string of single units). */
  string(length: number, alphabet: string = PRINTABLE): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /** Mixed text: ASCII, CJK, emoji (surrogate pairs), combining marks, RTL, zero-width. */
  unicode(length: number): string {
    let out = '';
    while (out.length < length) out += this.pick(UNICODE_PIECES);
    return out.slice(0, length);
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

export const PRINTABLE =
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%&()*+,-./:;<=>?@[]^_`{|}~';
const UNICODE_PIECES = [
  'a',
  'Z',
  '7',
  ' ',
  '"',
  '\\',
  '/',
  'é',
  'ß',
  '群',
  '衆',
  '😀',
  '👻',
  '\u0301',
  '\u200b',
  '\u200f',
  'ש',
  'ع',
  '\ufeff',
  '\u2028',
  '\u0085',
  '\u0000',
  '\u001f',
  '\u007f',
];

/** Mixes a seed with labels into a new 32-bit seed (FNV-1a, then murmur3's finalizer). */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  // FNV-1a over the seed's digits and the parts. (XORing the seed into the offset basis too
  // cancelled out against its first digit: seeds 0 to 9 all gave the same run.)
  let hash = 0x811c9dc5;
  for (const char of `${seed}|${parts.join('|')}`) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The run's seed: `RELAYCALL_FUZZ_SEED` (decimal or 0x-hex), or a fresh random one. */
export function resolveSeed(env: NodeJS.ProcessEnv = process.env): {
  seed: number;
  source: 'env' | 'random';
} {
  const raw = env.RELAYCALL_FUZZ_SEED?.trim();
  if (raw) {
    const seed = Number(raw);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`RELAYCALL_FUZZ_SEED must be an integer from 0 to 2^32-1, got "${raw}".`);
    }
    return { seed, source: 'env' };
  }
  return { seed: randomBytes(4).readUInt32BE(0), source: 'random' };
}

/** `RELAYCALL_FUZZ_SCALE` (default 1): multiplies every count of the run. */
export function resolveScale(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.RELAYCALL_FUZZ_SCALE?.trim();
  if (!raw) return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 100) {
    throw new Error(`RELAYCALL_FUZZ_SCALE must be a number in (0, 100], got "${raw}".`);
  }
  return scale;
}
