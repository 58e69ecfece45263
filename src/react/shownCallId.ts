import type { CallSnapshot, RelayClientState } from '../core/index.js';

export interface ShownCallInput {
  /** The call the hook was told to show (`options.callId`). */
  bound: string | undefined;
  /** The call the hook placed last. */
  own: string | null;
  /** The hook's target resource. */
  target: string | undefined;
  /** The call the hook showed last. */
  lastShown: string | null;
}

/** A call in progress: not ended, and not an incoming call still ringing (not answered yet). */
export function inProgress(call: CallSnapshot): boolean {
  return call.state !== 'ended' && !(call.direction === 'incoming' && call.state === 'ringing');
}

/**
 * Which call `useCall` shows: the bound one; its own while in progress; else the latest call in
 * progress with the target (or any, without a target); else its own or the last it showed, ended.
 */
export function shownCallId(state: RelayClientState, input: ShownCallInput): string | null {
  const { calls } = state;
  if (input.bound !== undefined) return input.bound;
  const own = input.own === null ? undefined : calls[input.own];
  if (own && own.state !== 'ended') return own.id;
  let latest: CallSnapshot | undefined;
  // Insertion order: the last match is the latest call.
  for (const call of Object.values(calls)) {
    if (inProgress(call) && (input.target === undefined || call.remote === input.target)) {
      latest = call;
    }
  }
  if (latest) return latest.id;
  if (own) return own.id;
  const last = input.lastShown === null ? undefined : calls[input.lastShown];
  return last ? last.id : null;
}
