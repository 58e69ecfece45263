'use client';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { ParticipantSnapshot } from '../core/index.js';
import { useClientOf } from './RelayContext.js';
import { useRoomName } from './RoomContext.js';
import { listParticipants } from './roomParticipants.js';

/**
 * The participants of the room `name` (default: the enclosing `<RoomProvider>`'s or
 * `<RoomGrid>`'s): you first, then the others in join order, ringing invitees included. Empty
 * while the room is idle. The same array while no participant changed, so it re-renders only
 * when one joins, changes or leaves.
 */
export function useParticipants(name?: string): ParticipantSnapshot[] {
  const client = useClientOf('useParticipants');
  const room = useRoomName('useParticipants', name);
  return useStore(
    client.store,
    useShallow((state) => listParticipants(state.rooms[room])),
  );
}
