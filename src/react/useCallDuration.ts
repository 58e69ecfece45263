'use client';
import { useMemo, useSyncExternalStore } from 'react';
import type { CallSnapshot } from '../core/index.js';

interface SecondsTicker {
  subscribe: (onChange: () => void) => () => void;
  getSnapshot: () => number;
}

const noSubscription = () => () => undefined;
const zero = () => 0;

/** Whole seconds since `startedAt`, ticking on each full second of the call while subscribed. */
function createTicker(startedAt: number): SecondsTicker {
  const elapsed = () => Math.max(0, Math.floor((Date.now() - startedAt) / 1000));
  let seconds = elapsed();
  return {
    getSnapshot: () => seconds,
    subscribe(onChange) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const schedule = () => {
        const untilNextSecond = 1000 - ((Date.now() - startedAt) % 1000);
        timer = setTimeout(() => {
          seconds = elapsed();
          onChange();
          schedule();
        }, untilNextSecond + 1);
      };
      seconds = elapsed(); // React re-reads the snapshot right after subscribing.
      schedule();
      return () => clearTimeout(timer);
    },
  };
}

/**
 * Seconds the call has been in progress: ticks once a second while it is active
 * or held (and only then), frozen once it ended, 0 before it started.
 */
export function useCallDuration(call: CallSnapshot | null): number {
  const startedAt = call?.startedAt ?? null;
  const endedAt = call?.endedAt ?? null;
  const running =
    startedAt !== null && endedAt === null && (call?.state === 'active' || call?.state === 'held');
  const ticker = useMemo(
    () => (running && startedAt !== null ? createTicker(startedAt) : null),
    [running, startedAt],
  );
  const seconds = useSyncExternalStore(
    ticker?.subscribe ?? noSubscription,
    ticker?.getSnapshot ?? zero,
    zero,
  );
  if (startedAt === null) return 0;
  if (endedAt !== null) return Math.max(0, Math.floor((endedAt - startedAt) / 1000));
  return running ? seconds : 0;
}
