'use client';
import { useEffect, useRef } from 'react';
import type { CallEndReason } from '../core/index.js';
import type { RelayError } from '../protocol/index.js';
import type { UseCallResult } from './useCall.js';

/** What `onCallEnded` is told about the call that ended. */
export interface EndedCall {
  callId: string | null;
  remote: string | null;
  reason: CallEndReason | null;
  error: RelayError | null;
}

/** Calls `onCallEnded` once for each call that `call` shows ending. */
export function useOnCallEnded(
  call: UseCallResult,
  onCallEnded: ((call: EndedCall) => void) | undefined,
): void {
  const callback = useRef(onCallEnded);
  const reported = useRef<unknown>(null);
  useEffect(() => {
    callback.current = onCallEnded;
  }, [onCallEnded]);
  const { state, callId, remote, endReason, error } = call;
  useEffect(() => {
    const key = callId ?? error;
    if (state !== 'ended' || key === null || reported.current === key) return;
    reported.current = key;
    callback.current?.({ callId, remote, reason: endReason, error });
  }, [state, callId, remote, endReason, error]);
}
