import type { StoreApi } from 'zustand/vanilla';
import type { RelayError } from '../protocol/index.js';

/** Permission state of a kind of capture device. */
export type DevicePermission = 'prompt' | 'granted' | 'denied' | 'unsupported';

export interface DevicesState {
  audioInputs: MediaDeviceInfo[];
  videoInputs: MediaDeviceInfo[];
  audioOutputs: MediaDeviceInfo[];
  permissions: { microphone: DevicePermission; camera: DevicePermission };
  /** Whether the browser can choose the audio output (HTMLMediaElement.setSinkId). */
  canSelectAudioOutput: boolean;
  /** The last getUserMedia / enumeration error (a RelayMediaError), or null. */
  error: RelayError | null;
}

/** Lists devices and tracks permissions; refreshes on `devicechange`. */
export interface DeviceManager {
  readonly store: StoreApi<DevicesState>;
  /** Re-reads the device list and permission states. */
  refresh(): Promise<void>;
  /** Asks for access (shows the browser prompt) and refreshes; rejects with a RelayMediaError. */
  requestPermission(kinds: { audio?: boolean; video?: boolean }): Promise<void>;
  /** Removes the devicechange and permission listeners. */
  destroy(): void;
}
