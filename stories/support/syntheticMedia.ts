/**
 * A stand-in camera and microphone for scripted counterparts: an animated canvas with a name on
 * it and a silent audio track. Counterparts pass it as `localStream`, so they never ask for the
 * real camera (which the story's own user needs) and are easy to tell apart on screen.
 */
export interface SyntheticMedia {
  stream: MediaStream;
  /** Stops the drawing, the tracks and the audio graph. */
  stop(): void;
}

export function syntheticMedia(label: string, hue = 210): SyntheticMedia {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 240;
  const context = canvas.getContext('2d');
  let frame = 0;
  const draw = () => {
    if (!context) return;
    context.fillStyle = `hsl(${hue} 40% 30%)`;
    context.fillRect(0, 0, canvas.width, canvas.height);
    const x = 160 + Math.cos(frame / 15) * 110;
    const y = 120 + Math.sin(frame / 15) * 70;
    context.fillStyle = `hsl(${(hue + 180) % 360} 70% 65%)`;
    context.beginPath();
    context.arc(x, y, 18, 0, Math.PI * 2);
    context.fill();
    context.fillStyle = 'white';
    context.font = 'bold 28px system-ui, sans-serif';
    context.textAlign = 'center';
    context.fillText(label, 160, 128);
    frame += 1;
  };
  draw();
  // A timer, not requestAnimationFrame: it keeps drawing in background tabs too.
  const timer = setInterval(draw, 1000 / 15);
  const stream = canvas.captureStream(15);

  // A silent audio track: calls carry audio (DTMF needs an audio sender) without making noise.
  const audio = silentAudio();
  stream.addTrack(audio.track);

  return {
    stream,
    stop() {
      clearInterval(timer);
      for (const track of stream.getTracks()) track.stop();
      audio.stop();
    },
  };
}

type TrackGenerator = new (init: { kind: 'audio' | 'video' }) => MediaStreamTrack;

/**
 * A silent audio track. Where the browser has `MediaStreamTrackGenerator` (Chromium), a track
 * that carries no samples at all; elsewhere an AudioContext's. An AudioContext created before the
 * person has clicked in the page cannot start, and Chromium warns about it in the console ("The
 * AudioContext was not allowed to start"), which every story with a counterpart would print.
 */
function silentAudio(): { track: MediaStreamTrack; stop(): void } {
  const Generator = (globalThis as { MediaStreamTrackGenerator?: TrackGenerator })
    .MediaStreamTrackGenerator;
  if (Generator) {
    const track = new Generator({ kind: 'audio' });
    return { track, stop: () => track.stop() };
  }
  const audio = new AudioContext();
  const oscillator = audio.createOscillator();
  const gain = audio.createGain();
  gain.gain.value = 0;
  const destination = audio.createMediaStreamDestination();
  oscillator.connect(gain).connect(destination);
  oscillator.start();
  const [track] = destination.stream.getAudioTracks();
  return {
    track: track!,
    stop() {
      oscillator.stop();
      void audio.close().catch(() => undefined);
    },
  };
}
