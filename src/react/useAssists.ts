'use client';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { AssistSnapshot, RelayClientState } from '../core/index.js';
import { useClientOf } from './RelayContext.js';

const selectLive = (state: RelayClientState) =>
  Object.values(state.assists).filter((assist) => assist.state !== 'ended');

/**
 * Every call the provider's client assists now (joining or assisting), whichever component
 * started it, mounted or not: an assist belongs to the provider, so it can always be shown or
 * ended from here (`useAssist(callId).stop()`, or `client.stopAssist(callId)`).
 */
export function useAssists(): AssistSnapshot[] {
  const client = useClientOf('useAssists');
  return useStore(client.store, useShallow(selectLive));
}
