import { createStore } from 'zustand/vanilla';
import { ErrorCodes, RelayMediaError } from '../../protocol/errors.js';
import type { DeviceManager, DevicePermission, DevicesState } from '../types.js';
import { getLocalMedia, stopStream } from './getLocalMedia.js';

type PermissionKind = 'microphone' | 'camera';
const KINDS: readonly PermissionKind[] = ['microphone', 'camera'];

function browserCanSelectAudioOutput(): boolean {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

/**
 * Creates a DeviceManager over `mediaDevices` (e.g. `navigator.mediaDevices`) and `permissions`
 * (e.g. `navigator.permissions`). Without `mediaDevices` (SSR, insecure page) both permissions
 * are `unsupported` and nothing is ever read. Without `permissions`, or when it does not know
 * camera/microphone, permission states are inferred: device labels visible → granted, after a
 * denied request → denied, otherwise prompt. Starts a first refresh at once.
 */
export function createDeviceManager(
  mediaDevices?: MediaDevices,
  permissions?: Permissions,
): DeviceManager {
  const initial: DevicePermission = mediaDevices ? 'prompt' : 'unsupported';
  const store = createStore<DevicesState>()(() => ({
    audioInputs: [],
    videoInputs: [],
    audioOutputs: [],
    permissions: { microphone: initial, camera: initial },
    canSelectAudioOutput: browserCanSelectAudioOutput(),
    error: null,
  }));

  let destroyed = false;
  const statuses: Partial<Record<PermissionKind, PermissionStatus>> = {};
  const deniedByRequest: Record<PermissionKind, boolean> = { microphone: false, camera: false };
  let watching: Promise<void> | undefined;

  const onChange = () => void refresh();

  function watchPermissions(): Promise<void> {
    watching ??= Promise.all(
      KINDS.map(async (name) => {
        if (typeof permissions?.query !== 'function') return;
        try {
          const status = await permissions.query({ name });
          if (destroyed) return;
          status.addEventListener('change', onChange);
          statuses[name] = status;
        } catch {
          // This browser cannot query that name (older Firefox): the state is inferred instead.
        }
      }),
    ).then(() => undefined);
    return watching;
  }

  function permissionOf(name: PermissionKind, devices: MediaDeviceInfo[]): DevicePermission {
    const state = statuses[name]?.state;
    if (state === 'granted' || state === 'denied' || state === 'prompt') return state;
    if (devices.some((device) => device.label !== '')) return 'granted';
    return deniedByRequest[name] ? 'denied' : 'prompt';
  }

  async function read(): Promise<void> {
    if (destroyed || !mediaDevices) return;
    try {
      await watchPermissions();
      const devices =
        typeof mediaDevices.enumerateDevices === 'function'
          ? await mediaDevices.enumerateDevices()
          : [];
      if (destroyed) return;
      const audioInputs = devices.filter((device) => device.kind === 'audioinput');
      const videoInputs = devices.filter((device) => device.kind === 'videoinput');
      store.setState({
        audioInputs,
        videoInputs,
        audioOutputs: devices.filter((device) => device.kind === 'audiooutput'),
        permissions: {
          microphone: permissionOf('microphone', audioInputs),
          camera: permissionOf('camera', videoInputs),
        },
      });
    } catch (error) {
      if (destroyed) return;
      store.setState({
        error: new RelayMediaError(
          ErrorCodes.mediaFailed,
          `The cameras and microphones could not be listed (${String(error)}). Reload the page and try again.`,
          undefined,
          { cause: error },
        ),
      });
    }
  }

  // Reads run one at a time, so the last state written is the newest; a refresh asked for while
  // one is already waiting shares it.
  let tail: Promise<void> = Promise.resolve();
  let queued: Promise<void> | null = null;
  function refresh(): Promise<void> {
    if (queued) return queued;
    const run = tail.then(() => {
      queued = null;
      return read();
    });
    queued = run;
    tail = run;
    return run;
  }

  async function requestPermission(kinds: { audio?: boolean; video?: boolean }): Promise<void> {
    const audio = kinds.audio === true;
    const video = kinds.video === true;
    if (!audio && !video) return refresh();
    let stream: MediaStream;
    try {
      stream = await getLocalMedia(mediaDevices, { audio, video });
    } catch (error) {
      const mediaError = error as RelayMediaError;
      if (mediaError.code === ErrorCodes.mediaPermissionDenied) {
        if (audio) deniedByRequest.microphone = true;
        if (video) deniedByRequest.camera = true;
      }
      if (!destroyed) store.setState({ error: mediaError });
      await refresh();
      throw mediaError;
    }
    if (audio) deniedByRequest.microphone = false;
    if (video) deniedByRequest.camera = false;
    try {
      if (!destroyed) store.setState({ error: null });
      // Read while the tracks are live: some browsers (Firefox) hide labels once capture stops.
      await refresh();
    } finally {
      stopStream(stream);
    }
  }

  if (mediaDevices && typeof mediaDevices.addEventListener === 'function') {
    mediaDevices.addEventListener('devicechange', onChange);
  }
  void refresh();

  return {
    store,
    refresh,
    requestPermission,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      if (mediaDevices && typeof mediaDevices.removeEventListener === 'function') {
        mediaDevices.removeEventListener('devicechange', onChange);
      }
      for (const name of KINDS) {
        statuses[name]?.removeEventListener('change', onChange);
        delete statuses[name];
      }
    },
  };
}
