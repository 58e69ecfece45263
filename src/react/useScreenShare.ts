'use client';
import { useCallback, useState } from 'react';
import { useStore } from 'zustand';
import type { RelayClientState, ScreenShareOptions } from '../core/index.js';
import { ErrorCodes, RelayError } from '../protocol/index.js';
import { useClientOf } from './RelayContext.js';

export interface UseScreenShareResult {
  /** This side shares its screen now. */
  sharing: boolean;
  /** The browser's picker is open (a `start()` is under way). */
  starting: boolean;
  /** The other side shares its screen now. */
  remoteSharing: boolean;
  /** What this side shares (play it muted: it carries the shared audio too), or null. */
  stream: MediaStream | null;
  /** The other side's shared screen, or null: show it in its own tile. */
  remoteStream: MediaStream | null;
  /**
   * Opens the browser's picker and shares what the user picks (a second click while the
   * picker is open opens no second one). Never rejects: a failure shows in `error`.
   */
  start: (options?: ScreenShareOptions) => Promise<void>;
  /** Stops sharing (the other side sees it stop). */
  stop: () => void;
  /**
   * Why the last `start()` failed, until the next one: a RelayError with code
   * `screen_share_cancelled` (the picker was closed), `screen_share_failed` or `invalid_state`.
   */
  error: RelayError | null;
}

interface Attempt {
  callId: string | null;
  starting: boolean;
  error: RelayError | null;
}

const NONE = { sharing: false, remoteSharing: false, stream: null, remoteStream: null };

/** Screen sharing in the call `callId` (e.g. `useCall().callId`); inert without one. */
export function useScreenShare(callId: string | null | undefined): UseScreenShareResult {
  const client = useClientOf('useScreenShare');
  const call = useStore(client.store, (state: RelayClientState) =>
    callId ? state.calls[callId] : undefined,
  );
  // Kept with the call it is about: another call shows neither.
  const [attempt, setAttempt] = useState<Attempt>({ callId: null, starting: false, error: null });

  const start = useCallback(
    async (options?: ScreenShareOptions) => {
      if (!callId) {
        const error = new RelayError(ErrorCodes.invalidState, 'There is no call to share in.');
        setAttempt({ callId: null, starting: false, error });
        return;
      }
      setAttempt({ callId, starting: true, error: null });
      try {
        await client.startScreenShare(callId, options);
        setAttempt({ callId, starting: false, error: null });
      } catch (cause) {
        setAttempt({ callId, starting: false, error: cause as RelayError });
      }
    },
    [client, callId],
  );
  const stop = useCallback(() => {
    if (callId) client.stopScreenShare(callId);
  }, [client, callId]);

  const shares = call
    ? {
        sharing: call.screenSharing,
        remoteSharing: call.remoteScreenSharing,
        stream: call.screenStream,
        remoteStream: call.remoteScreenStream,
      }
    : NONE;
  const mine = attempt.callId === (callId ?? null);
  return {
    ...shares,
    starting: mine && attempt.starting,
    error: mine ? attempt.error : null,
    start,
    stop,
  };
}
