'use client';
import { useCallback, useState } from 'react';
import { useStore } from 'zustand';
import type { RelayClientState, ScreenShareOptions } from '../core/index.js';
import type { RelayError } from '../protocol/index.js';
import { useClientOf } from './RelayContext.js';
import { useRoomName } from './RoomContext.js';

export interface UseRoomScreenShareResult {
  /** This client shares its screen in the room now. */
  sharing: boolean;
  /** The browser's picker is open (a `start()` is under way). */
  starting: boolean;
  /** What this client shares, or null (the others' shares: each participant's `screenStream`). */
  stream: MediaStream | null;
  /** Opens the picker and shares with the room; never rejects (see `error`). */
  start: (options?: ScreenShareOptions) => Promise<void>;
  /** Stops sharing. */
  stop: () => void;
  /**
   * Why the last `start()` failed, until the next one: `screen_share_cancelled`,
   * `screen_share_failed` or `invalid_state` (not joined, or a monitoring supervisor). Also why
   * a share that had started ended by itself (`screen_share_failed`: the room's media server
   * could not carry it), until the next `start()`.
   */
  error: RelayError | null;
}

interface Attempt {
  name: string;
  starting: boolean;
  error: RelayError | null;
}

/**
 * Screen sharing in a joined `mesh` room (default: the enclosing `<RoomProvider>`'s). `RoomGrid`
 * shows every share in its own tile.
 */
export function useRoomScreenShare(name?: string): UseRoomScreenShareResult {
  const client = useClientOf('useRoomScreenShare');
  const room = useRoomName('useRoomScreenShare', name);
  const stream = useStore(
    client.store,
    (state: RelayClientState) => state.rooms[room]?.screenStream ?? null,
  );
  const ended = useStore(
    client.store,
    (state: RelayClientState) => state.rooms[room]?.screenShareError ?? null,
  );
  const [attempt, setAttempt] = useState<Attempt | null>(null);
  const start = useCallback(
    async (options?: ScreenShareOptions) => {
      setAttempt({ name: room, starting: true, error: null });
      try {
        await client.startRoomScreenShare(room, options);
        setAttempt({ name: room, starting: false, error: null });
      } catch (cause) {
        setAttempt({ name: room, starting: false, error: cause as RelayError });
      }
    },
    [client, room],
  );
  const stop = useCallback(() => client.stopRoomScreenShare(room), [client, room]);
  const mine = attempt?.name === room;
  const starting = mine && attempt.starting;
  const failed = mine ? attempt.error : null;
  // A share that ended by itself is told until the next start() begins.
  return {
    sharing: stream !== null,
    starting,
    stream,
    start,
    stop,
    error: failed ?? (starting ? null : ended),
  };
}
