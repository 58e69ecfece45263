'use client';
import type { DialerKey, DialerLabels } from './dialerLabels.js';

/** The keypad keys, in keypad order. */
export const DIALER_KEYS: readonly DialerKey[] = [
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  '*',
  '0',
  '#',
];

/** Whether `key` (a KeyboardEvent key) is one of the keypad keys. */
export function isDialerKey(key: string): key is DialerKey {
  return (DIALER_KEYS as readonly string[]).includes(key);
}

export interface DialerKeypadProps {
  labels: DialerLabels;
  disabled: boolean;
  onPress: (key: DialerKey) => void;
}

/** Twelve real buttons in a labelled group. */
export function DialerKeypad({ labels, disabled, onPress }: DialerKeypadProps) {
  return (
    <div className="relaycall-dialer__keypad" role="group" aria-label={labels.keypad}>
      {DIALER_KEYS.map((key) => (
        <button
          key={key}
          type="button"
          className="relaycall-dialer__key"
          aria-label={labels.key(key)}
          disabled={disabled}
          onClick={() => onPress(key)}
        >
          {key}
        </button>
      ))}
    </div>
  );
}
