'use client';
import { useCallback, useEffect, useMemo } from 'react';
import { useStore } from 'zustand';
import type {
  CallListStatus,
  CallRecord,
  CallRecordState,
  CallsFilter,
  RelayError,
} from '../core/index.js';
import { byStartedAt, callMatches } from '../core/supervision/callsFilter.js';
import { useClientOf } from './RelayContext.js';

export interface UseCallListResult {
  /** The project's ongoing calls and rooms matching the filter, oldest first (by `startedAt`). */
  calls: CallRecord[];
  /** `loading` until the Relay's first answer, then `ready`; `error` when refused. */
  status: Exclude<CallListStatus, 'idle'>;
  /** Why the list is not available (`forbidden` without `calls:list`…); null when fine. */
  error: RelayError | null;
  /** More calls matched than the Relay lists at once: narrow the filter. */
  truncated: boolean;
  /** Reloads the list from the Relay. Resolves once reloaded; never rejects (see `error`). */
  refresh: () => Promise<void>;
}

/**
 * The project's ongoing calls, live (the token needs `calls:list`): watches them while mounted
 * (`client.watchCalls`; every mounted hook shares one watch on the Relay) and re-renders when
 * one starts, changes or ends (ended calls leave the list). `filter.resource` keeps the calls
 * one of whose participants is that resource; `filter.state` the `ringing` or `active` ones.
 */
export function useCallList(filter?: CallsFilter): UseCallListResult {
  const client = useClientOf('useCallList');
  const resource = filter?.resource;
  const state: CallRecordState | undefined = filter?.state;
  useEffect(() => client.watchCalls(only(resource, state)), [client, resource, state]);
  const list = useStore(client.store, (s) => s.callList);
  const calls = useMemo(
    () =>
      Object.values(list.calls)
        .filter((call) => callMatches(call, only(resource, state)))
        .sort(byStartedAt),
    [list.calls, resource, state],
  );
  const refresh = useCallback(() => client.refreshCallList().catch(() => undefined), [client]);
  return {
    calls,
    // Mounted, the hook watches: idle only means the watch has not gone out yet.
    status: list.status === 'idle' ? 'loading' : list.status,
    error: list.error,
    truncated: list.truncated,
    refresh,
  };
}

function only(resource: string | undefined, state: CallRecordState | undefined): CallsFilter {
  return {
    ...(resource === undefined ? {} : { resource }),
    ...(state === undefined ? {} : { state }),
  };
}
