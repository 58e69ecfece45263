import { afterEach, describe, expect, it } from 'vitest';
import { stopStream } from '../../src/core/media/getLocalMedia.js';
import { createPeer, type Peer, type PeerSignal } from '../../src/core/peer/createPeer.js';
import { RelayError } from '../../src/protocol/errors.js';
import { first, framesPresented, playInVideo, until } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  document.body.replaceChildren();
});

async function camera(constraints: MediaStreamConstraints): Promise<MediaStream> {
  const stream = await navigator.mediaDevices.getUserMedia(constraints);
  cleanups.push(() => stopStream(stream));
  return stream;
}

async function peer(options: { initiator: boolean; stream?: MediaStream }): Promise<Peer> {
  const created = await createPeer({ ...options, iceServers: [] });
  cleanups.push(() => created.destroy());
  return created;
}

/** Wires two peers like the Relay does (through JSON); returns every signal each one sent. */
function wire(a: Peer, b: Peer): { fromA: PeerSignal[]; fromB: PeerSignal[] } {
  const log = { fromA: [] as PeerSignal[], fromB: [] as PeerSignal[] };
  a.onSignal((signal) => {
    log.fromA.push(signal);
    b.signal(JSON.parse(JSON.stringify(signal)));
  });
  b.onSignal((signal) => {
    log.fromB.push(signal);
    a.signal(JSON.parse(JSON.stringify(signal)));
  });
  return log;
}

async function connectedPair() {
  const streamA = await camera({ audio: true, video: true });
  const streamB = await camera({ audio: true, video: true });
  const a = await peer({ initiator: true, stream: streamA });
  const b = await peer({ initiator: false, stream: streamB });
  const errors: RelayError[] = [];
  a.onError((error) => errors.push(error));
  b.onError((error) => errors.push(error));
  const remoteAtB = first<MediaStream>((l) => b.onStream(l), 'stream at b');
  const remoteAtA = first<MediaStream>((l) => a.onStream(l), 'stream at a');
  const signals = wire(a, b);
  await Promise.all([
    first((l) => a.onConnect(l), 'connect at a'),
    first((l) => b.onConnect(l), 'connect at b'),
  ]);
  return { a, b, streamA, streamB, remoteAtA, remoteAtB: await remoteAtB, signals, errors };
}

describe('createPeer', () => {
  it('loads simple-peer only when the first peer is created, with no globals left behind', async () => {
    const loaded = () =>
      performance.getEntriesByType('resource').some((entry) => /simple-?peer/i.test(entry.name));
    expect(loaded()).toBe(false);
    const created = await peer({ initiator: false });
    expect(loaded()).toBe(true);
    expect(created.destroyed).toBe(false);
    expect('global' in globalThis).toBe(false);
    expect('process' in globalThis).toBe(false);
  });

  it('gives RTCPeerConnection exactly the iceServers passed, never simple-peer defaults', async () => {
    const configs: (RTCConfiguration | undefined)[] = [];
    class SpyPeerConnection extends RTCPeerConnection {
      constructor(config?: RTCConfiguration) {
        super(config);
        configs.push(config);
      }
    }
    const created = await createPeer({
      initiator: true,
      iceServers: [],
      RTCPeerConnection: SpyPeerConnection,
    });
    cleanups.push(() => created.destroy());
    expect(configs).toHaveLength(1);
    expect(configs[0]?.iceServers).toEqual([]);
    expect(created.pc).toBeInstanceOf(SpyPeerConnection);
    expect(created.pc.getConfiguration().iceServers).toEqual([]);
    await expect(
      createPeer({ initiator: true, iceServers: undefined as unknown as RTCIceServer[] }),
    ).rejects.toThrow(TypeError);
  });

  it('connects two peers: remote video plays live frames and JSON crosses the data channel', async () => {
    const { a, b, remoteAtA, remoteAtB, errors } = await connectedPair();
    expect(a.connected && b.connected).toBe(true);
    expect(remoteAtB.getVideoTracks()).toHaveLength(1);
    expect(remoteAtB.getAudioTracks()).toHaveLength(1);
    expect((await remoteAtA).getVideoTracks()).toHaveLength(1);

    const video = await playInVideo(remoteAtB);
    const early = await framesPresented(video, 3, 'first remote frames');
    expect(video.videoWidth).toBeGreaterThan(0);
    const later = await framesPresented(video, 5, 'more remote frames');
    expect(later.presentedFrames).toBeGreaterThan(early.presentedFrames);
    expect(later.mediaTime).toBeGreaterThan(early.mediaTime);

    const atB = first<unknown>((l) => b.onData(l), 'data at b');
    expect(a.send({ t: 'hello', n: 1, nested: { ok: true } })).toBe(true);
    expect(await atB).toEqual({ t: 'hello', n: 1, nested: { ok: true } });
    const atA = first<unknown>((l) => a.onData(l), 'data at a');
    b.send({ t: 'reply' });
    expect(await atA).toEqual({ t: 'reply' });

    // The namespace has only loopback and its own veth pair (10.77.0.1/.2, both ends inside it,
    // for Janus): every candidate either side gathered must be on one of them.
    const stats = await a.pc.getStats();
    const addresses = [...stats.values()]
      .filter((report) => report.type === 'local-candidate')
      .map((report) => String(report.address ?? report.ip));
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(address).toMatch(/^(127\.|::1$|10\.77\.0\.[12]$)/);
    expect(errors).toEqual([]);
  });

  it('replaceTrack switches the camera without renegotiation and frames keep coming', async () => {
    const { a, b, streamA, remoteAtB, signals, errors } = await connectedPair();
    const video = await playInVideo(remoteAtB);
    await framesPresented(video, 2, 'frames before the switch');
    expect(video.videoWidth).toBe(640);
    const offers = signals.fromA.filter((signal) => signal.type === 'offer').length;

    const old = streamA.getVideoTracks()[0]!;
    const next = (await camera({ video: { width: 320, height: 240 } })).getVideoTracks()[0]!;
    await a.replaceTrack(old, next, streamA);
    old.stop();
    expect(streamA.getVideoTracks()).toEqual([next]);
    expect(a.pc.getSenders().some((sender) => sender.track === next)).toBe(true);

    await until(video, 'resize', () => video.videoWidth === 320, 'remote video at 320 px');
    await framesPresented(video, 5, 'frames after the switch');
    expect(signals.fromA.filter((signal) => signal.type === 'offer')).toHaveLength(offers);
    expect(b.connected).toBe(true);
    await expect(a.replaceTrack(old, next, streamA)).rejects.toBeInstanceOf(RelayError);
    expect(errors).toEqual([]);
  });

  it('destroy closes the connection on both sides; late signals are ignored', async () => {
    const { a, b, signals, errors } = await connectedPair();
    const closedA = first((l) => a.onClose(l), 'close at a');
    const closedB = first((l) => b.onClose(l), 'close at b');
    a.destroy();
    expect(a.destroyed).toBe(true);
    expect(a.connected).toBe(false);
    expect(a.pc.signalingState).toBe('closed');
    expect(a.pc.connectionState).toBe('closed');
    expect(a.send({ t: 'late' })).toBe(false);
    await closedA;
    await closedB;
    expect(b.pc.connectionState).toBe('closed');

    for (const signal of signals.fromB) expect(() => a.signal(signal)).not.toThrow();
    for (const signal of signals.fromA) expect(() => b.signal(signal)).not.toThrow();
    expect(() => a.destroy()).not.toThrow();
    expect(errors).toEqual([]);
  });

  it('reports a signal delivered twice as an error event, never as an exception', async () => {
    const a = await peer({ initiator: true, stream: await camera({ audio: true }) });
    const b = await peer({ initiator: false });
    a.onSignal((signal) => b.signal(signal));
    b.onSignal((signal) => {
      a.signal(signal);
      if (signal.type === 'answer') a.signal(signal); // "Called in wrong state: stable"
    });
    const error = await first<RelayError>((l) => a.onError(l), 'error at a');
    expect(error).toBeInstanceOf(RelayError);
    expect(error.code).toBe('call_failed');
    expect(error.message).toContain('ERR_SET_REMOTE_DESCRIPTION');
    await first((l) => a.onClose(l), 'close at a');
    expect(a.destroyed).toBe(true);
  });

  it('ends the peer with an error on signals that are not signaling data', async () => {
    const b = await peer({ initiator: false });
    const closed = first((l) => b.onClose(l), 'close');
    expect(() => b.signal(null)).not.toThrow();
    const error = await first<RelayError>((l) => b.onError(l), 'error');
    expect(error.message).toContain('ERR_SIGNALING');
    await closed;
    expect(() => b.signal({ type: 'offer', sdp: 'v=0' })).not.toThrow();
    expect(b.send({ t: 'x' })).toBe(false);
  });

  it('holds events that fire before a listener subscribes', async () => {
    const a = await peer({ initiator: true });
    // Gathering completes only after the offer was set, and so emitted, with nobody listening.
    await until(
      a.pc,
      'icegatheringstatechange',
      () => a.pc.iceGatheringState === 'complete',
      'gathering',
    );
    const held: PeerSignal[] = [];
    a.onSignal((signal) => held.push(signal));
    expect(held[0]?.type).toBe('offer');
    expect(held.slice(1).every((signal) => signal.type === 'candidate')).toBe(true);
  });
});
