'use client';
import { useStore } from 'zustand';
import type { ParticipantSnapshot } from '../core/index.js';
import { useClientOf } from './RelayContext.js';
import { useRoomName } from './RoomContext.js';

/**
 * One participant of the room `name` (default: the enclosing `<RoomProvider>`'s or
 * `<RoomGrid>`'s) by its id, or null when it is not in the room. Re-renders only when that
 * participant's snapshot changes.
 */
export function useParticipant(id: string, name?: string): ParticipantSnapshot | null {
  const client = useClientOf('useParticipant');
  const room = useRoomName('useParticipant', name);
  return useStore(client.store, (state) => state.rooms[room]?.participants[id] ?? null);
}
