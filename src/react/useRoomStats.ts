'use client';
import { useEffect } from 'react';
import { useStore } from 'zustand';
import type { CallStats, QualityState } from '../core/index.js';
import { useClientOf } from './RelayContext.js';

const empty: Record<string, CallStats> = {};
const none = () => empty;

/**
 * The last quality sample of each connection of a room, by participant id (in `sfu` rooms,
 * `SFU_PEER` is this client's upload; each other participant's entry measures what comes from
 * it), sampled while the component is mounted. Empty before the first sample. Re-renders only
 * when a new sample of the room arrives.
 */
export function useRoomStats(name: string | null | undefined): Record<string, CallStats> {
  const client = useClientOf('useRoomStats');
  useEffect(() => (name ? client.watchRoomStats(name) : undefined), [client, name]);
  return useStore(
    client.quality,
    name ? (state: QualityState) => state.rooms[name] ?? empty : none,
  );
}
