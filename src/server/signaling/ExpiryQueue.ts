import type { Clock } from '../clock.js';

/** What the queue orders: anything with an expiry, and a slot for its place in the queue. */
export interface Expiring {
  /** ms since the epoch. */
  readonly expiresAt: number;
  /** Its index in the queue; -1 while not queued. Only the queue writes it. */
  expiryIndex: number;
}

/** Longest delay a Node timer takes (a longer one fires at once): the queue re-arms after it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Ends whatever expires when it expires, with one timer for all of them: a binary heap by
 * expiry and a timer for the soonest. A timer per session (a Timeout, its closure and a timer
 * list per distinct delay) cost about 250 bytes of every idle session.
 */
export class ExpiryQueue<T extends Expiring> {
  private readonly heap: T[] = [];
  private timer: unknown = undefined;
  /** The expiry the timer is set for (NaN: no timer). */
  private armedFor = Number.NaN;

  constructor(
    private readonly clock: Clock,
    private readonly expired: (item: T) => void,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Queues `item` at its current `expiresAt`, or moves it there if it was queued already. */
  schedule(item: T): void {
    if (item.expiryIndex < 0) {
      item.expiryIndex = this.heap.length;
      this.heap.push(item);
    }
    this.restore(item.expiryIndex);
    this.arm();
  }

  /** Takes `item` out of the queue (no-op when it is not queued). */
  cancel(item: T): void {
    const at = item.expiryIndex;
    if (at < 0) return;
    this.removeAt(at);
    this.arm();
  }

  /** Stops the timer; the queue keeps its items. */
  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.NaN;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Number.NaN;
    const now = this.clock.now();
    for (;;) {
      const first = this.heap[0];
      if (first === undefined || first.expiresAt > now) break;
      this.removeAt(0);
      this.expired(first);
    }
    this.arm();
  };

  /** Sets the timer for the soonest expiry, if it is not set for it already. */
  private arm(): void {
    const first = this.heap[0];
    if (first === undefined) {
      this.stop();
      return;
    }
    if (first.expiresAt === this.armedFor) return;
    this.clock.clearTimeout(this.timer);
    this.armedFor = first.expiresAt;
    const delay = Math.max(0, first.expiresAt - this.clock.now());
    this.timer = this.clock.setTimeout(this.fire, Math.min(delay, MAX_TIMER_MS));
  }

  private removeAt(at: number): void {
    const { heap } = this;
    const item = heap[at] as T;
    const last = heap.pop() as T;
    item.expiryIndex = -1;
    if (last === item) return;
    heap[at] = last;
    last.expiryIndex = at;
    this.restore(at);
  }

  /** Moves the item at `at` up or down to where its expiry belongs. */
  private restore(at: number): void {
    const { heap } = this;
    const item = heap[at] as T;
    let i = at;
    while (i > 0) {
      const parentAt = (i - 1) >> 1;
      const parent = heap[parentAt] as T;
      if (parent.expiresAt <= item.expiresAt) break;
      heap[i] = parent;
      parent.expiryIndex = i;
      i = parentAt;
    }
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      let child = left;
      if (right < heap.length && (heap[right] as T).expiresAt < (heap[left] as T).expiresAt) {
        child = right;
      }
      const smaller = heap[child] as T;
      if (smaller.expiresAt >= item.expiresAt) break;
      heap[i] = smaller;
      smaller.expiryIndex = i;
      i = child;
    }
    heap[i] = item;
    item.expiryIndex = i;
  }
}
