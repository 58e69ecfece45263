import { afterEach, describe, expect, it } from 'vitest';
import type { StoreApi } from 'zustand/vanilla';
import { createDeviceManager } from '../../src/core/media/createDeviceManager.js';
import { getLocalMedia, stopStream } from '../../src/core/media/getLocalMedia.js';
import type { DeviceManager, DevicesState } from '../../src/core/types.js';
import { RelayMediaError } from '../../src/protocol/errors.js';
import { within } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function manager(...args: Parameters<typeof createDeviceManager>): DeviceManager {
  const created = createDeviceManager(...args);
  cleanups.push(() => created.destroy());
  return created;
}

/** Resolves once the store's state satisfies `predicate`. */
function stateWhere(
  store: StoreApi<DevicesState>,
  predicate: (state: DevicesState) => boolean,
  label: string,
): Promise<DevicesState> {
  let unsubscribe = () => {};
  const promise = new Promise<DevicesState>((resolve) => {
    if (predicate(store.getState())) resolve(store.getState());
    unsubscribe = store.subscribe((state) => {
      if (predicate(state)) resolve(state);
    });
  });
  return within(promise, 5000, label).finally(() => unsubscribe());
}

function device(kind: MediaDeviceKind, deviceId: string, label = ''): MediaDeviceInfo {
  return { kind, deviceId, label, groupId: 'g', toJSON: () => ({}) };
}

/** An EventTarget that counts the listeners added and not removed. */
class CountingTarget extends EventTarget {
  listeners = 0;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners += 1;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners -= 1;
    super.removeEventListener(...args);
  }
}

/** An injected mediaDevices, EventTarget-based like the real one. */
class FakeMediaDevices extends CountingTarget {
  devices: MediaDeviceInfo[] = [];
  enumerations = 0;
  getUserMedia: (constraints?: MediaStreamConstraints) => Promise<MediaStream> = () =>
    Promise.reject(new DOMException('no camera here', 'NotFoundError'));

  async enumerateDevices(): Promise<MediaDeviceInfo[]> {
    this.enumerations += 1;
    return [...this.devices];
  }
  asMediaDevices(): MediaDevices {
    return this as unknown as MediaDevices;
  }
}

describe('getLocalMedia', () => {
  it('returns live audio and video tracks; stopStream ends them', async () => {
    const stream = await getLocalMedia(navigator.mediaDevices, { audio: true, video: true });
    cleanups.push(() => stopStream(stream));
    expect(stream.getAudioTracks()).toHaveLength(1);
    expect(stream.getVideoTracks()).toHaveLength(1);
    expect(stream.getTracks().every((track) => track.readyState === 'live')).toBe(true);
    stopStream(stream);
    expect(stream.getTracks().every((track) => track.readyState === 'ended')).toBe(true);
    expect(() => stopStream(null)).not.toThrow();
  });

  it.each([
    ['NotAllowedError', 'media_permission_denied', /denied.*site settings/],
    ['SecurityError', 'media_permission_denied', /denied/],
    ['NotFoundError', 'media_not_found', /No camera and microphone was found/],
    ['OverconstrainedError', 'media_not_found', /Connect one, or choose another device/],
    ['NotReadableError', 'media_in_use', /another application or browser tab/],
    ['AbortError', 'media_in_use', /Close it there/],
    ['NotSupportedError', 'media_failed', /could not be started/],
    ['TypeError', 'media_failed', /could not be started/],
  ])('maps %s to %s', async (name, code, message) => {
    const cause = new DOMException('x', name);
    const fake = { getUserMedia: () => Promise.reject(cause) } as unknown as MediaDevices;
    const error = await getLocalMedia(fake, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayMediaError);
    expect(error).toMatchObject({ code, cause, kind: undefined });
    expect((error as Error).message).toMatch(message);
  });

  it('names the one device asked for', async () => {
    const fake = {
      getUserMedia: () => Promise.reject(new DOMException('x', 'NotAllowedError')),
    } as unknown as MediaDevices;
    await expect(getLocalMedia(fake, { video: false })).rejects.toMatchObject({
      kind: 'audioinput',
      message: expect.stringContaining('microphone'),
    });
    await expect(getLocalMedia(fake, { audio: false })).rejects.toMatchObject({
      kind: 'videoinput',
      message: expect.stringContaining('camera'),
    });
  });

  it('fails with media_failed without mediaDevices or with nothing to capture', async () => {
    await expect(getLocalMedia(undefined, {})).rejects.toMatchObject({
      code: 'media_failed',
      message: expect.stringContaining('https'),
    });
    await expect(
      getLocalMedia(navigator.mediaDevices, { audio: false, video: false }),
    ).rejects.toMatchObject({ code: 'media_failed' });
  });
});

describe('createDeviceManager', () => {
  it('lists the fake devices with labels and granted permissions after requestPermission', async () => {
    const acquired: MediaStream[] = [];
    const real = navigator.mediaDevices;
    const fake = new FakeMediaDevices();
    fake.enumerateDevices = () => real.enumerateDevices();
    fake.getUserMedia = async (constraints) => {
      const stream = await real.getUserMedia(constraints);
      acquired.push(stream);
      return stream;
    };
    const devices = manager(fake.asMediaDevices(), navigator.permissions);
    await devices.requestPermission({ audio: true, video: true });
    const state = devices.store.getState();
    expect(state.videoInputs.length).toBeGreaterThan(0);
    expect(state.audioInputs.length).toBeGreaterThan(0);
    expect(state.videoInputs.every((info) => info.kind === 'videoinput' && info.label)).toBe(true);
    expect(state.audioInputs.every((info) => info.kind === 'audioinput')).toBe(true);
    expect(state.permissions).toEqual({ microphone: 'granted', camera: 'granted' });
    expect(state.canSelectAudioOutput).toBe(true);
    expect(state.error).toBeNull();
    expect(acquired).toHaveLength(1);
    expect(acquired[0]!.getTracks().every((track) => track.readyState === 'ended')).toBe(true);
  });

  it('refreshes on devicechange and removes its listener on destroy', async () => {
    const fake = new FakeMediaDevices();
    fake.devices = [device('audioinput', 'mic-1'), device('audiooutput', 'out-1')];
    const devices = createDeviceManager(fake.asMediaDevices());
    await devices.refresh();
    expect(fake.listeners).toBe(1);
    let state = devices.store.getState();
    expect(state.audioInputs.map((info) => info.deviceId)).toEqual(['mic-1']);
    expect(state.audioOutputs.map((info) => info.deviceId)).toEqual(['out-1']);
    expect(state.permissions).toEqual({ microphone: 'prompt', camera: 'prompt' });

    fake.devices = [...fake.devices, device('videoinput', 'cam-1', 'USB camera')];
    fake.dispatchEvent(new Event('devicechange'));
    state = await stateWhere(devices.store, (s) => s.videoInputs.length === 1, 'new camera');
    expect(state.permissions.camera).toBe('granted'); // a visible label means access was given

    devices.destroy();
    expect(fake.listeners).toBe(0);
    const enumerations = fake.enumerations;
    fake.dispatchEvent(new Event('devicechange'));
    await devices.refresh();
    expect(fake.enumerations).toBe(enumerations);
  });

  it('records a denied request as a typed error and a denied permission', async () => {
    const fake = new FakeMediaDevices();
    fake.devices = [device('videoinput', 'cam-1'), device('audioinput', 'mic-1')];
    fake.getUserMedia = () => Promise.reject(new DOMException('no', 'NotAllowedError'));
    const devices = manager(fake.asMediaDevices());
    const error = await devices.requestPermission({ video: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayMediaError);
    const state = devices.store.getState();
    expect(state.error).toBe(error);
    expect(state.error?.code).toBe('media_permission_denied');
    expect(state.permissions).toEqual({ microphone: 'prompt', camera: 'denied' });
  });

  it('follows the Permissions API and its change events', async () => {
    const statuses = {
      camera: Object.assign(new CountingTarget(), { state: 'prompt' as PermissionState }),
      microphone: Object.assign(new CountingTarget(), { state: 'denied' as PermissionState }),
    };
    const permissions = {
      query: async ({ name }: { name: keyof typeof statuses }) => statuses[name],
    } as unknown as Permissions;
    const fake = new FakeMediaDevices();
    const devices = createDeviceManager(fake.asMediaDevices(), permissions);
    await devices.refresh();
    expect(devices.store.getState().permissions).toEqual({
      microphone: 'denied',
      camera: 'prompt',
    });
    expect([statuses.camera.listeners, statuses.microphone.listeners]).toEqual([1, 1]);

    statuses.camera.state = 'granted';
    statuses.camera.dispatchEvent(new Event('change'));
    await stateWhere(devices.store, (s) => s.permissions.camera === 'granted', 'camera granted');

    devices.destroy();
    expect([statuses.camera.listeners, statuses.microphone.listeners]).toEqual([0, 0]);
    statuses.microphone.state = 'granted';
    statuses.microphone.dispatchEvent(new Event('change'));
    await devices.refresh();
    expect(devices.store.getState().permissions.microphone).toBe('denied');
  });

  it('reports unsupported without mediaDevices', async () => {
    const devices = manager();
    await devices.refresh();
    expect(devices.store.getState().permissions).toEqual({
      microphone: 'unsupported',
      camera: 'unsupported',
    });
    await expect(devices.requestPermission({ audio: true })).rejects.toMatchObject({
      code: 'media_failed',
    });
    expect(devices.store.getState().error?.code).toBe('media_failed');
  });
});
