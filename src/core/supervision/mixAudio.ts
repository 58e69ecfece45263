/** One audio track carrying several: the microphone mixed with other audio. */
export interface AudioMix {
  /** The mixed track to send. */
  readonly track: MediaStreamTrack;
  /** Mixes `mic` in place of the previous microphone track (a device switch). */
  setMic(mic: MediaStreamTrack | null): void;
  /** Mixes `others` beside the microphone, in place of the previous ones. */
  setOthers(others: readonly MediaStreamTrack[]): void;
  /** Stops the mix and closes its AudioContext (the source tracks keep running). */
  close(): void;
}

/**
 * Mixes the party's microphone with other audio with Web Audio, into one track: what a gateway
 * call's browser party sends its supervisors (the microphone and the far end, the phone
 * customer), and its far end while a supervisor barges (the microphone and the supervisors). The
 * microphone's `enabled` follows the call's mute (a disabled track mixes as silence). Null
 * without Web Audio.
 */
export function mixAudio(
  AudioContextCtor: typeof AudioContext | undefined,
  mic: MediaStreamTrack | null,
  others: readonly MediaStreamTrack[],
): AudioMix | null {
  if (!AudioContextCtor) return null;
  let context: AudioContext;
  try {
    context = new AudioContextCtor();
  } catch {
    return null;
  }
  const destination = context.createMediaStreamDestination();
  /** The source node of each track mixed now. */
  const sources = new Map<MediaStreamTrack, AudioNode>();
  /** Mixes exactly `tracks` (the microphone and the others). */
  const mixOnly = (tracks: (MediaStreamTrack | null)[]) => {
    for (const [track, node] of sources) {
      if (tracks.includes(track)) continue;
      node.disconnect();
      sources.delete(track);
    }
    for (const track of tracks) {
      if (!track || sources.has(track)) continue;
      const node = context.createMediaStreamSource(new MediaStream([track]));
      node.connect(destination);
      sources.set(track, node);
    }
  };
  let micTrack = mic;
  let otherTracks = others;
  mixOnly([mic, ...others]);
  // Created outside a click, the context may start suspended: it mixes nothing until resumed.
  void context.resume().catch(() => undefined);
  const track = destination.stream.getAudioTracks()[0]!;
  return {
    track,
    setMic(next) {
      micTrack = next;
      mixOnly([next, ...otherTracks]);
    },
    setOthers(next) {
      otherTracks = next;
      mixOnly([micTrack, ...next]);
    },
    close() {
      mixOnly([]);
      track.stop();
      void context.close().catch(() => undefined);
    },
  };
}
