import type { ClientClock } from '../types.js';

/** How a connected peer recovers its media path after a network change or an ICE failure. */
export interface IceRestartOptions {
  /**
   * How long ICE may stay `disconnected` before a restart, in ms: a short outage (a lost
   * Wi-Fi beacon) often heals by itself. `failed` restarts at once. Default: 3000.
   */
  graceMs?: number;
  /**
   * How long one restart may take to reconnect ICE, in ms, before it counts as failed and the
   * next one starts. Default: 10000.
   */
  attemptTimeoutMs?: number;
  /**
   * Restarts in a row that may fail before the peer gives up: the call then ends `disconnected`
   * (a mesh room drops the participant's connection). With the defaults a dead link ends the
   * call about 3 + 3 × 10 = 33 s after it went down. Default: 3.
   */
  maxAttempts?: number;
  /**
   * Subscribes to network changes that restart ICE (a new network may need new candidates;
   * a burst of changes within 0.5 s restarts once); returns the unsubscriber. Default: `online` on `window` and `change` on
   * `navigator.connection`, where the browser has them (nothing in Node or during SSR).
   */
  onNetworkChange?: (listener: () => void) => () => void;
}

/** What the restarter drives: the peer's ICE state and how to restart it. */
export interface IceRestartHost {
  clock: ClientClock;
  iceState(): RTCIceConnectionState;
  /** Starts an ICE restart (the initiator offers anew; the other side asks it to). */
  restart(): void;
  /** Gives up: the peer ends as an ICE failure. */
  giveUp(): void;
  /** The media path is down and being restored (true), or back (false). */
  reconnecting(reconnecting: boolean): void;
}

/** A request from the other side's restarter arriving this soon after our own restart is moot. */
const REQUEST_DEBOUNCE_MS = 1_000;
/** Network changes come in bursts (`online`, then the connection's `change`): one restart each. */
const NETWORK_SETTLE_MS = 500;

const isUp = (state: RTCIceConnectionState) => state === 'connected' || state === 'completed';

/** Default network changes: `online` on window, `change` on navigator.connection, if present. */
export function browserNetworkChanges(listener: () => void): () => void {
  const win = globalThis as Partial<Pick<Window, 'addEventListener' | 'removeEventListener'>>;
  const nav = globalThis.navigator as { connection?: EventTarget } | undefined;
  const connection =
    typeof nav?.connection?.addEventListener === 'function' ? nav.connection : null;
  win.addEventListener?.('online', listener);
  connection?.addEventListener('change', listener);
  return () => {
    win.removeEventListener?.('online', listener);
    connection?.removeEventListener('change', listener);
  };
}

/**
 * The restart policy of one peer, once its ICE has connected: `disconnected` for `graceMs`,
 * `failed`, a network change or the other side's request start a restart; a restart that has
 * not reconnected after `attemptTimeoutMs` is followed by another, up to `maxAttempts` in a row,
 * then the peer gives up. Before the first connection it does nothing (the call's own timeouts
 * and simple-peer's failure handling apply).
 */
export class IceRestarter {
  private readonly graceMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly unsubscribe: () => void;
  private connectedOnce = false;
  private stopped = false;
  private attempts = 0;
  private attemptStartedAt = -Infinity;
  private timer: unknown = null;
  private networkTimer: unknown = null;
  private isReconnecting = false;

  constructor(
    private readonly host: IceRestartHost,
    options: IceRestartOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 3_000;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.unsubscribe = (options.onNetworkChange ?? browserNetworkChanges)(() =>
      this.networkChanged(),
    );
  }

  /** True while the media path is down and being restored. */
  get reconnecting(): boolean {
    return this.isReconnecting;
  }

  /** True once ICE connected: failures are then restarted instead of ending the peer. */
  get active(): boolean {
    return this.connectedOnce && !this.stopped;
  }

  /** Follows the peer's ICE connection state. */
  iceStateChanged(): void {
    if (this.stopped) return;
    const state = this.host.iceState();
    if (isUp(state)) {
      this.connectedOnce = true;
      this.attempts = 0;
      this.clearTimer();
      this.setReconnecting(false);
      return;
    }
    if (!this.connectedOnce) return;
    const attempting = this.attempts > 0;
    if (state === 'disconnected' && !attempting) {
      this.setReconnecting(true);
      this.timer ??= this.host.clock.setTimeout(() => this.attempt(), this.graceMs);
    } else if (state === 'failed') {
      this.setReconnecting(true);
      // During a restart its own timeout decides; a failure outside one restarts now.
      if (!attempting) this.attempt();
    }
  }

  /** The network changed (`online`, a new connection type): new candidates may be needed. */
  networkChanged(): void {
    if (!this.active || this.networkTimer !== null) return;
    this.networkTimer = this.host.clock.setTimeout(() => {
      this.networkTimer = null;
      if (this.active) this.attempt();
    }, NETWORK_SETTLE_MS);
  }

  /** The other side asks for a restart (only the initiator can offer one). */
  requested(): void {
    if (!this.active) return;
    if (this.host.clock.now() - this.attemptStartedAt < REQUEST_DEBOUNCE_MS) return;
    this.attempt();
  }

  /** Stops for good (the peer closed). */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    if (this.networkTimer !== null) this.host.clock.clearTimeout(this.networkTimer);
    this.networkTimer = null;
    this.unsubscribe();
    this.isReconnecting = false;
  }

  private attempt(): void {
    this.clearTimer();
    if (this.stopped) return;
    if (this.attempts >= this.maxAttempts) {
      this.stop();
      this.host.giveUp();
      return;
    }
    this.attempts += 1;
    this.attemptStartedAt = this.host.clock.now();
    this.setReconnecting(!isUp(this.host.iceState()));
    this.host.restart();
    this.timer = this.host.clock.setTimeout(() => {
      this.timer = null;
      if (isUp(this.host.iceState())) this.iceStateChanged();
      else this.attempt();
    }, this.attemptTimeoutMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.host.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private setReconnecting(reconnecting: boolean): void {
    if (this.isReconnecting === reconnecting || this.stopped) return;
    this.isReconnecting = reconnecting;
    this.host.reconnecting(reconnecting);
  }
}
