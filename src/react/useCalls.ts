'use client';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { CallSnapshot, RelayClientState } from '../core/index.js';
import { useClientOf } from './RelayContext.js';

const selectLive = (state: RelayClientState) =>
  Object.values(state.calls).filter((call) => call.state !== 'ended');

/**
 * Every call of the provider's client that has not ended, oldest first: placed or answered by
 * any component (mounted or not), and incoming calls still ringing. Each can be shown with
 * `useCall(undefined, { callId })` or ended with `useRelayClient().client.hangup(id)`.
 * Re-renders only when a call starts, changes or ends.
 */
export function useCalls(): CallSnapshot[] {
  const client = useClientOf('useCalls');
  return useStore(client.store, useShallow(selectLive));
}
