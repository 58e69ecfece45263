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
 * when one joins, changes or leaves. Supervisors assisting the room are included, with `assist`
 * (and `agent`) set: filter them out for tiles, as `RoomGrid` does; a supervisor's `stream` is
 * set only while you hear it.
 */
export function useParticipants(name?: string): ParticipantSnapshot[] {
  const client = useClientOf('useParticipants');
  const room = useRoomName('useParticipants', name);
  return useStore(
    client.store,
    useShallow((state) => listParticipants(state.rooms[room])),
  );
}
