import { DEFAULT_LIMITS } from './limits.js';

/** Why a resource name is not acceptable, or undefined when it is. */
export function resourceProblem(
  value: unknown,
  maxLength: number = DEFAULT_LIMITS.maxResourceLength,
): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > maxLength) return `must be at most ${maxLength} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return 'must not contain control characters';
  return undefined;
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
