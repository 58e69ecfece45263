/** One audio track carrying two: what a gateway call's browser party sends its supervisors. */
export interface AudioMix {
  /** The mixed track to send. */
  readonly track: MediaStreamTrack;
  /** Mixes `mic` in place of the previous microphone track (a device switch). */
  setMic(mic: MediaStreamTrack | null): void;
  /** Stops the mix (the source tracks keep running). */
  close(): void;
}

/**
 * Mixes the party's microphone and the far end's audio (the phone customer) with Web Audio, so
 * the supervisor hears both over the link's one audio section. The microphone's `enabled`
 * follows the call's mute (a disabled track mixes as silence). Null without Web Audio.
 */
export function mixAudio(
  AudioContextCtor: typeof AudioContext | undefined,
  mic: MediaStreamTrack | null,
  far: MediaStreamTrack,
): AudioMix | null {
  if (!AudioContextCtor) return null;
  let context: AudioContext;
  try {
    context = new AudioContextCtor();
  } catch {
    return null;
  }
  const destination = context.createMediaStreamDestination();
  const source = (track: MediaStreamTrack) => {
    const node = context.createMediaStreamSource(new MediaStream([track]));
    node.connect(destination);
    return node;
  };
  source(far);
  let micNode = mic ? source(mic) : null;
  let micTrack = mic;
  // Created outside a click, the context may start suspended: it mixes nothing until resumed.
  void context.resume().catch(() => undefined);
  const track = destination.stream.getAudioTracks()[0]!;
  return {
    track,
    setMic(next) {
      if (next === micTrack) return;
      micNode?.disconnect();
      micTrack = next;
      micNode = next ? source(next) : null;
    },
    close() {
      track.stop();
      void context.close().catch(() => undefined);
    },
  };
}
