/**
 * One side of the SIP call-setup bench (bench/sip/sipCallBench.mjs drives it through Playwright):
 * a RelayClient in its own Chromium page. The `caller` page places audio-only calls, to a `sip:`
 * URI through the Relay's SIP gateway (Janus's SIP plugin, sipp answering and echoing RTP) or to
 * the `callee` page's resource (a browser-to-browser call); the `callee` page answers every
 * incoming call at once, audio only.
 *
 * Each call is timed from just before `client.call()` (t0) to (a) the call's state `active` and
 * (b) the first inbound audio RTP packet: `inbound-rtp` audio `packetsReceived` > 0 in getStats
 * of a peer connection the caller created after t0 (polled every POLL_MS). Every peer connection
 * of the page is created with `iceServers: []` (host candidates only, inside the namespace).
 */
import { createRelayClient, type RelayClient } from 'relaycall/core';

export interface SetupConfig {
  relayUrl: string;
  token: string;
  role: 'caller' | 'callee';
  /** Bound on each wait inside one call, in ms. */
  stepTimeoutMs: number;
}

export interface Sample {
  /** t0 → state `active`, in ms. */
  activeMs: number;
  /** t0 → first inbound audio packet seen in getStats, in ms. */
  firstAudioMs: number;
  /** First time each named event happened, in ms after t0. */
  marks: Record<string, number>;
}

/** getStats polling interval while waiting for the first audio packet, in ms. */
const POLL_MS = 5;
const AUDIO_ONLY = { audio: true, video: false } as const;

let config: SetupConfig;
let client: RelayClient | undefined;
let marks: Record<string, number> | null = null;
let t0 = 0;
/** Peer connections created during the current call. */
let callConnections: RTCPeerConnection[] = [];

function mark(label: string): void {
  if (marks && !(label in marks)) marks[label] = performance.now() - t0;
}

const Native = window.RTCPeerConnection;
class BenchRTCPeerConnection extends Native {
  constructor(configuration?: RTCConfiguration) {
    if (configuration?.iceServers?.length) {
      throw new Error('bench: an RTCPeerConnection asked for ICE servers; only [] is allowed.');
    }
    super({ ...configuration, iceServers: [] });
    if (marks) {
      callConnections.push(this);
      mark('peer connection created');
    }
    this.addEventListener('iceconnectionstatechange', () => {
      if (this.iceConnectionState === 'connected') mark('ICE connected');
    });
    this.addEventListener('connectionstatechange', () => {
      if (this.connectionState === 'connected') mark('peer connection connected (ICE+DTLS)');
    });
  }
}
window.RTCPeerConnection = BenchRTCPeerConnection;

function within<T>(promise: Promise<T>, label: string, ms = config.stepTimeoutMs): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function until(predicate: () => boolean): Promise<void> {
  const store = (client as RelayClient).store;
  if (predicate()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = store.subscribe(() => {
      if (predicate()) {
        stop();
        resolve();
      }
    });
  });
}

/** Whether any of the call's peer connections has received an audio RTP packet. */
async function audioArrived(): Promise<boolean> {
  for (const pc of callConnections) {
    if (pc.connectionState === 'closed') continue;
    let seen = false;
    (await pc.getStats()).forEach(
      (report: { type: string; kind?: string; packetsReceived?: number }) => {
        if (
          report.type === 'inbound-rtp' &&
          report.kind === 'audio' &&
          (report.packetsReceived ?? 0) > 0
        ) {
          seen = true;
        }
      },
    );
    if (seen) return true;
  }
  return false;
}

async function firstAudio(stopped: { done: boolean }): Promise<number> {
  while (!stopped.done) {
    if (await audioArrived()) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error('stopped');
}

async function run(to: string): Promise<Sample> {
  const caller = client as RelayClient;
  const own: Record<string, number> = {};
  marks = own;
  callConnections = [];
  let callId = '';
  let activeAt = 0;
  let resolveActive!: () => void;
  let rejectActive!: (error: Error) => void;
  const active = new Promise<void>((resolve, reject) => {
    resolveActive = resolve;
    rejectActive = reject;
  });
  const stopSubscription = caller.store.subscribe((state) => {
    const call = state.calls[callId];
    if (!call) return;
    if (call.localStream) mark('caller: microphone acquired');
    if (call.state !== 'dialing') mark(`state ${call.state}`);
    if (call.remoteStream) mark('remote stream');
    if (call.state === 'active' && !activeAt) {
      activeAt = performance.now();
      resolveActive();
    }
    if (call.state === 'ended') {
      rejectActive(
        new Error(
          `call ended: ${call.endReason}${call.sipStatus ? ` (SIP ${call.sipStatus})` : ''}`,
        ),
      );
    }
  });
  const polling = { done: false };
  try {
    t0 = performance.now();
    callId = caller.call(to, AUDIO_ONLY);
    const audio = firstAudio(polling);
    audio.catch(() => undefined);
    await within(active, `${to}: state active`);
    const audioAt = await within(audio, `${to}: first inbound audio packet`);
    own['first inbound audio packet'] = audioAt - t0;
    return { activeMs: activeAt - t0, firstAudioMs: audioAt - t0, marks: own };
  } catch (error) {
    const events = Object.entries(own).map(([label, at]) => `${label} @${at.toFixed(1)}`);
    throw new Error(`${String(error)}; events so far: ${events.join(', ')}`, { cause: error });
  } finally {
    polling.done = true;
    stopSubscription();
    marks = null;
    if (callId) {
      caller.hangup(callId);
      await within(
        until(() => caller.store.getState().calls[callId]?.state === 'ended'),
        'caller: ended',
      ).catch(() => undefined);
      caller.dismiss(callId);
    }
    callConnections = [];
  }
}

const bench = {
  async setup(setupConfig: SetupConfig): Promise<void> {
    config = setupConfig;
    client = createRelayClient({ url: config.relayUrl, iceServers: [] });
    await within(client.connect(config.token), 'the client connects');
    if (config.role !== 'callee') return;
    const callee = client;
    const answering = new Set<string>();
    callee.store.subscribe((state) => {
      for (const call of Object.values(state.calls)) {
        if (call.direction === 'incoming' && call.state === 'ringing' && !answering.has(call.id)) {
          answering.add(call.id);
          queueMicrotask(() => void callee.answer(call.id, AUDIO_ONLY).catch(() => undefined));
        }
        if (call.state === 'ended') queueMicrotask(() => callee.dismiss(call.id));
      }
    });
  },
  run,
  /** No call left (the callee has dismissed every ended one). */
  idle: () => Object.keys(client?.store.getState().calls ?? {}).length === 0,
  teardown: () => client?.destroy(),
};
// The page's API for the Node side (not on Window: the calls bench page types that).
Object.assign(globalThis, { bench });
