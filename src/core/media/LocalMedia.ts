import { ErrorCodes, RelayError } from '../../protocol/errors.js';
import { getLocalMedia } from './getLocalMedia.js';
import type { TrackProcessor, TrackProcessorContext } from './TrackProcessor.js';
import type { MediaOptions } from '../types.js';

type Kind = 'audio' | 'video';

/** A track sent in place of another, on a device switch or a processor change. */
export interface TrackSwap {
  previous: MediaStreamTrack | undefined;
  next: MediaStreamTrack;
  stream: MediaStream;
}

/** Who the media is for, as track processors are told. */
export type MediaOwner = Omit<TrackProcessorContext, 'kind'>;

/** The local media of one call or room, and the tracks the library must stop when it ends. */
export class LocalMedia {
  stream: MediaStream | null = null;
  /** Tracks the library acquired or processed (never the app's own localStream tracks). */
  private readonly owned = new Set<MediaStreamTrack>();
  /** The captured track of each kind (the stream holds the processed one, when processed). */
  private readonly sources = new Map<Kind, MediaStreamTrack>();
  /** The processor of each kind, once chosen (null: none). */
  private readonly processors = new Map<Kind, TrackProcessor | null>();
  private appStream = false;
  private released = false;

  /** `processTrack`: the client's processor, for media whose options do not choose one. */
  constructor(
    private readonly owner: MediaOwner = {},
    private readonly processTrack: TrackProcessor | null = null,
  ) {}

  async acquire(
    mediaDevices: MediaDevices | undefined,
    options: MediaOptions,
  ): Promise<MediaStream> {
    if (options.localStream) {
      this.appStream = true;
      this.stream = options.localStream;
      return options.localStream;
    }
    const stream = await getLocalMedia(mediaDevices, {
      audio: options.audio ?? true,
      video: options.video ?? true,
    });
    for (const track of stream.getTracks()) {
      this.owned.add(track);
      this.sources.set(track.kind as Kind, track);
    }
    const chosen = options.processTrack === undefined ? this.processTrack : options.processTrack;
    try {
      for (const kind of ['audio', 'video'] as const) {
        if (!this.processors.has(kind)) this.processors.set(kind, chosen);
        const source = this.sources.get(kind);
        if (!source || this.released) continue;
        const processed = await this.process(kind, source);
        if (processed !== source) swapIn(stream, source, processed);
      }
    } catch (error) {
      this.release();
      throw error;
    }
    // The call or room ended while the browser was asking: do not leave the camera on.
    if (this.released) this.release();
    else this.stream = stream;
    return stream;
  }

  setEnabled(kind: Kind, enabled: boolean): void {
    for (const track of this.stream?.getTracks() ?? []) {
      if (track.kind === kind) track.enabled = enabled;
    }
  }

  /** Acquires `deviceId` (processed like the one it replaces) and swaps it into the stream. */
  async switchDevice(
    mediaDevices: MediaDevices | undefined,
    deviceKind: 'audioinput' | 'videoinput',
    deviceId: string,
  ): Promise<TrackSwap | undefined> {
    const stream = this.stream;
    if (!stream) return undefined;
    const kind = deviceKind === 'audioinput' ? 'audio' : 'video';
    const constraints = { deviceId: { exact: deviceId } };
    const fresh = await getLocalMedia(mediaDevices, {
      audio: kind === 'audio' ? constraints : false,
      video: kind === 'video' ? constraints : false,
    });
    const source = fresh.getTracks()[0];
    if (!source) return undefined;
    let next = source;
    try {
      if (!this.appStream) next = await this.process(kind, source);
    } catch (error) {
      source.stop();
      throw error;
    }
    if (this.released) {
      next.stop();
      source.stop();
      return undefined;
    }
    const previousSource = this.sources.get(kind);
    this.owned.add(source).add(next);
    this.sources.set(kind, source);
    const previous = swapIn(
      stream,
      stream.getTracks().find((t) => t.kind === kind),
      next,
    );
    // The app's own tracks stay the app's to stop.
    for (const old of [previous, previousSource]) if (old && this.owned.delete(old)) old.stop();
    return { previous, next, stream };
  }

  /**
   * Sends the captured track of `kind` through `processor` (null: as captured) from now on, and
   * swaps the result into the stream; undefined when nothing changes (no such track yet: the
   * processor applies once acquired). Rejects with a RelayError, the stream untouched, when the
   * processor fails or the stream is the app's own.
   */
  async setProcessor(kind: Kind, processor: TrackProcessor | null): Promise<TrackSwap | undefined> {
    if (this.appStream) {
      throw new RelayError(
        ErrorCodes.invalidState,
        'This call sends the localStream the app passed: process its tracks before passing them.',
      );
    }
    const source = this.sources.get(kind);
    const stream = this.stream;
    if (!source || !stream) {
      this.processors.set(kind, processor);
      return undefined;
    }
    const next = processor ? await this.run(processor, kind, source) : source;
    this.processors.set(kind, processor);
    const previous = stream.getTracks().find((t) => t.kind === kind);
    if (this.released || next === previous) {
      if (this.released && next !== source) next.stop();
      return undefined;
    }
    this.owned.add(next);
    swapIn(stream, previous, next);
    if (previous && previous !== source && this.owned.delete(previous)) previous.stop();
    return { previous, next, stream };
  }

  /** Stops every track the library acquired. */
  release(): void {
    this.released = true;
    for (const track of this.owned) track.stop();
    this.owned.clear();
    this.sources.clear();
    this.stream = null;
  }

  private async process(kind: Kind, source: MediaStreamTrack): Promise<MediaStreamTrack> {
    const processor = this.processors.get(kind) ?? null;
    if (!processor) return source;
    const processed = await this.run(processor, kind, source);
    this.owned.add(processed);
    return processed;
  }

  private async run(processor: TrackProcessor, kind: Kind, source: MediaStreamTrack) {
    // Loaded with the first processor: apps without one do not carry it.
    const { runTrackProcessor } = await import('./runTrackProcessor.js');
    return runTrackProcessor(processor, source, { ...this.owner, kind });
  }
}

/** Puts `next` in `stream` in place of `previous`; returns `previous`. */
function swapIn(
  stream: MediaStream,
  previous: MediaStreamTrack | undefined,
  next: MediaStreamTrack,
): MediaStreamTrack | undefined {
  if (previous) stream.removeTrack(previous);
  stream.addTrack(next);
  return previous;
}
