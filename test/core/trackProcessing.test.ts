/**
 * Track processors on a call's or room's local media (LocalMedia), with fake tracks: the processed
 * track is sent in place of the captured one, a device switch runs the processor again, a
 * processor set or cleared later swaps only what is sent, and every captured and processed track
 * is stopped at the end; failures are media_failed with nothing left running.
 */
import { describe, expect, it, vi } from 'vitest';
import type { TrackProcessor } from 'relaycall/core';
import { LocalMedia } from '../../src/core/media/LocalMedia.js';

class FakeTrack extends EventTarget {
  readyState: 'live' | 'ended' = 'live';
  enabled = true;
  constructor(
    readonly kind: 'audio' | 'video',
    readonly label: string,
  ) {
    super();
  }
  stop() {
    this.readyState = 'ended';
  }
}

class FakeStream {
  constructor(private tracks: FakeTrack[]) {}
  getTracks() {
    return [...this.tracks];
  }
  addTrack(track: FakeTrack) {
    this.tracks.push(track);
  }
  removeTrack(track: FakeTrack) {
    this.tracks = this.tracks.filter((t) => t !== track);
  }
}

/** getUserMedia handing out fresh fake tracks, labelled by device, recorded in `captured`. */
function devices() {
  const captured: FakeTrack[] = [];
  const getUserMedia = vi.fn(async (constraints: MediaStreamConstraints) => {
    const tracks: FakeTrack[] = [];
    for (const kind of ['audio', 'video'] as const) {
      const wanted = constraints[kind];
      if (!wanted) continue;
      const device = typeof wanted === 'object' ? JSON.stringify(wanted.deviceId) : 'default';
      tracks.push(new FakeTrack(kind, `${kind}:${device}`));
    }
    captured.push(...tracks);
    return new FakeStream(tracks) as unknown as MediaStream;
  });
  return { mediaDevices: { getUserMedia } as unknown as MediaDevices, captured };
}

/** A processor making a new track per input, labelled after it; `made` holds them. */
function labeller(prefix: string) {
  const made: FakeTrack[] = [];
  const processor = vi.fn<TrackProcessor>((track) => {
    const out = new FakeTrack(track.kind as 'audio' | 'video', `${prefix}(${track.label})`);
    made.push(out);
    return out as unknown as MediaStreamTrack;
  });
  return { processor, made };
}

const labels = (stream: MediaStream | null) =>
  (stream?.getTracks() ?? []).map((t) => t.label).sort();

describe('LocalMedia with a track processor', () => {
  it('sends processed tracks, runs the processor again on a device switch, stops all at the end', async () => {
    const { mediaDevices, captured } = devices();
    const { processor, made } = labeller('blur');
    const media = new LocalMedia({ callId: 'c1' }, processor);
    const stream = await media.acquire(mediaDevices, {});
    expect(labels(stream)).toEqual(['blur(audio:default)', 'blur(video:default)']);
    expect(processor.mock.calls.map(([, context]) => context)).toEqual([
      { callId: 'c1', kind: 'audio' },
      { callId: 'c1', kind: 'video' },
    ]);

    const swap = await media.switchDevice(mediaDevices, 'videoinput', 'cam2');
    expect(swap?.previous?.label).toBe('blur(video:default)');
    expect(swap?.next.label).toBe('blur(video:{"exact":"cam2"})');
    expect(labels(stream)).toEqual(['blur(audio:default)', 'blur(video:{"exact":"cam2"})']);
    // The old camera and its processed track are stopped; the rest runs.
    expect(captured.filter((t) => t.readyState === 'ended').map((t) => t.label)).toEqual([
      'video:default',
    ]);
    expect(made.filter((t) => t.readyState === 'ended').map((t) => t.label)).toEqual([
      'blur(video:default)',
    ]);

    media.release();
    expect([...captured, ...made].every((t) => t.readyState === 'ended')).toBe(true);
  });

  it('per-media null beats the client processor; one set later swaps only what is sent', async () => {
    const { mediaDevices, captured } = devices();
    const { processor } = labeller('client');
    const media = new LocalMedia({ room: 'standup' }, processor);
    const stream = await media.acquire(mediaDevices, { processTrack: null });
    expect(processor).not.toHaveBeenCalled();
    const camera = captured.find((t) => t.kind === 'video')!;
    camera.enabled = false; // muted

    const gray = labeller('gray');
    const on = await media.setProcessor('video', gray.processor);
    expect(on?.previous).toBe(camera);
    expect(on?.next.label).toBe('gray(video:default)');
    expect(gray.processor.mock.calls[0]?.[1]).toEqual({ room: 'standup', kind: 'video' });
    // The processor is fed live frames whatever mute says of the sent track.
    expect(camera).toMatchObject({ enabled: true, readyState: 'live' });

    const off = await media.setProcessor('video', null);
    expect(off).toMatchObject({ previous: gray.made[0], next: camera });
    expect(gray.made[0]?.readyState).toBe('ended');
    expect(labels(stream)).toEqual(['audio:default', 'video:default']);
    expect(await media.setProcessor('video', null)).toBeUndefined();
  });

  it('stops the captured track when the processed one ends by itself', async () => {
    const { mediaDevices, captured } = devices();
    const { processor, made } = labeller('p');
    const media = new LocalMedia({}, processor);
    await media.acquire(mediaDevices, { audio: false });
    made[0]?.dispatchEvent(new Event('ended'));
    expect(captured[0]?.readyState).toBe('ended');
  });

  it('fails with media_failed when the processor throws or returns no track, nothing left on', async () => {
    for (const bad of [
      () => {
        throw new Error('model not loaded');
      },
      () => undefined as unknown as MediaStreamTrack,
      (track: MediaStreamTrack) =>
        new FakeTrack(
          track.kind === 'audio' ? 'video' : 'audio',
          'x',
        ) as unknown as MediaStreamTrack,
    ]) {
      const { mediaDevices, captured } = devices();
      const media = new LocalMedia({ callId: 'c' }, bad);
      await expect(media.acquire(mediaDevices, {})).rejects.toMatchObject({
        code: 'media_failed',
        message: expect.stringContaining('track processor failed on the microphone'),
      });
      expect(captured.every((t) => t.readyState === 'ended')).toBe(true);
    }
  });

  it('keeps the sent track when a processor set mid-call fails; refuses the app stream', async () => {
    const { mediaDevices } = devices();
    const media = new LocalMedia();
    const stream = await media.acquire(mediaDevices, {});
    await expect(
      media.setProcessor('video', () => Promise.reject(new Error('no GPU'))),
    ).rejects.toMatchObject({ code: 'media_failed' });
    expect(labels(stream)).toEqual(['audio:default', 'video:default']);

    const own = new LocalMedia();
    await own.acquire(mediaDevices, { localStream: stream });
    await expect(own.setProcessor('video', null)).rejects.toMatchObject({
      code: 'invalid_state',
    });
  });
});
