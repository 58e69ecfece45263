import type { NetworkQualityLevel } from './statsTypes.js';

/**
 * An audio MOS (mean opinion score, 1-4.5) estimate after the ITU-T G.107 E-model, in the
 * simplified form common to VoIP monitoring (Cole & Rosenbluth, 2001):
 *
 * - effective one-way latency `L = rtt / 2 + 2 × jitter + 10` ms (the jitter buffer holds about
 *   twice the jitter; 10 ms for the codec);
 * - delay impairment `Id = L / 40` when `L < 160` ms, else `(L − 120) / 10`;
 * - loss impairment `Ie = 2.5 × loss %` (`packetLoss` is a fraction, 0-1);
 * - `R = 93.2 − Id − Ie`, clamped to 0-100;
 * - `MOS = 1 + 0.035 R + 7·10⁻⁶ R (R − 60)(100 − R)`.
 *
 * A perfect connection scores about 4.4. `rttMs` and `jitterMs` in ms.
 */
export function estimateMos(rttMs: number, jitterMs: number, packetLoss: number): number {
  const latency = Math.max(0, rttMs) / 2 + 2 * Math.max(0, jitterMs) + 10;
  const delay = latency < 160 ? latency / 40 : (latency - 120) / 10;
  const loss = 2.5 * 100 * Math.min(1, Math.max(0, packetLoss));
  const r = Math.min(100, Math.max(0, 93.2 - delay - loss));
  const mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return Math.round(Math.min(4.5, Math.max(1, mos)) * 100) / 100;
}

/**
 * The network-quality level of a sample: `lost` when the connection is down or nothing arrives
 * while media is expected, else by MOS (≥ 4.0 excellent, ≥ 3.6 good, ≥ 3.1 fair, else poor);
 * null without a MOS (and not lost).
 */
export function networkQuality(mos: number | null, lost: boolean): NetworkQualityLevel | null {
  if (lost) return 'lost';
  if (mos === null) return null;
  if (mos >= 4) return 'excellent';
  if (mos >= 3.6) return 'good';
  if (mos >= 3.1) return 'fair';
  return 'poor';
}
