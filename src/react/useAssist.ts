'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type { AssistMode, AssistOptions, AssistSnapshot } from '../core/index.js';
import { ErrorCodes, RelayError } from '../protocol/index.js';
import { useClientOf } from './RelayContext.js';

export interface UseAssistOptions {
  /**
   * The microphone for whisper and barge: true, constraints, or a stream of the app's own.
   * Acquired the first time a mode needs it. Default: true.
   */
  audio?: AssistOptions['audio'];
}

export interface UseAssistResult {
  /** This client's assist of the call (also an ended one, until another starts); null if none. */
  assist: AssistSnapshot | null;
  /** Listens to both parties, sends nothing. Joins the call, or changes the mode. */
  monitor: () => Promise<void>;
  /**
   * Speaks to `agent` only (participant id or resource; may be left out when the call's other
   * side is a phone or SIP endpoint), hearing both parties.
   */
  whisper: (agent?: string) => Promise<void>;
  /** Joins as a full party: everyone hears the supervisor. */
  barge: () => Promise<void>;
  /** Leaves the call (it goes on). */
  stop: () => void;
  /**
   * Why the last action or the assist failed (`forbidden`, `call_not_found`, `invalid_state`,
   * media errors…); null when fine. The actions never reject: failures show here.
   */
  error: RelayError | null;
}

/**
 * Supervising the call `callId` (a call id from `useCallList`). Each action joins the call in
 * that mode or switches to it; a double click joins once. Unmounting does not leave the call:
 * the assist belongs to the provider (see `useAssists`) until `stop()` or the call ends.
 */
export function useAssist(callId: string | null, options?: UseAssistOptions): UseAssistResult {
  const client = useClientOf('useAssist');
  const assist = useStore(client.store, (state) =>
    callId === null ? null : (state.assists[callId] ?? null),
  );
  const [failure, setFailure] = useState<{ callId: string; error: RelayError } | null>(null);
  const audio = useRef(options?.audio);
  useEffect(() => {
    audio.current = options?.audio;
  }, [options?.audio]);

  const run = useCallback(
    async (mode: AssistMode, agent?: string) => {
      if (callId === null) {
        const error = new RelayError(
          ErrorCodes.invalidParams,
          'No call to assist: pass useAssist(callId), a call id from useCallList.',
        );
        setFailure({ callId: '', error });
        return;
      }
      setFailure(null);
      const assistOptions: AssistOptions = {
        ...(agent === undefined ? {} : { agent }),
        ...(audio.current === undefined ? {} : { audio: audio.current }),
      };
      try {
        await client.assist(callId, mode, assistOptions);
      } catch (error) {
        const relayError =
          error instanceof RelayError
            ? error
            : new RelayError(ErrorCodes.callFailed, 'The call could not be assisted. Try again.', {
                cause: error,
              });
        setFailure({ callId, error: relayError });
      }
    },
    [client, callId],
  );
  const monitor = useCallback(() => run('monitor'), [run]);
  const whisper = useCallback((agent?: string) => run('whisper', agent), [run]);
  const barge = useCallback(() => run('barge'), [run]);
  const stop = useCallback(() => {
    if (callId !== null) client.stopAssist(callId);
  }, [client, callId]);

  const own =
    failure && (failure.callId === callId || failure.callId === '') ? failure.error : null;
  return { assist, monitor, whisper, barge, stop, error: own ?? assist?.error ?? null };
}
