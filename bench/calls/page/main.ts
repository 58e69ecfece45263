/**
 * The call-setup bench page (bench/calls/callSetupBench.mjs drives it through Playwright).
 *
 * Three ways to place the same audio+video call inside this one page, each timed from just
 * before the call is placed (t0) to the first remote video frame presented at the caller (t1,
 * `requestVideoFrameCallback` on a muted, playing `<video>` in the DOM):
 *
 * - `relaycall`: two `createRelayClient`s (alice, bob) connected to the Relay beforehand; bob
 *   answers every incoming call at once; t0 just before `alice.call('bob')`.
 * - `floor`: two simple-peer peers (the same `simplepeer.min.js` build relaycall loads), their
 *   signals handed over directly, no server.
 * - `peerjs`: two PeerJS peers open on the PeerJS server beforehand; t0 just before
 *   `peer.call(id, stream)`, the callee answers with its stream on `call`.
 *
 * Two media modes, the same for all three. `in-call`: media is acquired inside the timed region,
 * the way an app does it: the caller asks for camera and microphone when it places the call, the
 * callee when it learns of the call (relaycall does this itself in `call()` and `answer()`).
 * `beforehand`: both sides use a camera and microphone stream acquired at setup and kept running
 * (relaycall's `localStream` option), so the time is signaling and WebRTC only. `camera` is a
 * reference, not a call: getUserMedia to the first frame of that local stream in a `<video>`.
 *
 * Every RTCPeerConnection of the page is created with `iceServers: []` (host candidates on
 * loopback only): the constructor is wrapped to refuse anything else, and to mark when the
 * connection is up (ICE and DTLS).
 */
import {
  createRelayClient,
  type MediaOptions,
  type RelayClient,
  type WebSocketFactory,
} from 'relaycall/core';
import SimplePeer from 'simple-peer/simplepeer.min.js';
import { Peer, type MediaConnection } from 'peerjs';

export interface BenchConfig {
  relayUrl: string;
  tokens: { alice: string; bob: string };
  peerjs: { host: string; port: number; path: string; key: string; ids: [string, string] };
  /** Bound on each wait inside one call, in ms. */
  stepTimeoutMs: number;
}

export type Scenario = 'relaycall' | 'floor' | 'peerjs' | 'camera';
export type MediaMode = 'in-call' | 'beforehand';

export interface Sample {
  /** t1 − t0, in ms. */
  ms: number;
  /** First time each named event happened, in ms after t0 (the breakdown). */
  marks: Record<string, number>;
}

export interface BenchApi {
  setup(config: BenchConfig): Promise<void>;
  run(scenario: Scenario, media: MediaMode): Promise<Sample>;
  teardown(): Promise<void>;
}

declare global {
  interface Window {
    bench: BenchApi;
  }
}

const ICE_SERVERS: RTCIceServer[] = [];
/** The mark all three scenarios share: the remote stream reached the caller (ontrack). */
const REMOTE_STREAM = 'caller: remote stream';
/** The mark of the first of the call's RTCPeerConnections to reach `connected` (ICE + DTLS). */
const CONNECTED = 'first peer connection connected (ICE+DTLS)';
// Milestones named alike in all three scenarios.
const CALLER_MEDIA = 'caller: media acquired';
const CALLEE_LEARNS = 'callee: learns of the call';
const CALLEE_MEDIA = 'callee: media acquired';
const FIRST_FRAME = 'caller: first remote frame';

let config: BenchConfig;
/** Where the current call's events are timestamped (null between calls). */
let marks: Record<string, number> | null = null;
let t0 = 0;
let mediaMode: MediaMode = 'in-call';
/** Camera and microphone of each side for the `beforehand` mode, acquired at setup. */
const cameras: { caller?: MediaStream; callee?: MediaStream } = {};

/**
 * The caller's or callee's media for the current call: acquired now (`in-call`, `owned`: to stop
 * after the call) or the stream acquired at setup (`beforehand`).
 */
async function media(side: 'caller' | 'callee'): Promise<{ stream: MediaStream; owned: boolean }> {
  const ready = mediaMode === 'beforehand' ? cameras[side] : undefined;
  if (ready) return { stream: ready, owned: false };
  return { stream: await navigator.mediaDevices.getUserMedia(MEDIA), owned: true };
}

// Every peer connection of the page: host candidates only, and timestamped once connected.
const NativeRTCPeerConnection = window.RTCPeerConnection;
class TimedRTCPeerConnection extends NativeRTCPeerConnection {
  constructor(configuration?: RTCConfiguration) {
    if (configuration?.iceServers?.length) {
      throw new Error(`bench: an RTCPeerConnection asked for ICE servers; only [] is allowed.`);
    }
    super({ ...configuration, iceServers: [] });
    this.addEventListener('connectionstatechange', () => {
      if (this.connectionState === 'connected') mark(CONNECTED);
    });
  }
}
window.RTCPeerConnection = TimedRTCPeerConnection;
const MEDIA = { audio: true, video: true };

function mark(label: string): void {
  if (marks && !(label in marks)) marks[label] = performance.now() - t0;
}

/** Rejects with `label` if `promise` has not settled within the step timeout. */
function within<T>(promise: Promise<T>, label: string, ms = config.stepTimeoutMs): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A deferred value, set once. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Plays `stream` in a muted `<video>` in the page and resolves with the time the first frame was
 * presented (`requestVideoFrameCallback`: the frame reached the compositor).
 */
function firstFrame(stream: MediaStream): { video: HTMLVideoElement; presented: Promise<number> } {
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  const presented = new Promise<number>((resolve) => {
    video.requestVideoFrameCallback(() => resolve(performance.now()));
  });
  video.srcObject = stream;
  document.getElementById('videos')?.append(video);
  void video.play().catch(() => undefined);
  return { video, presented };
}

function stopTracks(stream: MediaStream | null | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

function removeVideo(video: HTMLVideoElement | undefined): void {
  if (!video) return;
  video.pause();
  video.srcObject = null;
  video.remove();
}

// --- relaycall -----------------------------------------------------------------------------

interface RpcMessage {
  id?: number;
  method?: string;
  error?: { message?: string };
  params?: { signal?: { type?: string; candidate?: unknown } };
}

/**
 * The browser WebSocket, timestamping each JSON-RPC message (method, and signal type) into the
 * current call's marks. Costs one JSON.parse per message.
 */
function tracingWebSocket(who: string): WebSocketFactory {
  return class TracingWebSocket {
    onopen: ((event: unknown) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;
    private readonly ws: WebSocket;
    /** Method of each request this side sent, by id, to name the replies. */
    private readonly sent = new Map<number, string>();

    constructor(url: string) {
      this.ws = new WebSocket(url);
      this.ws.onopen = (event) => this.onopen?.(event);
      this.ws.onclose = (event) => this.onclose?.(event);
      this.ws.onerror = (event) => this.onerror?.(event);
      this.ws.onmessage = (event) => {
        if (marks) this.trace('←', event.data);
        this.onmessage?.(event);
      };
    }

    get readyState(): number {
      return this.ws.readyState;
    }

    send(data: string): void {
      if (marks) this.trace('→', data);
      this.ws.send(data);
    }

    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }

    private trace(direction: '→' | '←', data: unknown): void {
      if (typeof data !== 'string') return;
      const parsed = JSON.parse(data) as RpcMessage | RpcMessage[];
      // The Relay may send the messages of one turn as a JSON-RPC batch (an array).
      const batch = Array.isArray(parsed);
      for (const message of batch ? parsed : [parsed]) {
        let name = message.method;
        if (name === undefined && typeof message.id === 'number') {
          name = `${this.sent.get(message.id) ?? '?'} reply`;
          this.sent.delete(message.id);
        } else if (direction === '→' && typeof message.id === 'number' && name) {
          this.sent.set(message.id, name);
        }
        name ??= '?';
        if (message.error) name += ` (error: ${message.error.message})`;
        if (name === 'relay.ping' || name === 'relay.ping reply') continue;
        const signal = message.params?.signal;
        const kind = signal ? ` ${signal.type ?? (signal.candidate ? 'candidate' : 'other')}` : '';
        mark(`${who} ${direction} ${name}${kind}${batch ? ' (in a batch)' : ''}`);
      }
    }
  };
}

let alice: RelayClient | undefined;
let bob: RelayClient | undefined;
const relayUnsubscribes: (() => void)[] = [];

async function setupRelaycall(): Promise<void> {
  alice = createRelayClient({
    url: config.relayUrl,
    iceServers: ICE_SERVERS,
    WebSocket: tracingWebSocket('alice'),
  });
  bob = createRelayClient({
    url: config.relayUrl,
    iceServers: ICE_SERVERS,
    WebSocket: tracingWebSocket('bob'),
  });
  await within(
    Promise.all([alice.connect(config.tokens.alice), bob.connect(config.tokens.bob)]),
    'relaycall clients connect',
  );
  const callee = bob;
  const answering = new Set<string>();
  relayUnsubscribes.push(
    callee.store.subscribe((state) => {
      for (const call of Object.values(state.calls)) {
        if (call.direction !== 'incoming' || call.state !== 'ringing' || answering.has(call.id)) {
          continue;
        }
        answering.add(call.id);
        mark(CALLEE_LEARNS);
        // After the store has finished notifying its listeners of this change.
        queueMicrotask(() => {
          mark('bob answer()');
          callee.answer(call.id, relaycallMedia('callee')).catch(() => undefined);
        });
      }
      for (const call of Object.values(state.calls)) {
        if (call.direction === 'incoming' && call.localStream) mark(CALLEE_MEDIA);
        if (call.direction === 'incoming' && call.remoteStream) mark('bob remote stream');
        if (call.direction === 'incoming' && call.state === 'active') mark('bob active');
      }
    }),
  );
}

/** relaycall acquires the media itself, unless given a `localStream`. */
function relaycallMedia(side: 'caller' | 'callee'): MediaOptions {
  const ready = mediaMode === 'beforehand' ? cameras[side] : undefined;
  return ready ? { localStream: ready } : MEDIA;
}

async function relaycallOnce(): Promise<number> {
  const caller = alice as RelayClient;
  const callee = bob as RelayClient;
  const stream = deferred<MediaStream>();
  let callId = '';
  const stop = caller.store.subscribe((state) => {
    const call = state.calls[callId];
    if (!call) return;
    if (call.localStream) mark(CALLER_MEDIA);
    if (call.state === 'ringing') mark('alice ringing');
    if (call.state === 'connecting') mark('alice answered');
    if (call.state === 'active') mark('alice active (data channel open)');
    if (call.remoteStream) {
      mark(REMOTE_STREAM);
      stream.resolve(call.remoteStream);
    }
    if (call.state === 'ended') stream.reject(new Error(`call ended: ${call.endReason}`));
  });
  let video: HTMLVideoElement | undefined;
  try {
    t0 = performance.now();
    callId = caller.call('bob', relaycallMedia('caller'));
    const remote = await within(stream.promise, 'relaycall: remote stream at alice');
    const frame = firstFrame(remote);
    video = frame.video;
    return await within(frame.presented, 'relaycall: first frame at alice');
  } finally {
    stop();
    marks = null;
    caller.hangup(callId);
    await within(
      until(callee, () =>
        Object.values(callee.store.getState().calls).every((c) => c.state === 'ended'),
      ),
      'relaycall: bob ended',
    ).catch(() => undefined);
    for (const client of [caller, callee]) {
      for (const id of Object.keys(client.store.getState().calls)) client.dismiss(id);
    }
    removeVideo(video);
  }
}

function until(client: RelayClient, predicate: () => boolean): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = client.store.subscribe(() => {
      if (predicate()) {
        stop();
        resolve();
      }
    });
  });
}

// --- floor: simple-peer wired directly ------------------------------------------------------

async function floorOnce(): Promise<number> {
  const owned: MediaStream[] = [];
  const peers: SimplePeer.Instance[] = [];
  const remote = deferred<MediaStream>();
  let callee: SimplePeer.Instance | undefined;
  let calleeStarting: Promise<void> | undefined;
  const pending: SimplePeer.SignalData[] = [];
  let video: HTMLVideoElement | undefined;

  // The callee learns of the call from the first signal, then gets its media and answers.
  const startCallee = async () => {
    mark(CALLEE_LEARNS);
    const { stream, owned: mine } = await media('callee');
    if (mine) owned.push(stream);
    mark(CALLEE_MEDIA);
    const b = new SimplePeer({ initiator: false, stream, config: { iceServers: ICE_SERVERS } });
    peers.push(b);
    b.on('signal', (signal: SimplePeer.SignalData) => {
      mark(`callee → ${signal.type ?? 'candidate'}`);
      caller.signal(signal);
    });
    b.on('error', (error: Error) => remote.reject(error));
    callee = b;
    for (const signal of pending.splice(0)) b.signal(signal);
  };

  let caller: SimplePeer.Instance;
  try {
    t0 = performance.now();
    const { stream, owned: mine } = await media('caller');
    if (mine) owned.push(stream);
    mark(CALLER_MEDIA);
    caller = new SimplePeer({ initiator: true, stream, config: { iceServers: ICE_SERVERS } });
    peers.push(caller);
    caller.on('signal', (signal: SimplePeer.SignalData) => {
      mark(`caller → ${signal.type ?? 'candidate'}`);
      if (callee) callee.signal(signal);
      else {
        pending.push(signal);
        calleeStarting ??= startCallee().catch((error: unknown) => remote.reject(error));
      }
    });
    caller.on('stream', (remoteStream: MediaStream) => {
      mark(REMOTE_STREAM);
      remote.resolve(remoteStream);
    });
    caller.on('connect', () => mark('caller: connect (data channel open)'));
    caller.on('error', (error: Error) => remote.reject(error));
    const remoteStream = await within(remote.promise, 'floor: remote stream at the caller');
    const frame = firstFrame(remoteStream);
    video = frame.video;
    return await within(frame.presented, 'floor: first frame at the caller');
  } finally {
    marks = null;
    await calleeStarting;
    for (const peer of peers) peer.destroy();
    for (const stream of owned) stopTracks(stream);
    removeVideo(video);
  }
}

// --- PeerJS ---------------------------------------------------------------------------------

let pjCaller: Peer | undefined;
let pjCallee: Peer | undefined;
/** The callee's side of the current call, with its media (to stop when owned). */
let pjAnswered: {
  connection: MediaConnection;
  media: Promise<{ stream: MediaStream; owned: boolean } | undefined>;
} | null = null;

function openPeer(id: string): Promise<Peer> {
  const { host, port, path, key } = config.peerjs;
  const peer = new Peer(id, {
    host,
    port,
    path,
    key,
    secure: false,
    config: { iceServers: ICE_SERVERS },
    debug: 0,
  });
  return within(
    new Promise<Peer>((resolve, reject) => {
      peer.once('open', () => resolve(peer));
      peer.once('error', reject);
    }),
    `peerjs: ${id} opens`,
  );
}

async function setupPeerjs(): Promise<void> {
  const [callerId, calleeId] = config.peerjs.ids;
  [pjCaller, pjCallee] = await Promise.all([openPeer(callerId), openPeer(calleeId)]);
  pjCallee.on('call', (connection) => {
    mark(CALLEE_LEARNS);
    const answered = media('callee').then(
      (got) => {
        mark(CALLEE_MEDIA);
        connection.answer(got.stream);
        return got;
      },
      () => undefined,
    );
    pjAnswered = { connection, media: answered };
  });
}

async function peerjsOnce(): Promise<number> {
  const caller = pjCaller as Peer;
  const [, calleeId] = config.peerjs.ids;
  const remote = deferred<MediaStream>();
  let mine: { stream: MediaStream; owned: boolean } | undefined;
  let connection: MediaConnection | undefined;
  let video: HTMLVideoElement | undefined;
  try {
    t0 = performance.now();
    mine = await media('caller');
    mark(CALLER_MEDIA);
    connection = caller.call(calleeId, mine.stream);
    connection.on('stream', (stream) => {
      mark(REMOTE_STREAM);
      remote.resolve(stream);
    });
    connection.on('error', (error) => remote.reject(error));
    const stream = await within(remote.promise, 'peerjs: remote stream at the caller');
    const frame = firstFrame(stream);
    video = frame.video;
    return await within(frame.presented, 'peerjs: first frame at the caller');
  } finally {
    marks = null;
    connection?.close();
    const answered = pjAnswered;
    pjAnswered = null;
    answered?.connection.close();
    const theirs = await answered?.media;
    if (theirs?.owned) stopTracks(theirs.stream);
    if (mine?.owned) stopTracks(mine.stream);
    removeVideo(video);
  }
}

// --- reference: the fake camera alone ---------------------------------------------------------

/** getUserMedia, then the first frame of that local stream presented in a `<video>`. */
async function cameraOnce(): Promise<number> {
  let stream: MediaStream | undefined;
  let video: HTMLVideoElement | undefined;
  try {
    t0 = performance.now();
    stream = await navigator.mediaDevices.getUserMedia(MEDIA);
    mark(CALLER_MEDIA);
    const frame = firstFrame(stream);
    video = frame.video;
    return await within(frame.presented, 'camera: first local frame');
  } finally {
    marks = null;
    stopTracks(stream);
    removeVideo(video);
  }
}

/** The relaycall clients' calls and connections, for an error message. */
function describeCalls(): string {
  return [alice, bob]
    .map((client, i) => {
      const state = client?.store.getState();
      const calls = Object.values(state?.calls ?? {}).map(
        (c) => `${c.direction} ${c.state}${c.endReason ? ` (${c.endReason})` : ''}`,
      );
      return `${i === 0 ? 'alice' : 'bob'}: ${state?.status}, calls [${calls.join('; ')}]`;
    })
    .join(', ');
}

// --- the API the Node side calls -------------------------------------------------------------

const scenarios: Record<Scenario, () => Promise<number>> = {
  relaycall: relaycallOnce,
  floor: floorOnce,
  peerjs: peerjsOnce,
  camera: cameraOnce,
};

window.bench = {
  async setup(benchConfig) {
    config = benchConfig;
    [cameras.caller, cameras.callee] = await within(
      Promise.all([
        navigator.mediaDevices.getUserMedia(MEDIA),
        navigator.mediaDevices.getUserMedia(MEDIA),
      ]),
      'the cameras of the beforehand mode',
    );
    await setupRelaycall();
    await setupPeerjs();
  },
  async run(scenario, mode) {
    mediaMode = mode;
    const ownMarks: Record<string, number> = {};
    marks = ownMarks;
    let t1: number;
    try {
      t1 = await scenarios[scenario]();
    } catch (error) {
      const events = Object.entries(ownMarks).map(([label, at]) => `${label} @${at.toFixed(1)}`);
      throw new Error(
        `${scenario}/${mode}: ${String(error)}; ${describeCalls()}; events so far: ${events.join(', ')}`,
        { cause: error },
      );
    }
    ownMarks[FIRST_FRAME] = t1 - t0;
    return { ms: t1 - t0, marks: ownMarks };
  },
  async teardown() {
    for (const stop of relayUnsubscribes.splice(0)) stop();
    alice?.destroy();
    bob?.destroy();
    pjCaller?.destroy();
    pjCallee?.destroy();
    stopTracks(cameras.caller);
    stopTracks(cameras.callee);
  },
};
