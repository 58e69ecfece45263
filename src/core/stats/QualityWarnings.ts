import type {
  CallStats,
  QualityOptions,
  QualityThreshold,
  QualityThresholds,
  QualityWarning,
  QualityWarningEvent,
  QualityWarningKind,
} from './statsTypes.js';

export const DEFAULT_THRESHOLDS: QualityThresholds = {
  rttMs: { raise: 400, clear: 300 },
  jitterMs: { raise: 30, clear: 20 },
  packetLoss: { raise: 0.05, clear: 0.02 },
  mos: { raise: 3.5, clear: 3.8 },
  bitrateIn: { raise: 5_000, clear: 10_000 },
  microphoneLevel: { raise: 0.0005, clear: 0.002 },
};

interface Rule {
  kind: QualityWarningKind;
  threshold: keyof QualityThresholds;
  /** Raised above the threshold (else below). */
  above: boolean;
  value(stats: CallStats, expectsMedia: boolean): number | null;
}

const worse = (a: number | null, b: number | null) =>
  a === null ? b : b === null ? a : Math.max(a, b);

const RULES: readonly Rule[] = [
  { kind: 'high-rtt', threshold: 'rttMs', above: true, value: (s) => s.rttMs },
  { kind: 'high-jitter', threshold: 'jitterMs', above: true, value: (s) => s.jitterMs },
  {
    kind: 'high-packet-loss',
    threshold: 'packetLoss',
    above: true,
    value: (s) => worse(s.packetLossIn, s.packetLossOut),
  },
  { kind: 'low-mos', threshold: 'mos', above: false, value: (s) => s.mos },
  {
    kind: 'low-bitrate-in',
    threshold: 'bitrateIn',
    above: false,
    value: (s, expectsMedia) => (expectsMedia ? s.bitrateIn : null),
  },
  {
    kind: 'silent-microphone',
    threshold: 'microphoneLevel',
    above: false,
    value: (s) => s.audioLevelOut,
  },
];

/** Where a connection's warnings belong. */
export type WarningSource = Pick<QualityWarning, 'callId' | 'room' | 'participantId'>;

interface Track {
  active: QualityWarning | null;
  /** Consecutive samples past `raise` (inactive) or past `clear` (active). */
  count: number;
}

/**
 * The warnings of one connection, with hysteresis: a warning is raised once its figure is past
 * the `raise` threshold for `raiseAfter` consecutive samples, and cleared only once it is back
 * past the `clear` threshold for `clearAfter` consecutive ones. A figure that cannot be measured
 * (no RTT yet, the microphone muted, the call on hold) counts toward clearing.
 */
export class QualityWarnings {
  private readonly tracks = new Map<QualityWarningKind, Track>();
  private readonly thresholds: QualityThresholds;
  private readonly raiseAfter: number;
  private readonly clearAfter: number;

  constructor(
    private readonly source: WarningSource,
    options: QualityOptions = {},
  ) {
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
    this.raiseAfter = Math.max(1, options.raiseAfter ?? 3);
    this.clearAfter = Math.max(1, options.clearAfter ?? 3);
  }

  /** The warnings raised now. */
  get active(): QualityWarning[] {
    return [...this.tracks.values()].flatMap((track) => (track.active ? [track.active] : []));
  }

  /** Judges one sample; returns the warnings it raised or cleared. */
  update(stats: CallStats, expectsMedia: boolean): QualityWarningEvent[] {
    const events: QualityWarningEvent[] = [];
    for (const rule of RULES) {
      const track = this.tracks.get(rule.kind) ?? { active: null, count: 0 };
      this.tracks.set(rule.kind, track);
      const value = rule.value(stats, expectsMedia);
      const limits: QualityThreshold = this.thresholds[rule.threshold];
      const past = (limit: number) =>
        value !== null && (rule.above ? value > limit : value < limit);
      if (!track.active) {
        track.count = past(limits.raise) ? track.count + 1 : 0;
        if (track.count < this.raiseAfter || value === null) continue;
        track.active = {
          kind: rule.kind,
          ...this.source,
          value,
          threshold: limits.raise,
          since: stats.at,
        };
        track.count = 0;
        events.push({ type: 'raised', warning: track.active });
      } else {
        // Between the thresholds neither raises nor clears: the count starts over.
        const back = value === null || !past(limits.clear);
        track.count = back ? track.count + 1 : 0;
        if (track.count < this.clearAfter) continue;
        events.push({ type: 'cleared', warning: track.active });
        track.active = null;
        track.count = 0;
      }
    }
    return events;
  }
}
