import type { Gateway, MediaOptions } from '../core/index.js';
import type { UseCallState } from './useCall.js';

/** States in which the Dialer shows a call in progress (hang-up button, input read-only). */
export const DIALER_IN_PROGRESS: ReadonlySet<UseCallState> = new Set([
  'dialing',
  'ringing',
  'early',
  'connecting',
  'active',
  'held',
]);

/** What the Dialer dials: the text typed, trimmed; a phone number without spaces, dashes, dots. */
export function dialable(value: string): string {
  const text = value.trim();
  return text.startsWith('+') ? text.replace(/[\s\-.()]/g, '') : text;
}

/** The Dialer's media for a call: without the camera through the SIP gateway. */
export function dialerMedia<T extends MediaOptions>(
  options: T | undefined,
  gateway: Gateway | null | undefined,
): T | undefined {
  return gateway ? ({ ...options, video: false } as T) : options;
}
