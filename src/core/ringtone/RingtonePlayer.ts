import type { RingtoneOptions, RingtoneState } from './createRingtone.js';
import { toneBuffer } from './toneBuffer.js';

/** How long a suspended AudioContext may take to resume before the sound counts as blocked. */
const RESUME_WAIT_MS = 200;
const GESTURES = ['pointerdown', 'keydown'] as const;

type SinkSettable = { setSinkId?: (id: string) => Promise<void> };

class Blocked extends Error {
  override name = 'NotAllowedError';
}

/** Plays a ringtone: a generated tone through Web Audio, or `src` through an audio element. */
export class RingtonePlayer {
  private audio: HTMLAudioElement | null = null;
  private context: AudioContext | null = null;
  private source: AudioBufferSourceNode | null = null;
  private gain: GainNode | null = null;
  private buffers = new Map<string, AudioBuffer>();
  private wanted = false;
  private listening = false;
  private playing = false;
  /** Counts starts, so a play that settles after a stop (or a newer start) stays silent. */
  private run = 0;

  constructor(
    private options: RingtoneOptions,
    private readonly report: (patch: Partial<RingtoneState>) => void,
  ) {}

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    void this.play();
  }

  stop(): void {
    this.wanted = false;
    this.run += 1;
    this.unlisten();
    this.halt();
    this.publish({ playing: false, blocked: false });
  }

  unlock(): Promise<void> {
    return this.wanted && !this.playing ? this.play() : Promise.resolve();
  }

  update(options: RingtoneOptions): void {
    this.options = options;
    const volume = this.volume();
    if (this.audio) this.audio.volume = volume;
    if (this.gain) this.gain.gain.value = volume;
    void this.sink(this.audio ?? (this.context as SinkSettable | null));
  }

  destroy(): void {
    this.stop();
    void this.context?.close().catch(() => undefined);
    this.context = null;
    this.audio?.removeAttribute('src');
    this.audio = null;
  }

  /** Starts the sound; when the browser blocks it, waits for a gesture. */
  private async play(): Promise<void> {
    const run = ++this.run;
    this.halt();
    try {
      // Nothing awaited before play() or resume(): a gesture's activation then surely holds.
      await (this.options.src === undefined ? this.playTone(run) : this.playSrc());
      if (run !== this.run) return;
      this.unlisten();
      this.publish({ playing: true, blocked: false });
    } catch (error) {
      if (run !== this.run) return;
      this.halt();
      const blocked = (error as { name?: unknown } | null)?.name === 'NotAllowedError';
      if (blocked) this.listen();
      this.publish({ playing: false, blocked });
    }
  }

  private async playSrc(): Promise<void> {
    const Audio = this.options.Audio === undefined ? globalThis.Audio : this.options.Audio;
    if (!Audio) throw new Error('no audio element here');
    const audio = (this.audio ??= new Audio());
    audio.onended = () => this.ended();
    if (audio.getAttribute('src') !== this.options.src) audio.src = this.options.src ?? '';
    audio.loop = this.options.loop ?? true;
    audio.volume = this.volume();
    audio.currentTime = 0;
    const playing = audio.play();
    await this.sink(audio);
    await playing;
  }

  private async playTone(run: number): Promise<void> {
    const AudioContext =
      this.options.AudioContext === undefined
        ? (globalThis as { AudioContext?: new () => AudioContext }).AudioContext
        : this.options.AudioContext;
    if (!AudioContext) throw new Error('no Web Audio here');
    const context = (this.context ??= new AudioContext());
    if (context.state !== 'running') {
      // Chromium leaves resume() pending (not rejected) until a gesture: wait a moment only.
      const resumed = context.resume().catch(() => undefined);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = new Promise((resolve) => (timer = setTimeout(resolve, RESUME_WAIT_MS)));
      await Promise.race([resumed, waited]);
      clearTimeout(timer);
      if ((context.state as string) !== 'running') throw new Blocked('autoplay blocked');
    }
    await this.sink(context as unknown as SinkSettable);
    if (run !== this.run) return;
    const tone = this.options.tone ?? 'ring';
    let buffer = this.buffers.get(tone);
    if (!buffer) this.buffers.set(tone, (buffer = toneBuffer(context, tone)));
    const gain = (this.gain ??= context.createGain());
    gain.gain.value = this.volume();
    gain.connect(context.destination);
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.loop = this.options.loop ?? true;
    source.connect(gain);
    source.onended = () => this.source === source && this.ended();
    source.start();
    this.source = source;
  }

  private publish(patch: Partial<RingtoneState>): void {
    if (patch.playing !== undefined) this.playing = patch.playing;
    this.report(patch);
  }

  /** A sound played once came to its end. */
  private ended(): void {
    if (!this.wanted || (this.options.loop ?? true)) return;
    this.publish({ playing: false });
  }

  private halt(): void {
    const source = this.source;
    this.source = null;
    try {
      source?.stop();
    } catch {
      // Never started: nothing to stop.
    }
    this.audio?.pause();
  }

  private volume(): number {
    return Math.min(1, Math.max(0, this.options.volume ?? 0.8));
  }

  /** Routes `target` to the chosen output; unsupported or refused: the default output plays. */
  private async sink(target: SinkSettable | null): Promise<void> {
    const id = this.options.sinkId;
    if (id === undefined || typeof target?.setSinkId !== 'function') return;
    await target.setSinkId(id).catch(() => undefined);
  }

  private listen(): void {
    const target = this.target();
    if (this.listening || !target) return;
    this.listening = true;
    for (const type of GESTURES) target.addEventListener(type, this.onGesture, true);
  }

  private unlisten(): void {
    const target = this.target();
    if (!this.listening || !target) return;
    this.listening = false;
    for (const type of GESTURES) target.removeEventListener(type, this.onGesture, true);
  }

  private readonly onGesture = () => {
    this.unlisten();
    if (this.wanted) void this.play();
  };

  private target() {
    return this.options.gestureTarget === undefined
      ? (globalThis.document as Document | undefined)
      : this.options.gestureTarget;
  }
}
