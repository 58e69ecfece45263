/** Time source and timers of the Relay, injectable so tests can drive time. */
export interface Clock {
  /** ms since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    // Session timers must never keep a process alive on their own.
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    const timer = handle as ReturnType<typeof setTimeout> | undefined;
    // Node forgets the timer list of a duration once its last timer is cleared only for ref'd
    // timers; unref'd, the empty list stays until that duration has passed. Session expiries
    // all differ (by the millisecond, up to a day away): each would leave one behind.
    timer?.ref?.();
    clearTimeout(timer);
  },
};
