/**
 * Counts failed authentications per client address in fixed windows. Memory is
 * bounded: past `maxAddresses` the oldest windows are forgotten first.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxAddresses = 10_000,
  ) {}

  /** ms until `address` may try again, or 0 when it is not blocked. */
  retryAfter(address: string): number {
    const window = this.current(address);
    if (!window || window.failures < this.maxFailures) return 0;
    return window.start + this.windowMs - this.now();
  }

  recordFailure(address: string): void {
    const window = this.current(address);
    if (window) {
      window.failures += 1;
      return;
    }
    if (this.windows.size >= this.maxAddresses) this.evict();
    this.windows.set(address, { start: this.now(), failures: 1 });
  }

  private current(address: string) {
    const window = this.windows.get(address);
    if (window && this.now() - window.start >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private evict(): void {
    const now = this.now();
    for (const [address, window] of this.windows) {
      if (now - window.start >= this.windowMs) this.windows.delete(address);
    }
    // Map iteration is insertion order, so the first key is the oldest window.
    const oldest = this.windows.keys().next();
    if (this.windows.size >= this.maxAddresses && !oldest.done) this.windows.delete(oldest.value);
  }
}
