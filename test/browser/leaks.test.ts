/**
 * Leaks: many sequential calls between two clients in one Chromium page leave nothing behind.
 * Every getUserMedia track and RTCPeerConnection made during the run is recorded, and the
 * listeners added to window, document, navigator.mediaDevices and permission statuses, and the
 * timers the library creates, are counted while live. After each call and after destroy: no live
 * track, every peer connection closed, listener and library timer counts back to where they
 * started, and the Relay's session and call tables back to empty.
 * CI: 100 calls; RELAYCALL_SOAK=1: 500. RELAYCALL_WRITE_RESULTS=1 writes the figures to
 * test/reliability/results/leaks.json.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commands } from 'vitest/browser';
import { createRelayClient, type RelayClient } from 'relaycall/core';
import { fetchToken, until } from './faultKit.js';
import { ringingCall } from './helpers.js';

const { soak } = inject('reliability');
const CALLS = soak ? 500 : 100;

let relay: { id: string; url: string; tokenUrl: string };
beforeAll(async () => {
  // A call every ~0.1 s sends ~60 messages a second per socket, over the default rate limit
  // (50/s, a human pace is far below): this test is about leaks, so the Relay allows more.
  relay = await commands.startRelay({ limits: { messagesPerSecond: 1000, messageBurst: 1000 } });
});
afterAll(() => commands.stopRelay(relay.id));

/** Where the library's own code lives (relaycall sources and the simple-peer bundle). */
const LIBRARY = /\/src\/(core|react|protocol)\/|simple-?peer/i;

/** The frame that called into a wrapper of this file. */
function callerFrame(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  return frames.find((frame) => !frame.includes('leaks.test')) ?? '';
}

/**
 * Wraps the globals the library could leak through, until `restore()`. Counts are of what is
 * live now; `all*` of everything created since `install`.
 */
function installTrackers() {
  const restores: (() => void)[] = [];
  const tracks: MediaStreamTrack[] = [];
  // Weakly held: Chromium refuses a 501st RTCPeerConnection until closed ones are collected, so
  // holding them here would fail the soak (500 calls) on our account, not the library's.
  const peerConnections: WeakRef<RTCPeerConnection>[] = [];

  const mediaDevices = navigator.mediaDevices;
  const getUserMedia = mediaDevices.getUserMedia;
  mediaDevices.getUserMedia = async function (constraints) {
    const stream = await getUserMedia.call(mediaDevices, constraints);
    tracks.push(...stream.getTracks());
    return stream;
  };
  restores.push(() => (mediaDevices.getUserMedia = getUserMedia));

  const NativePeerConnection = globalThis.RTCPeerConnection;
  globalThis.RTCPeerConnection = class extends NativePeerConnection {
    constructor(config?: RTCConfiguration) {
      super(config);
      peerConnections.push(new WeakRef(this));
    }
  };
  restores.push(() => (globalThis.RTCPeerConnection = NativePeerConnection));

  // Listeners on the page-wide targets a client might subscribe to and forget.
  const watched = (target: EventTarget) =>
    target === window ||
    target === document ||
    target === mediaDevices ||
    (typeof PermissionStatus !== 'undefined' && target instanceof PermissionStatus);
  const listeners = new Map<EventTarget, Set<string>>();
  const ids = new WeakMap<object, number>();
  let nextId = 1;
  const keyOf = (type: string, listener: unknown, options: unknown) => {
    const fn = listener as object;
    if (!ids.has(fn)) ids.set(fn, nextId++);
    const capture =
      typeof options === 'boolean' ? options : !!(options as AddEventListenerOptions)?.capture;
    return `${type}|${ids.get(fn)}|${capture}`;
  };
  const { addEventListener, removeEventListener } = EventTarget.prototype;
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if (listener && watched(this)) {
      let set = listeners.get(this);
      if (!set) listeners.set(this, (set = new Set()));
      set.add(keyOf(type, listener, options));
    }
    return addEventListener.call(this, type, listener, options);
  };
  EventTarget.prototype.removeEventListener = function (type, listener, options) {
    if (listener && watched(this)) listeners.get(this)?.delete(keyOf(type, listener, options));
    return removeEventListener.call(this, type, listener, options);
  };
  restores.push(() => {
    EventTarget.prototype.addEventListener = addEventListener;
    EventTarget.prototype.removeEventListener = removeEventListener;
  });

  // Timers: live from creation until they fire (timeouts) or are cleared.
  const timers = new Map<number, { library: boolean; interval: boolean; caller: string }>();
  type Handler = (...args: unknown[]) => void;
  type SetTimer = (handler: Handler, ms?: number, ...args: unknown[]) => number;
  type ClearTimer = (id?: number) => void;
  const native = {
    setTimeout: window.setTimeout as unknown as SetTimer,
    clearTimeout: window.clearTimeout as ClearTimer,
    setInterval: window.setInterval as unknown as SetTimer,
    clearInterval: window.clearInterval as ClearTimer,
  };
  const note = (id: number, interval: boolean) => {
    const caller = callerFrame();
    timers.set(id, { library: LIBRARY.test(caller), interval, caller: caller.trim() });
  };
  const setTimeoutWrapper = (handler: Handler, ms?: number, ...args: unknown[]): number => {
    const id: number = native.setTimeout.call(
      window,
      (...params: unknown[]) => {
        timers.delete(id);
        handler(...params);
      },
      ms,
      ...args,
    );
    note(id, false);
    return id;
  };
  const setIntervalWrapper = (handler: Handler, ms?: number, ...args: unknown[]): number => {
    const id: number = native.setInterval.call(window, handler, ms, ...args);
    note(id, true);
    return id;
  };
  const clear = (native: ClearTimer) => (id?: number) => {
    if (id !== undefined) timers.delete(id);
    native.call(window, id);
  };
  window.setTimeout = setTimeoutWrapper as unknown as typeof window.setTimeout;
  window.setInterval = setIntervalWrapper as unknown as typeof window.setInterval;
  window.clearTimeout = clear(native.clearTimeout) as typeof window.clearTimeout;
  window.clearInterval = clear(native.clearInterval) as typeof window.clearInterval;
  restores.push(() => Object.assign(window, native));

  return {
    tracks,
    peerConnections,
    liveTracks: () => tracks.filter((track) => track.readyState !== 'ended').length,
    openPeerConnections: () =>
      peerConnections
        .map((ref) => ref.deref())
        .filter((pc) => pc && (pc.connectionState !== 'closed' || pc.signalingState !== 'closed'))
        .length,
    /** Peer connections already garbage-collected: nothing (the library included) held them. */
    collectedPeerConnections: () => peerConnections.filter((ref) => !ref.deref()).length,
    listeners: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
    libraryTimers: () => [...timers.values()].filter((timer) => timer.library),
    restore: () =>
      restores
        .splice(0)
        .reverse()
        .forEach((restore) => restore()),
  };
}

/** Waits a few frames: peer connections close and tracks end in tasks after hangup. */
const settle = async (check: () => boolean, ms = 2000) => {
  const start = performance.now();
  while (!check() && performance.now() - start < ms) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
};

describe('leaks', () => {
  it(
    `${CALLS} sequential calls leave no track, peer connection, listener, timer or session`,
    async () => {
      const trackers = installTrackers();
      try {
        const baseline = {
          listeners: trackers.listeners(),
          libraryTimers: trackers.libraryTimers().length,
        };
        const connect = async (resource: string) => {
          const client = createRelayClient({ url: relay.url });
          await client.connect(await fetchToken(relay.tokenUrl, resource));
          return client;
        };
        const alice = await connect('alice-leaks');
        const bob = await connect('bob-leaks');
        const clients: RelayClient[] = [alice, bob];
        // While connected: what two idle clients hold (ping timers, the online listener, …).
        await settle(() => false, 200);
        const idle = {
          listeners: trackers.listeners(),
          libraryTimers: trackers.libraryTimers().length,
        };
        let peakTimers = idle.libraryTimers;
        let peakListeners = idle.listeners;
        const started = performance.now();

        for (let n = 0; n < CALLS; n += 1) {
          // Alternate who calls and who hangs up.
          const [caller, callee, calleeName] =
            n % 2 === 0 ? [alice, bob, 'bob-leaks'] : [bob, alice, 'alice-leaks'];
          const callerCall = caller.call(calleeName, {
            audio: true,
            video: { width: 320, height: 240 },
          });
          const ringing = ringingCall(
            await until(
              callee,
              (s) => !!ringingCall(s),
              () => {
                const call = caller.store.getState().calls[callerCall];
                return `call ${n}: rings; caller ${call?.state} ${call?.endReason ?? ''} ${call?.error?.message ?? ''} (${caller.store.getState().status})`;
              },
            ),
          )!;
          await callee.answer(ringing.id, { audio: true, video: { width: 320, height: 240 } });
          // On a timeout, say where each side and its peer connection stood.
          const where = (what: string) => () => {
            const side = (client: RelayClient, id: string) => {
              const call = client.store.getState().calls[id];
              return `${call?.state} (${client.store.getState().status})`;
            };
            const pcs = trackers.peerConnections
              .slice(-2)
              .map((ref) => ref.deref())
              .map(
                (pc) => `${pc?.signalingState}/${pc?.iceConnectionState}/${pc?.connectionState}`,
              );
            return `call ${n}: ${what}; caller ${side(caller, callerCall)}, callee ${side(callee, ringing.id)}, peer connections ${pcs.join(', ')}`;
          };
          await until(
            caller,
            (s) => s.calls[callerCall]?.state === 'active',
            where('caller active'),
          );
          await until(
            callee,
            (s) => s.calls[ringing.id]?.state === 'active',
            where('callee active'),
          );
          await until(caller, (s) => s.calls[callerCall]?.remoteStream != null, `call ${n}: media`);
          peakTimers = Math.max(peakTimers, trackers.libraryTimers().length);
          peakListeners = Math.max(peakListeners, trackers.listeners());
          const [hangingUp, other, otherCall] =
            n % 4 < 2 ? [caller, callee, ringing.id] : [callee, caller, callerCall];
          hangingUp.hangup(hangingUp === caller ? callerCall : ringing.id);
          await until(
            other,
            (s) => s.calls[otherCall]?.state === 'ended',
            `call ${n}: other side ends`,
          );
          caller.dismiss(callerCall);
          callee.dismiss(ringing.id);
          // Between calls: nothing of the last call is left running.
          await settle(() => trackers.liveTracks() === 0 && trackers.openPeerConnections() === 0);
          expect(trackers.liveTracks(), `call ${n}: live tracks`).toBe(0);
          expect(trackers.openPeerConnections(), `call ${n}: open peer connections`).toBe(0);
        }
        const callsMs = performance.now() - started;
        const between = {
          listeners: trackers.listeners(),
          libraryTimers: trackers.libraryTimers().length,
        };
        // The same as two idle clients: nothing accumulated over the calls.
        expect(between.listeners).toBe(idle.listeners);
        await settle(() => trackers.libraryTimers().length <= idle.libraryTimers);
        expect(trackers.libraryTimers().map((timer) => timer.caller)).toHaveLength(
          idle.libraryTimers,
        );
        expect(alice.store.getState().calls).toEqual({});
        expect(bob.store.getState().calls).toEqual({});
        await expect
          .poll(() => commands.relayStats(relay.id))
          .toMatchObject({ sessions: 2, calls: 0 });

        for (const client of clients) client.destroy();
        await settle(() => trackers.libraryTimers().length === baseline.libraryTimers);
        const after = {
          liveTracks: trackers.liveTracks(),
          openPeerConnections: trackers.openPeerConnections(),
          listeners: trackers.listeners(),
          libraryTimers: trackers.libraryTimers().length,
        };
        expect(trackers.tracks.length).toBe(CALLS * 4);
        expect(trackers.peerConnections.length).toBe(CALLS * 2);
        expect(after.liveTracks).toBe(0);
        expect(after.openPeerConnections).toBe(0);
        expect(after.listeners).toBe(baseline.listeners);
        expect(trackers.libraryTimers().map((timer) => timer.caller)).toEqual([]);
        await expect
          .poll(() => commands.relayStats(relay.id))
          .toMatchObject({ sockets: 0, sessions: 0, calls: 0 });

        const figures = {
          calls: CALLS,
          callsMs: Math.round(callsMs),
          msPerCall: Math.round(callsMs / CALLS),
          tracksCreated: trackers.tracks.length,
          peerConnectionsCreated: trackers.peerConnections.length,
          peerConnectionsCollectedByGc: trackers.collectedPeerConnections(),
          listeners: {
            baseline: baseline.listeners,
            idleClients: idle.listeners,
            peak: peakListeners,
            afterCalls: between.listeners,
            afterDestroy: after.listeners,
          },
          libraryTimers: {
            baseline: baseline.libraryTimers,
            idleClients: idle.libraryTimers,
            peak: peakTimers,
            afterDestroy: after.libraryTimers,
          },
          afterDestroy: {
            liveTracks: after.liveTracks,
            openPeerConnections: after.openPeerConnections,
            relay: await commands.relayStats(relay.id),
          },
        };
        console.log(`leaks: ${JSON.stringify(figures)}`);
        await commands.writeResults('leaks', 'sequentialCalls', figures);
      } finally {
        trackers.restore();
      }
    },
    (soak ? 500 : 100) * 2_000,
  );
});
