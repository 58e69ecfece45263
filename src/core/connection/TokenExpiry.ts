import type { StoreApi } from 'zustand/vanilla';
import { refreshDelay } from '../tokenSchedule.js';
import type { ClientClock, RelayClientState, TokenExpiringEvent } from '../types.js';

/**
 * Tells the app when the session's JWT is about to expire, so an app without React (and
 * without `<RelayProvider fetchToken>`) fetches a fresher one and calls `updateToken` on time:
 * once per token, `marginMs` before its expiry on the Relay's clock (the client's clock skew
 * taken into account). A new token (`updateToken`, a reconnect) schedules afresh.
 */
export class TokenExpiry {
  private readonly listeners = new Set<(event: TokenExpiringEvent) => void>();
  private timer: unknown;
  private unsubscribe: (() => void) | null = null;
  /** The expiry the timer is set for (server clock, ms since the epoch). */
  private scheduled: number | null = null;

  constructor(
    private readonly store: StoreApi<RelayClientState>,
    private readonly clock: ClientClock,
    /** How long before expiry, in ms; undefined: a fifth of the lifetime, 5 s to 60 s. */
    private readonly marginMs: number | undefined,
  ) {}

  /** Calls `listener` each time the token is about to expire; returns the unsubscriber. */
  listen(listener: (event: TokenExpiringEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.unsubscribe) {
      this.unsubscribe = this.store.subscribe((state) => this.plan(state));
      this.plan(this.store.getState());
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.clock.clearTimeout(this.timer);
    this.scheduled = null;
  }

  private plan({ expiresAt, clockOffset, status }: RelayClientState): void {
    // Only a live session's token: a client that gave up or disconnected asks for nothing.
    const live = status === 'connected' || status === 'reconnecting';
    const next = live ? expiresAt : null;
    if (next === this.scheduled) return;
    this.clock.clearTimeout(this.timer);
    this.scheduled = next;
    if (next === null) return;
    const delay = refreshDelay({
      expiresAt: next,
      clockOffset,
      now: this.clock.now(),
      ...(this.marginMs !== undefined ? { marginMs: this.marginMs } : {}),
    });
    this.timer = this.clock.setTimeout(() => {
      const { expiresAt: current, clockOffset: offset } = this.store.getState();
      if (current !== next) return;
      const event: TokenExpiringEvent = {
        expiresAt: next,
        expiresInMs: Math.max(0, next - offset - this.clock.now()),
      };
      for (const listener of [...this.listeners]) listener(event);
    }, delay);
  }
}
