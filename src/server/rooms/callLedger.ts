import type { IdSet } from './CompactSet.js';
import type { Member } from './Room.js';

/** What a call keeps besides its two participants' records (see Room.call). */
export interface CallLedger {
  /** Resource of the caller, as `call.incoming` names it. */
  readonly from: string;
  /** The caller's participant: joined from the invite on. */
  readonly caller: Member;
  /** The callee's participant: ringing on its free sessions until one answers. */
  readonly callee: Member;
  /** Every callee session ever rung, to tell a late answer it was answered elsewhere. */
  readonly rang: IdSet<string>;
  /** Caller's signals sent before the answer, delivered to whoever answers. */
  early: unknown[];
  /** Length of the early signals' JSON. */
  earlyBytes: number;
}

/** Whether the call was answered (its callee joined through one of its sessions). */
export function answered(call: CallLedger): boolean {
  return call.callee.legId !== null;
}

/** The other party's leg, or null while the callee rings. */
export function otherLeg(call: CallLedger, legId: string): string | null {
  return legId === call.caller.legId ? call.callee.legId : call.caller.legId;
}

/**
 * Keeps a caller's signal until the answer, within `maxSignals` and `maxBytes` (of JSON); false
 * when it would not fit (the caller is refused).
 */
export function holdEarly(
  call: CallLedger,
  signal: unknown,
  maxSignals: number,
  maxBytes: number,
): boolean {
  const size = JSON.stringify(signal).length;
  if (call.early.length >= maxSignals || call.earlyBytes + size > maxBytes) return false;
  call.early.push(signal);
  call.earlyBytes += size;
  return true;
}

/** The early signals, handed out once (to whoever answered). */
export function takeEarly(call: CallLedger): unknown[] {
  const early = call.early.splice(0);
  call.earlyBytes = 0;
  return early;
}
