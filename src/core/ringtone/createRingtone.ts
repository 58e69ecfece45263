import { createStore } from 'zustand/vanilla';
import type { ReadonlyStore } from '../types.js';
import type { RingtonePlayer } from './RingtonePlayer.js';

/** What a ringtone plays, how loud and where. */
export interface RingtoneOptions {
  /**
   * URL of the sound to play (through an HTMLAudioElement; any format the browser plays).
   * Default: a tone generated with Web Audio (see `tone`), no file needed.
   */
  src?: string;
  /**
   * The generated tone: `ring` (a double ring every 3 s, for incoming calls) or `ringback`
   * (440 + 480 Hz, 2 s on and 4 s off: the callee's phone is ringing). Unused with `src`.
   * Default: `ring`.
   */
  tone?: 'ring' | 'ringback';
  /** Volume, from 0 (silent) to 1 (full). Default: 0.8. */
  volume?: number;
  /** Repeat until stopped; false plays the sound once. Default: true. */
  loop?: boolean;
  /**
   * The audio output device (a `deviceId` of `useDevices().audioOutputs`), applied with
   * `setSinkId` where the browser supports it (elsewhere the default output plays). Default:
   * the default output.
   */
  sinkId?: string;
  /** HTMLAudioElement constructor, for `src`; null: none (SSR). Default: the global Audio. */
  Audio?: (new () => HTMLAudioElement) | null;
  /** Web Audio, for the generated tone; null: none (SSR). Default: the global AudioContext. */
  AudioContext?: (new () => AudioContext) | null;
  /**
   * Where user gestures (`pointerdown`, `keydown`) are listened for while the browser blocks
   * the sound; null: nowhere (call `unlock()` yourself). Default: the global document.
   */
  gestureTarget?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | null;
}

export interface RingtoneState {
  /** The sound is playing now. */
  playing: boolean;
  /**
   * The browser refused to play before a user gesture (autoplay policy): show a "Click to
   * enable sound" hint. The sound starts on the user's next click or key press on the page
   * (or `unlock()`), and `blocked` turns false.
   */
  blocked: boolean;
}

/** A ringtone an app starts while a call rings (useRingtone does it for React apps). */
export interface Ringtone {
  readonly store: ReadonlyStore<RingtoneState>;
  /** Plays (from the start) until `stop()`; does nothing while already playing. */
  start(): void;
  /** Stops playing, and listening for a gesture. */
  stop(): void;
  /**
   * Tries again now, from a user gesture's handler (a click on "Enable sound"): resolves once
   * the sound plays or is known still blocked. Does nothing unless started.
   */
  unlock(): Promise<void>;
  /** Changes options: volume and sinkId at once, the others from the next `start()`. */
  update(options: Pick<RingtoneOptions, 'src' | 'tone' | 'volume' | 'loop' | 'sinkId'>): void;
  /** Stops and lets go of the audio (the AudioContext is closed); `start()` begins anew. */
  destroy(): void;
}

/**
 * Creates a ringtone. Its player (Web Audio tone, audio element, autoplay handling) is loaded
 * on the first `start()`, so apps pay for it only once something rings.
 */
export function createRingtone(options: RingtoneOptions = {}): Ringtone {
  const store = createStore<RingtoneState>()(() => ({ playing: false, blocked: false }));
  let current = options;
  let player: RingtonePlayer | null = null;
  let loading: Promise<RingtonePlayer | null> | null = null;
  let wanted = false;
  const load = () => {
    const mine = (loading ??= import('./RingtonePlayer.js').then(({ RingtonePlayer }) => {
      // Destroyed while loading: a later start() loads anew.
      if (loading !== mine) return null;
      player = new RingtonePlayer(current, (patch) => store.setState(patch));
      return player;
    }));
    return mine;
  };
  return {
    store,
    start() {
      wanted = true;
      if (player) player.start();
      else void load().then((loaded) => wanted && loaded?.start());
    },
    stop() {
      wanted = false;
      player?.stop();
    },
    async unlock() {
      if (wanted) await (await load())?.unlock();
    },
    update(patch) {
      current = { ...current, ...patch };
      player?.update(current);
    },
    destroy() {
      wanted = false;
      player?.destroy();
      player = null;
      loading = null;
      store.setState({ playing: false, blocked: false });
    },
  };
}
