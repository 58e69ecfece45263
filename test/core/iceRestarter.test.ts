/**
 * The ICE restart policy of a peer (issue 17) on a manual clock: when it restarts, how it says
 * it is reconnecting, and when it gives up (the call then ends `disconnected`).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from 'relaycall/testing';
import {
  IceRestarter,
  browserNetworkChanges,
  type IceRestartOptions,
} from '../../src/core/peer/IceRestarter.js';

function setup(options: IceRestartOptions = {}) {
  const clock = new ManualClock();
  const seen = { restarts: 0, gaveUp: 0, reconnecting: [] as boolean[], subscribed: 0 };
  let state: RTCIceConnectionState = 'new';
  let networkListener: (() => void) | null = null;
  const restarter = new IceRestarter(
    {
      clock,
      iceState: () => state,
      restart: () => void (seen.restarts += 1),
      giveUp: () => void (seen.gaveUp += 1),
      reconnecting: (reconnecting) => void seen.reconnecting.push(reconnecting),
    },
    {
      onNetworkChange: (listener) => {
        seen.subscribed += 1;
        networkListener = listener;
        return () => {
          seen.subscribed -= 1;
          networkListener = null;
        };
      },
      ...options,
    },
  );
  const ice = (next: RTCIceConnectionState) => {
    state = next;
    restarter.iceStateChanged();
  };
  const networkChange = () => networkListener?.();
  return { clock, seen, restarter, ice, networkChange };
}

describe('IceRestarter', () => {
  it('leaves a peer that never connected alone', () => {
    const { clock, seen, restarter, ice, networkChange } = setup();
    ice('checking');
    ice('failed');
    networkChange();
    restarter.requested();
    clock.advance(60_000);
    expect(restarter.active).toBe(false);
    expect(seen).toMatchObject({ restarts: 0, gaveUp: 0, reconnecting: [] });
  });

  it('restarts after ICE stays disconnected for the grace period (3 s by default)', () => {
    const { clock, seen, restarter, ice } = setup();
    ice('connected');
    ice('disconnected');
    expect(restarter.reconnecting).toBe(true);
    expect(seen.reconnecting).toEqual([true]);
    clock.advance(2_999);
    expect(seen.restarts).toBe(0);
    clock.advance(1);
    expect(seen.restarts).toBe(1);
    ice('checking');
    ice('connected');
    expect(restarter.reconnecting).toBe(false);
    expect(seen.reconnecting).toEqual([true, false]);
    expect(clock.pending()).toEqual([]);
  });

  it('does not restart when a disconnection heals within the grace period', () => {
    const { clock, seen, ice } = setup({ graceMs: 1_000 });
    ice('connected');
    ice('disconnected');
    clock.advance(500);
    ice('connected');
    expect(clock.pending()).toEqual([]);
    expect(seen).toMatchObject({ restarts: 0, reconnecting: [true, false] });
  });

  it('restarts at once on failed', () => {
    const { seen, ice } = setup();
    ice('completed');
    ice('failed');
    expect(seen).toMatchObject({ restarts: 1, reconnecting: [true] });
  });

  it('gives up after maxAttempts restarts that did not reconnect, then stays quiet', () => {
    const { clock, seen, restarter, ice, networkChange } = setup({
      graceMs: 3_000,
      attemptTimeoutMs: 10_000,
      maxAttempts: 3,
    });
    ice('connected');
    ice('disconnected');
    clock.advance(3_000);
    expect(seen.restarts).toBe(1);
    // A failure during a restart waits for that restart's timeout.
    ice('failed');
    expect(seen.restarts).toBe(1);
    clock.advance(10_000);
    expect(seen.restarts).toBe(2);
    clock.advance(10_000);
    expect(seen.restarts).toBe(3);
    clock.advance(9_999);
    expect(seen.gaveUp).toBe(0);
    clock.advance(1);
    // 3 s grace + 3 × 10 s: the documented 33 s.
    expect(seen).toMatchObject({ restarts: 3, gaveUp: 1, subscribed: 0 });
    expect(restarter.active).toBe(false);
    ice('disconnected');
    networkChange();
    clock.advance(60_000);
    expect(seen).toMatchObject({ restarts: 3, gaveUp: 1 });
  });

  it('counts restarts in a row only: reconnecting resets the count', () => {
    const { clock, seen, ice } = setup({ attemptTimeoutMs: 1_000, maxAttempts: 2 });
    ice('connected');
    ice('failed');
    clock.advance(1_000);
    expect(seen.restarts).toBe(2);
    ice('connected');
    ice('failed');
    clock.advance(1_000);
    expect(seen).toMatchObject({ restarts: 4, gaveUp: 0 });
    clock.advance(1_000);
    expect(seen.gaveUp).toBe(1);
  });

  it('restarts once per burst of network changes, without showing reconnecting', () => {
    const { clock, seen, ice, networkChange } = setup();
    ice('connected');
    networkChange();
    networkChange();
    clock.advance(499);
    expect(seen.restarts).toBe(0);
    clock.advance(1);
    networkChange();
    clock.advance(500);
    expect(seen.restarts).toBe(2);
    // ICE stayed up through the restarts: nothing to show, nothing left to time.
    clock.advance(10_000);
    expect(seen).toMatchObject({ restarts: 2, gaveUp: 0, reconnecting: [] });
    expect(clock.pending()).toEqual([]);
  });

  it("ignores the other side's request right after its own restart", () => {
    const { clock, seen, restarter, ice } = setup();
    ice('connected');
    ice('failed');
    restarter.requested();
    expect(seen.restarts).toBe(1);
    clock.advance(1_000);
    restarter.requested();
    expect(seen.restarts).toBe(2);
  });

  it('stop() clears its timers and its network subscription', () => {
    const { clock, seen, restarter, ice, networkChange } = setup();
    expect(seen.subscribed).toBe(1);
    ice('connected');
    ice('disconnected');
    networkChange();
    restarter.stop();
    expect(clock.pending()).toEqual([]);
    expect(seen.subscribed).toBe(0);
    expect(restarter.reconnecting).toBe(false);
  });
});

describe('browserNetworkChanges', () => {
  it('listens to online on window and change on navigator.connection, where present', () => {
    const scope = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
    const saved = { add: scope.addEventListener, remove: scope.removeEventListener };
    const windowTarget = new EventTarget();
    const connection = new EventTarget();
    const savedNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    scope.addEventListener = windowTarget.addEventListener.bind(windowTarget);
    scope.removeEventListener = windowTarget.removeEventListener.bind(windowTarget);
    Object.defineProperty(globalThis, 'navigator', { value: { connection }, configurable: true });
    try {
      let changes = 0;
      const stop = browserNetworkChanges(() => (changes += 1));
      windowTarget.dispatchEvent(new Event('online'));
      connection.dispatchEvent(new Event('change'));
      windowTarget.dispatchEvent(new Event('offline'));
      expect(changes).toBe(2);
      stop();
      windowTarget.dispatchEvent(new Event('online'));
      connection.dispatchEvent(new Event('change'));
      expect(changes).toBe(2);
    } finally {
      scope.addEventListener = saved.add;
      scope.removeEventListener = saved.remove;
      if (savedNavigator) Object.defineProperty(globalThis, 'navigator', savedNavigator);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  });

  it('listens to nothing where there is no window (Node, SSR)', () => {
    const stop = browserNetworkChanges(() => undefined);
    expect(() => stop()).not.toThrow();
  });
});
