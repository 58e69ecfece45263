'use client';
import { useEffect } from 'react';
import { useStore } from 'zustand';
import type { CallStats, QualityState } from '../core/index.js';
import { useClientOf } from './RelayContext.js';

const none = () => null;

/**
 * The last quality sample of a call (RTT, jitter, loss, bitrates, video, MOS, network quality;
 * see `CallStats`), sampled while the component is mounted (every `quality.intervalMs` of the
 * client options, default 1000 ms) and until the call ends. Null before the first sample (one
 * interval after mounting) and for no call. Re-renders only when a new sample of this call
 * arrives.
 */
export function useCallStats(callId: string | null | undefined): CallStats | null {
  const client = useClientOf('useCallStats');
  useEffect(() => (callId ? client.watchCallStats(callId) : undefined), [client, callId]);
  return useStore(
    client.quality,
    callId ? (state: QualityState) => state.calls[callId] ?? null : none,
  );
}
