import { getLocalMedia } from './getLocalMedia.js';
import type { MediaOptions } from '../types.js';

/** The local media of one call or room, and the tracks the library must stop when it ends. */
export class LocalMedia {
  stream: MediaStream | null = null;
  /** Tracks the library acquired (never the app's own localStream tracks). */
  private readonly owned = new Set<MediaStreamTrack>();
  private released = false;

  async acquire(
    mediaDevices: MediaDevices | undefined,
    options: MediaOptions,
  ): Promise<MediaStream> {
    if (options.localStream) {
      this.stream = options.localStream;
      return options.localStream;
    }
    const stream = await getLocalMedia(mediaDevices, {
      audio: options.audio ?? true,
      video: options.video ?? true,
    });
    if (this.released) {
      // The call or room ended while the browser was asking: do not leave the camera on.
      for (const track of stream.getTracks()) track.stop();
      return stream;
    }
    for (const track of stream.getTracks()) this.owned.add(track);
    this.stream = stream;
    return stream;
  }

  setEnabled(kind: 'audio' | 'video', enabled: boolean): void {
    for (const track of this.stream?.getTracks() ?? []) {
      if (track.kind === kind) track.enabled = enabled;
    }
  }

  /** Acquires `deviceId` and swaps it into the stream; the caller replaces it on the peer. */
  async switchDevice(
    mediaDevices: MediaDevices | undefined,
    kind: 'audioinput' | 'videoinput',
    deviceId: string,
  ): Promise<
    | { previous: MediaStreamTrack | undefined; next: MediaStreamTrack; stream: MediaStream }
    | undefined
  > {
    const stream = this.stream;
    if (!stream) return undefined;
    const trackKind = kind === 'audioinput' ? 'audio' : 'video';
    const constraints = { deviceId: { exact: deviceId } };
    const fresh = await getLocalMedia(mediaDevices, {
      audio: trackKind === 'audio' ? constraints : false,
      video: trackKind === 'video' ? constraints : false,
    });
    const next = fresh.getTracks()[0];
    if (!next) return undefined;
    if (this.released) {
      next.stop();
      return undefined;
    }
    const previous = stream.getTracks().find((track) => track.kind === trackKind);
    this.owned.add(next);
    if (previous) {
      stream.removeTrack(previous);
      // The app's own tracks stay the app's to stop.
      if (this.owned.delete(previous)) previous.stop();
    }
    stream.addTrack(next);
    return { previous, next, stream };
  }

  /** Stops every track the library acquired. */
  release(): void {
    this.released = true;
    for (const track of this.owned) track.stop();
    this.owned.clear();
    this.stream = null;
  }
}
