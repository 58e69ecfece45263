'use client';
import type { NetworkQualityLevel } from '../core/index.js';

export interface QualityIndicatorLabels {
  /** Accessible names of each level (the bars are not read out). */
  excellent: string;
  good: string;
  fair: string;
  poor: string;
  lost: string;
}

export interface QualityIndicatorProps {
  /** The level to show (`CallStats.networkQuality`); null or undefined shows nothing. */
  level: NetworkQualityLevel | null | undefined;
  className?: string;
  labels?: Partial<QualityIndicatorLabels>;
}

export const defaultQualityLabels: QualityIndicatorLabels = {
  excellent: 'Connection excellent',
  good: 'Connection good',
  fair: 'Connection fair',
  poor: 'Connection poor',
  lost: 'Connection lost',
};

const BARS: Record<NetworkQualityLevel, number> = {
  excellent: 4,
  good: 3,
  fair: 2,
  poor: 1,
  lost: 0,
};

/** Four signal bars for a network-quality level, with an accessible name (`role="img"`). */
export function QualityIndicator({ level, className, labels }: QualityIndicatorProps) {
  if (!level) return null;
  const label = { ...defaultQualityLabels, ...labels }[level];
  const lit = BARS[level];
  return (
    <span
      className={className ? `relaycall-quality ${className}` : 'relaycall-quality'}
      role="img"
      aria-label={label}
      title={label}
      data-level={level}
    >
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
        {[0, 1, 2, 3].map((bar) => (
          <rect
            key={bar}
            x={1 + bar * 4}
            y={12 - bar * 3.5}
            width="3"
            height={3 + bar * 3.5}
            rx="0.5"
            fill="currentColor"
            opacity={bar < lit ? 1 : 0.3}
          />
        ))}
      </svg>
    </span>
  );
}
