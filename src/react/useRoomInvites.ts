'use client';
import { useCallback } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { RelayClientState } from '../core/index.js';
import type { RoomInvite, RoomJoinOptions, RoomSnapshot } from '../core/index.js';
import { useClientOf } from './RelayContext.js';

export interface UseRoomInvitesResult {
  /** Invitations into rooms ringing this session, oldest first. */
  invites: RoomInvite[];
  /**
   * Joins the invitation's room, acquiring media per `options`, and resolves with the room
   * once joined or failed (never rejects). From then on `useRoom(invite.name)` shows it.
   */
  accept: (invite: RoomInvite, options?: RoomJoinOptions) => Promise<RoomSnapshot>;
  /** Declines the invitation: the inviter sees you leave the room as `declined`. */
  decline: (invite: RoomInvite) => void;
}

const selectInvites = (state: RelayClientState) => Object.values(state.roomInvites);

/**
 * Invitations into rooms (another participant's `invite(to)`), to accept or decline.
 * Re-renders only when one arrives, changes or goes.
 */
export function useRoomInvites(): UseRoomInvitesResult {
  const client = useClientOf('useRoomInvites');
  const invites = useStore(client.store, useShallow(selectInvites));
  const accept = useCallback(
    (invite: RoomInvite, options?: RoomJoinOptions) => client.joinRoom(invite.name, options),
    [client],
  );
  const decline = useCallback((invite: RoomInvite) => client.declineRoom(invite.roomId), [client]);
  return { invites, accept, decline };
}
