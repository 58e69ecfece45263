import type { CallRecord, CallsFilter } from '../../protocol/index.js';

/** Whether `call` is one `filter` asks for (as the Relay filters `calls.list`). */
export function callMatches(call: CallRecord, filter: CallsFilter): boolean {
  if (filter.state !== undefined && call.state !== filter.state) return false;
  if (filter.resource === undefined) return true;
  return call.participants.some((p) => p.resource === filter.resource);
}

/** Oldest first (by `startedAt`, then id, so the order is stable). */
export function byStartedAt(a: CallRecord, b: CallRecord): number {
  return a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
