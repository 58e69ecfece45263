import type { ClientClock } from '../types.js';

/** Audio levels are sampled this often, in ms. */
export const LEVEL_SAMPLE_MS = 250;
/** Each sample keeps this much of the previous level when louder, so a pause between words is not silence. */
const DECAY = 0.6;

interface Source {
  stream: MediaStream;
  node: MediaStreamAudioSourceNode;
  analyser: AnalyserNode;
  buffer: Uint8Array<ArrayBuffer>;
  level: number;
}

/**
 * Measures the audio level of a room's streams with the Web Audio API: one AnalyserNode per
 * stream with audio, read every LEVEL_SAMPLE_MS on the client clock, as RMS in [0, 1] with a
 * short decay. Nothing is played: the analysers are not connected to the speakers.
 *
 * Where there is no AudioContext (Node, old browsers), the RoomManager makes none.
 */
export class AudioLevelMeter {
  private context: AudioContext | null = null;
  private readonly sources = new Map<string, Source>();
  private timer: unknown;

  constructor(
    private readonly clock: ClientClock,
    private readonly AudioContextClass: typeof AudioContext,
    private readonly onLevels: (levels: Record<string, number>) => void,
  ) {}

  /** Measures these streams (by participant id) from now on; others stop being measured. */
  setStreams(streams: ReadonlyMap<string, MediaStream>): void {
    for (const [id, source] of this.sources) {
      if (streams.get(id) !== source.stream) this.disconnect(id);
    }
    for (const [id, stream] of streams) {
      if (this.sources.has(id) || stream.getAudioTracks().length === 0) continue;
      try {
        const context = (this.context ??= new this.AudioContextClass());
        // Made outside a user gesture, it may start suspended: let it run where allowed.
        if (context.state === 'suspended') void context.resume().catch(() => undefined);
        const node = context.createMediaStreamSource(stream);
        const analyser = context.createAnalyser();
        analyser.fftSize = 512;
        node.connect(analyser);
        const buffer = new Uint8Array(new ArrayBuffer(analyser.fftSize));
        this.sources.set(id, { stream, node, analyser, buffer, level: 0 });
      } catch {
        // A stream the browser cannot analyse (ended tracks): no level for it.
      }
    }
    if (this.sources.size > 0 && this.timer === undefined) this.schedule();
    if (this.sources.size === 0) this.stopTimer();
  }

  destroy(): void {
    for (const id of [...this.sources.keys()]) this.disconnect(id);
    this.stopTimer();
    void this.context?.close().catch(() => undefined);
    this.context = null;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.sample();
      if (this.sources.size > 0) this.schedule();
    }, LEVEL_SAMPLE_MS);
  }

  private sample(): void {
    const levels: Record<string, number> = {};
    for (const [id, source] of this.sources) {
      source.analyser.getByteTimeDomainData(source.buffer);
      let sum = 0;
      for (const value of source.buffer) {
        const centered = (value - 128) / 128;
        sum += centered * centered;
      }
      const rms = Math.sqrt(sum / source.buffer.length);
      source.level = Math.max(rms, source.level * DECAY);
      levels[id] = source.level;
    }
    this.onLevels(levels);
  }

  private disconnect(id: string): void {
    const source = this.sources.get(id);
    this.sources.delete(id);
    try {
      source?.node.disconnect();
    } catch {
      // already disconnected
    }
  }

  private stopTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
