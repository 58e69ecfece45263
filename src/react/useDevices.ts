'use client';
import { useCallback } from 'react';
import { useStore } from 'zustand';
import type { DevicesState } from '../core/index.js';
import { useClientOf } from './RelayContext.js';

export interface UseDevicesResult extends DevicesState {
  /** Re-reads the device list and permission states. */
  refresh: () => Promise<void>;
  /**
   * Shows the browser's permission prompt (default: microphone and camera), then
   * refreshes. Rejects with a RelayMediaError, also kept in `error`.
   */
  requestPermission: (kinds?: { audio?: boolean; video?: boolean }) => Promise<void>;
}

/** Microphones, cameras and speakers with their permission states; updates on `devicechange`. */
export function useDevices(): UseDevicesResult {
  const { devices } = useClientOf('useDevices');
  const state = useStore(devices.store);
  const refresh = useCallback(() => devices.refresh(), [devices]);
  const requestPermission = useCallback(
    (kinds: { audio?: boolean; video?: boolean } = { audio: true, video: true }) =>
      devices.requestPermission(kinds),
    [devices],
  );
  return { ...state, refresh, requestPermission };
}
