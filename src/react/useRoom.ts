'use client';
import { useCallback, useEffect, useRef } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type {
  ParticipantSnapshot,
  RoomJoinOptions,
  RoomLeftReason,
  RoomSnapshot,
  RoomState,
} from '../core/index.js';
import type { RelayError } from '../protocol/index.js';
import { useClientOf } from './RelayContext.js';
import { useRoomName } from './RoomContext.js';
import { listParticipants } from './roomParticipants.js';
import { settledRoom } from './settledRoom.js';
import { useRoomControls, type RoomControls } from './useRoomControls.js';
import { useRoomLifecycle } from './useRoomLifecycle.js';

export interface UseRoomOptions extends RoomJoinOptions {
  /** Join the room on mount (and when `name` changes), with these options. Default: false. */
  autoJoin?: boolean;
  /**
   * Leave the room when the component unmounts (or `name` changes). Default: false: like calls,
   * rooms belong to the provider and stay joined whatever the component tree does.
   */
  leaveOnUnmount?: boolean;
}

/** `idle` before `join()` (or after `dismiss()`), then the room's state. */
export type UseRoomState = 'idle' | RoomState;

export interface UseRoomResult extends RoomControls {
  /** The room's name. */
  name: string;
  state: UseRoomState;
  /** The room as the client sees it, or null while idle. */
  room: RoomSnapshot | null;
  /** You first, then the others in join order; ringing invitees included. */
  participants: ParticipantSnapshot[];
  /** Your camera and microphone in the room. */
  localStream: MediaStream | null;
  audioMuted: boolean;
  videoMuted: boolean;
  /** The participant speaking the loudest lately, or null. */
  activeSpeakerId: string | null;
  /** Why you are no longer in the room (`left`), else null. */
  leftReason: RoomLeftReason | null;
  /** Why joining failed, or the error the room was left on; null when fine. */
  error: RelayError | null;
  /** Your token may mute and remove others and end the room (`rooms:moderate`). */
  isModerator: boolean;
  /**
   * Joins the room (creating it when needed), acquiring media per the hook's options overridden
   * by `options`. Resolves with the room once joined or failed; never rejects (failures show in
   * `state` and `error`). While the room is joining or joined it joins nothing again and resolves
   * with it (a double click joins once). Before the client is connected it waits in `joining`.
   */
  join: (options?: RoomJoinOptions) => Promise<RoomSnapshot>;
}

/** A join this hook started, until it settles. */
interface PendingJoin {
  name: string;
  joined: Promise<RoomSnapshot>;
  /** The room's snapshot when the join started. */
  before: RoomSnapshot | undefined;
}

/**
 * One room of the provider's client, by name (default: the enclosing `<RoomProvider>`'s).
 * The room is the provider's, not the component's: unmounting leaves nothing (unless
 * `leaveOnUnmount`), and any component using `useRoom(name)` shows and controls the same room.
 * Re-renders when the room's snapshot changes.
 */
export function useRoom(name?: string, options?: UseRoomOptions): UseRoomResult {
  const client = useClientOf('useRoom');
  const roomName = useRoomName('useRoom', name);
  const latest = useRef(options);
  const pending = useRef<PendingJoin | null>(null);
  useEffect(() => {
    latest.current = options;
  }, [options]);

  const room = useStore(client.store, (state) => state.rooms[roomName] ?? null);
  const participants = useStore(
    client.store,
    useShallow((state) => listParticipants(state.rooms[roomName])),
  );
  const controls = useRoomControls(client, roomName);

  const join = useCallback(
    (overrides?: RoomJoinOptions): Promise<RoomSnapshot> => {
      const current = client.store.getState().rooms[roomName];
      const mine = pending.current?.name === roomName ? pending.current : null;
      // The client has not shown this hook's join yet, or shows it in progress or done.
      if (mine && current === mine.before) return mine.joined;
      if (current && current.state !== 'left') {
        // Joined, or joining (maybe from another component): join nothing again.
        return mine?.joined ?? settledRoom(client, roomName);
      }
      const { metadata, audio, video, localStream, media } = latest.current ?? {};
      const defaults: RoomJoinOptions = { metadata, audio, video, localStream, media };
      const joined = client.joinRoom(roomName, { ...defaults, ...overrides }).finally(() => {
        if (pending.current?.joined === joined) pending.current = null;
      });
      pending.current = { name: roomName, joined, before: current };
      return joined;
    },
    [client, roomName],
  );
  useRoomLifecycle(client, roomName, join, options);

  const local = room?.participantId ? room.participants[room.participantId] : undefined;
  return {
    ...controls,
    name: roomName,
    state: room?.state ?? 'idle',
    room,
    participants,
    localStream: room?.localStream ?? null,
    audioMuted: room?.audioMuted ?? false,
    videoMuted: room?.videoMuted ?? false,
    activeSpeakerId: room?.activeSpeakerId ?? null,
    leftReason: room?.leftReason ?? null,
    error: room?.error ?? null,
    isModerator: local?.moderator ?? false,
    join,
  };
}
