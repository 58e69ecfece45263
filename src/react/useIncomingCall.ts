'use client';
import { useCallback } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { CallSnapshot, MediaOptions, RelayClientState } from '../core/index.js';
import { ErrorCodes, RelayError } from '../protocol/index.js';
import { useClientOf } from './RelayContext.js';

export interface UseIncomingCallResult {
  /** Incoming calls that are ringing, oldest first. */
  calls: CallSnapshot[];
  /** The first of `calls`, or null. */
  call: CallSnapshot | null;
  /**
   * Answers `callId` (default: the first ringing call), acquiring media per `options`, and
   * resolves with the answered call (state `connecting`). From then on `useCall()` (no target)
   * or `useCall(caller)` shows it. Rejects with a RelayError when it cannot be answered.
   */
  answer: (callId?: string, options?: MediaOptions) => Promise<CallSnapshot>;
  /** Declines `callId` (default: the first ringing call); `busy` only stops it ringing here. */
  reject: (callId?: string, reason?: 'declined' | 'busy') => void;
}

const selectRinging = (state: RelayClientState) =>
  Object.values(state.calls).filter(
    (call) => call.direction === 'incoming' && call.state === 'ringing',
  );

/** The incoming calls ringing on this client, with answer and reject. */
export function useIncomingCall(): UseIncomingCallResult {
  const client = useClientOf('useIncomingCall');
  const calls = useStore(client.store, useShallow(selectRinging));
  const pick = useCallback(
    (callId: string | undefined): string => {
      const id = callId ?? selectRinging(client.store.getState())[0]?.id;
      if (id === undefined) {
        throw new RelayError(ErrorCodes.callNotFound, 'No incoming call is ringing.');
      }
      return id;
    },
    [client],
  );
  const answer = useCallback(
    async (callId?: string, options?: MediaOptions) => {
      const id = pick(callId);
      await client.answer(id, options);
      const call = client.store.getState().calls[id];
      if (!call) throw new RelayError(ErrorCodes.callNotFound, 'The answered call is gone.');
      return call;
    },
    [client, pick],
  );
  const reject = useCallback(
    (callId?: string, reason?: 'declined' | 'busy') => client.reject(pick(callId), reason),
    [client, pick],
  );
  return { calls, call: calls[0] ?? null, answer, reject };
}
