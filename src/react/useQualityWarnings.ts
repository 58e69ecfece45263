'use client';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { QualityWarning } from '../core/index.js';
import { useClientOf } from './RelayContext.js';

/** Which warnings `useQualityWarnings` shows. */
export interface QualityWarningsFilter {
  /** Only this call's. */
  callId?: string;
  /** Only this room's (by name). */
  room?: string;
}

/**
 * The quality warnings raised now (oldest first) of the calls and rooms something watches
 * (`useCallStats`, `useRoomStats`), optionally of one call or room. Re-renders only when one is
 * raised or cleared. To react to each one as it happens, use `client.onQualityWarning`.
 */
export function useQualityWarnings(filter: QualityWarningsFilter = {}): QualityWarning[] {
  const client = useClientOf('useQualityWarnings');
  const { callId, room } = filter;
  return useStore(
    client.quality,
    useShallow((state) =>
      state.warnings.filter(
        (warning) =>
          (callId === undefined || warning.callId === callId) &&
          (room === undefined || warning.room === room),
      ),
    ),
  );
}
