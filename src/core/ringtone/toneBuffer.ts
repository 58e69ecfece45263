/** Each tone: its two frequencies (Hz), its on/off cadence (s, alternating, from on) and cycle. */
const TONES = {
  ring: { hz: [400, 450], cadence: [0.4, 0.2, 0.4, 2] },
  ringback: { hz: [440, 480], cadence: [2, 4] },
} as const;

/** Fade in and out over this long (s): a tone switched on and off at once clicks. */
const FADE = 0.01;

/** One cycle of `tone`, rendered for `context` (played looped for the whole ring). */
export function toneBuffer(context: BaseAudioContext, tone: 'ring' | 'ringback'): AudioBuffer {
  const { hz, cadence } = TONES[tone];
  const rate = context.sampleRate;
  const length = Math.round(cadence.reduce((sum, s) => sum + s, 0) * rate);
  const buffer = context.createBuffer(1, length, rate);
  const data = buffer.getChannelData(0);
  let start = 0;
  for (let i = 0; i < cadence.length; i += 2) {
    const on = cadence[i] ?? 0;
    const count = Math.round(on * rate);
    for (let n = 0; n < count; n += 1) {
      const t = n / rate;
      const envelope = Math.min(1, t / FADE, (on - t) / FADE);
      const wave = hz.reduce((sum, f) => sum + Math.sin(2 * Math.PI * f * t), 0) / hz.length;
      data[start + n] = 0.5 * envelope * wave;
    }
    start += Math.round((on + (cadence[i + 1] ?? 0)) * rate);
  }
  return buffer;
}
