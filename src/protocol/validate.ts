import { DEFAULT_LIMITS } from './limits.js';

/** A lone surrogate: text that is not well-formed UTF-16 (no Unicode scalar value). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069). */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why a name that identifies someone (a resource, a project id) is not acceptable, or
 * undefined when it is. Refused: non-strings, empty names, names longer than `maxLength`
 * once in NFC, control characters, bidirectional controls (they make one name display as
 * another), and text that is not well-formed UTF-16 (a lone surrogate has no UTF-8 form, so
 * stores would turn it into U+FFFD and two names into one). Use {@link normalizeIdentity} on
 * an accepted name.
 */
export function resourceProblem(
  value: unknown,
  maxLength: number = DEFAULT_LIMITS.maxResourceLength,
): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  // Checked before normalizing, which would take time in proportion to any length.
  if (value.length > maxLength * 4) return `must be at most ${maxLength} characters`;
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (no lone surrogates)';
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (BIDI_CONTROL.test(value)) {
    return 'must not contain bidirectional controls (U+202A–U+202E, U+2066–U+2069)';
  }
  if (normalizeIdentity(value).length > maxLength) return `must be at most ${maxLength} characters`;
  return undefined;
}

/**
 * The one spelling of a name: Unicode NFC, so that the composed and decomposed forms of
 * "é" are one person. Apply to names {@link resourceProblem} accepted.
 */
export function normalizeIdentity(value: string): string {
  return value.normalize('NFC');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a parsed JSON value nests deeper than `max` levels (each object or array is one). */
export function exceedsDepth(value: unknown, max: number, depth = 1): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // Recursion is bounded: it stops one level below `max`. Allocates nothing (it runs per signal).
  if (depth > max) return true;
  if (Array.isArray(value)) {
    for (const child of value) if (exceedsDepth(child, max, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (
      Object.hasOwn(value, key) &&
      exceedsDepth((value as Record<string, unknown>)[key], max, depth + 1)
    ) {
      return true;
    }
  }
  return false;
}
