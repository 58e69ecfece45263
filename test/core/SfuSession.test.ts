/**
 * The SFU media session's logic on a fake RTCPeerConnection that records what it is asked: what
 * it sends to the media server (SFU_PEER) and per participant, and what it reports. The real
 * thing, against a real Janus in Chromium, is test/browser/sfu.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SIMULCAST_ENCODINGS, SfuSession } from '../../src/core/rooms/SfuSession.js';
import { ManualClock } from '../../src/testing/ManualClock.js';

type Listener = (event: unknown) => void;

/** Records calls; its promises settle at once; events are fired by the test. */
class FakePeerConnection {
  static made: FakePeerConnection[] = [];
  readonly calls: string[] = [];
  readonly transceivers: { track: MediaStreamTrack; init: RTCRtpTransceiverInit }[] = [];
  readonly senders: {
    track: MediaStreamTrack | null;
    replaceTrack(next: MediaStreamTrack): Promise<void>;
  }[] = [];
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  closed = false;
  private readonly listeners = new Map<string, Listener[]>();
  private offers = 0;

  constructor(readonly config: RTCConfiguration) {
    FakePeerConnection.made.push(this);
  }

  addEventListener(type: string, listener: Listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  fire(type: string, event: unknown = {}) {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  connection(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.fire('connectionstatechange');
  }

  ice(state: RTCIceConnectionState) {
    this.iceConnectionState = state;
    this.fire('iceconnectionstatechange');
  }

  addTransceiver(track: MediaStreamTrack, init: RTCRtpTransceiverInit) {
    this.transceivers.push({ track, init });
    const sender = {
      track: track as MediaStreamTrack | null,
      replaceTrack: async (next: MediaStreamTrack) => {
        this.calls.push(`replaceTrack ${next.id}`);
        sender.track = next;
      },
    };
    this.senders.push(sender);
  }

  getSenders() {
    return this.senders;
  }

  async createOffer(options: RTCOfferOptions = {}) {
    this.calls.push(options.iceRestart ? 'createOffer iceRestart' : 'createOffer');
    this.offers += 1;
    return { type: 'offer', sdp: `publish-${this.offers}` };
  }

  async createAnswer() {
    this.calls.push('createAnswer');
    return { type: 'answer', sdp: 'subscribe-answer' };
  }

  async setLocalDescription(description: RTCSessionDescriptionInit) {
    this.calls.push(`local ${description.type}`);
    this.signalingState = description.type === 'offer' ? 'have-local-offer' : 'stable';
  }

  async setRemoteDescription(description: RTCSessionDescriptionInit) {
    this.calls.push(`remote ${description.type} ${description.sdp}`);
    this.signalingState = description.type === 'offer' ? 'have-remote-offer' : 'stable';
  }

  async addIceCandidate(candidate?: RTCIceCandidateInit) {
    this.calls.push(`candidate ${candidate?.candidate ?? 'end'}`);
  }

  close() {
    this.closed = true;
  }
}

class FakeStream {
  constructor(readonly tracks: MediaStreamTrack[] = []) {}
  getTracks() {
    return this.tracks;
  }
  removeTrack(track: MediaStreamTrack) {
    this.tracks.splice(this.tracks.indexOf(track), 1);
  }
  addTrack(track: MediaStreamTrack) {
    this.tracks.push(track);
  }
}

let ids = 0;
const track = (kind: string) =>
  ({ id: `${kind}-${++ids}`, kind, enabled: true }) as unknown as MediaStreamTrack;

/** A session on fake connections, with the local media given, recording what it reports. */
function session(
  stream: FakeStream | null = new FakeStream([track('audio'), track('video')]),
  clock = new ManualClock(),
) {
  FakePeerConnection.made = [];
  const told: string[] = [];
  const streams: FakeStream[] = [];
  const sfu = new SfuSession({
    media: 'sfu',
    stream: stream as unknown as MediaStream | null,
    iceServers: () => [{ urls: 'turn:turn.test', username: 'u', credential: 'c' }],
    RTCPeerConnection: FakePeerConnection as unknown as typeof RTCPeerConnection,
    MediaStream: FakeStream as unknown as typeof MediaStream,
    clock,
    iceRestart: {
      graceMs: 1000,
      attemptTimeoutMs: 5000,
      maxAttempts: 2,
      onNetworkChange: () => () => {},
    },
    callbacks: {
      onSignal: (id, data) => told.push(`${id} ${JSON.stringify(data)}`),
      onStream: (id, received) => {
        streams.push(received as unknown as FakeStream);
        told.push(`stream ${id}`);
      },
      onConnected: (id) => told.push(`connected ${id}`),
      onClosed: (id) => told.push(`closed ${id}`),
      onReconnecting: (id, on) => told.push(`reconnecting ${id} ${on}`),
      onScreenStream: (id, received) => told.push(`screen ${id} ${received ? 'on' : 'off'}`),
      onScreenFailed: () => told.push('screen failed'),
    },
  });
  const made = FakePeerConnection.made;
  return { sfu, told, streams, made, stream };
}

const candidate = (value: string) => ({ candidate: { toJSON: () => ({ candidate: value }) } });

describe('the sfu session', () => {
  it('publishes once to the media server, simulcast, and completes it with its answer', async () => {
    const { sfu, told, made } = session();
    expect(made).toHaveLength(1);
    const publisher = made[0]!;
    // The Relay's ICE servers only, nothing added.
    expect(publisher.config).toEqual({
      iceServers: [{ urls: 'turn:turn.test', username: 'u', credential: 'c' }],
      iceTransportPolicy: 'all',
    });
    expect(publisher.transceivers.map(({ track: t, init }) => [t.kind, init])).toEqual([
      ['audio', { direction: 'sendonly', streams: [expect.anything()] }],
      [
        'video',
        {
          direction: 'sendonly',
          streams: [expect.anything()],
          sendEncodings: [...SIMULCAST_ENCODINGS],
        },
      ],
    ]);
    expect(SIMULCAST_ENCODINGS.map((e) => e.rid)).toEqual(['h', 'm', 'l']);
    await flush();
    expect(told).toEqual(['@sfu {"type":"offer","sdp":"publish-1"}']);

    // Our candidates go to it; its candidates before its answer wait for it.
    publisher.fire('icecandidate', candidate('ours'));
    sfu.signal('@sfu', { type: 'candidate', candidate: { candidate: 'early' } });
    expect(publisher.calls).not.toContain('candidate early');
    sfu.signal('@sfu', { type: 'answer', sdp: 'janus-answer' });
    // Delivered twice (a resume): applied once.
    sfu.signal('@sfu', { type: 'answer', sdp: 'janus-answer' });
    sfu.signal('@sfu', { type: 'candidate', candidate: { candidate: 'early' } });
    await flush();
    sfu.signal('@sfu', { type: 'candidate', candidate: { candidate: 'late' } });
    sfu.signal('@sfu', { type: 'candidate', candidate: null });
    await flush();
    expect(publisher.calls).toEqual([
      'createOffer',
      'local offer',
      'remote answer janus-answer',
      'candidate early',
      'candidate late',
      'candidate end',
    ]);
    publisher.fire('icecandidate', { candidate: null });
    publisher.connection('connected');
    expect(told.slice(1)).toEqual([
      '@sfu {"type":"candidate","candidate":{"candidate":"ours"}}',
      '@sfu {"type":"candidate","candidate":null}',
      'connected @sfu',
    ]);
  });

  it('publishes nothing when receiving only', () => {
    const { sfu, made, told } = session(null);
    expect(made).toHaveLength(0);
    sfu.add('p-a');
    expect(told).toEqual(['p-a {"type":"subscribe"}']);
  });

  it('subscribes on add, answers the offer, and reports the media and the connection', async () => {
    const { sfu, told, made, streams } = session(null);
    sfu.setQuality('p-a', 'low');
    sfu.add('p-a');
    sfu.setQuality('p-a', 'high');
    // Someone not subscribed to: nothing to answer.
    sfu.signal('p-x', { type: 'offer', sdp: 'stray' });
    expect(made).toHaveLength(0);
    sfu.signal('p-a', { type: 'offer', sdp: 'janus-offer-1' });
    sfu.signal('p-a', { type: 'candidate', candidate: { candidate: 'j1' } });
    await flush();
    expect(made).toHaveLength(1);
    const sub = made[0]!;
    expect(sub.transceivers).toEqual([]);
    expect(sub.calls).toEqual([
      'remote offer janus-offer-1',
      'candidate j1',
      'createAnswer',
      'local answer',
    ]);
    const audio = track('audio');
    const video = track('video');
    sub.fire('track', { track: audio, streams: [] });
    sub.fire('track', { track: video, streams: [] });
    sub.fire('icecandidate', candidate('mine'));
    sub.connection('connected');
    expect(told).toEqual([
      'p-a {"type":"subscribe","quality":"low"}',
      'p-a {"type":"quality","quality":"high"}',
      'p-a {"type":"answer","sdp":"subscribe-answer"}',
      'stream p-a',
      'stream p-a',
      'p-a {"type":"candidate","candidate":{"candidate":"mine"}}',
      'connected p-a',
    ]);
    // One stream with both tracks.
    expect(streams.at(-1)!.getTracks()).toEqual([audio, video]);
  });

  it('replaces the connection on a new offer, and ignores a copy of one', async () => {
    const { sfu, told, made } = session(null);
    sfu.add('p-a');
    sfu.signal('p-a', { type: 'offer', sdp: 'one' });
    await flush();
    sfu.signal('p-a', { type: 'offer', sdp: 'one' });
    sfu.signal('p-a', { type: 'candidate', candidate: { candidate: 'c' } });
    sfu.signal('p-a', { type: 'candidate', candidate: { candidate: 'c' } });
    await flush();
    expect(made).toHaveLength(1);
    expect(made[0]!.calls.filter((c) => c.startsWith('candidate'))).toEqual(['candidate c']);
    // The participant published again: a new offer, a new connection.
    sfu.signal('p-a', { type: 'offer', sdp: 'two' });
    await flush();
    expect(made).toHaveLength(2);
    expect(made[0]!.closed).toBe(true);
    expect(made[1]!.calls).toEqual(['remote offer two', 'createAnswer', 'local answer']);
    // The old connection's events no longer count.
    made[0]!.connection('failed');
    expect(told.filter((t) => t.includes('answer'))).toHaveLength(2);
    expect(told.some((t) => t.startsWith('closed'))).toBe(false);
  });

  it('reports a refusal or failure as closed, and closes quietly on remove and destroy', async () => {
    const { sfu, told, made } = session();
    sfu.add('p-a');
    sfu.add('p-b');
    sfu.add('p-c');
    sfu.signal('p-b', { type: 'offer', sdp: 'b' });
    sfu.signal('p-c', { type: 'offer', sdp: 'c' });
    await flush();
    told.length = 0;
    // The media server refused a subscription, and our upload.
    sfu.signal('p-a', { type: 'error', message: 'no such feed' });
    sfu.signal('@sfu', { type: 'error', message: 'publish refused' });
    made[1]!.connection('failed');
    expect(made[0]!.closed).toBe(true);
    expect(made[1]!.closed).toBe(true);
    expect(told).toEqual([
      'p-a {"type":"unsubscribe"}',
      'closed p-a',
      'closed @sfu',
      'p-b {"type":"unsubscribe"}',
      'closed p-b',
    ]);
    told.length = 0;
    sfu.remove('p-c');
    expect(made[2]!.closed).toBe(true);
    expect(told).toEqual(['p-c {"type":"unsubscribe"}']);
    // Removing what is gone already says nothing; after destroy nothing is sent.
    sfu.remove('p-a');
    sfu.add('p-d');
    sfu.destroy();
    sfu.add('p-e');
    sfu.signal('p-d', { type: 'offer', sdp: 'd' });
    await flush();
    expect(told).toEqual(['p-c {"type":"unsubscribe"}', 'p-d {"type":"subscribe"}']);
    expect(made).toHaveLength(3);
  });

  it('gives up on a connection that gathered no candidate (every ICE server refused)', async () => {
    const { told, made } = session();
    await flush();
    made[0]!.fire('icecandidate', { candidate: null });
    expect(told.at(-1)).toBe('closed @sfu');
    expect(made[0]!.closed).toBe(true);
  });

  it('mutes by turning tracks off, and switches a device on the upload', async () => {
    const { sfu, made, stream } = session();
    const [audio, video] = stream!.getTracks();
    sfu.setTrackEnabled('video', false);
    expect([audio!.enabled, video!.enabled]).toEqual([true, false]);
    const next = track('video');
    await sfu.replaceTrack(video!, next);
    expect(made[0]!.calls).toContain(`replaceTrack ${next.id}`);
    expect(stream!.getTracks()).toEqual([audio, next]);
  });
});

describe('the sfu session: screen shares', () => {
  it('shares in a second upload, without simulcast, and unpublishes it on stop', async () => {
    const { sfu, told, made } = session();
    await flush();
    const screen = new FakeStream([track('video'), track('audio')]);
    sfu.setScreen(screen as unknown as MediaStream);
    await flush();
    expect(made).toHaveLength(2);
    // The share as it is, its audio too.
    expect(made[1]!.transceivers.map(({ track: t, init }) => [t.kind, init])).toEqual([
      ['video', { direction: 'sendonly', streams: [screen] }],
      ['audio', { direction: 'sendonly', streams: [screen] }],
    ]);
    expect(told.at(-1)).toBe('@sfu {"type":"offer","sdp":"publish-1","screen":true}');
    // The answers go to their own uploads.
    sfu.signal('@sfu', { type: 'answer', sdp: 'screen-answer', screen: true });
    sfu.signal('@sfu', { type: 'answer', sdp: 'camera-answer' });
    await flush();
    expect(made[0]!.calls).toContain('remote answer camera-answer');
    expect(made[1]!.calls).toContain('remote answer screen-answer');
    made[1]!.fire('icecandidate', candidate('share'));
    expect(told.at(-1)).toBe(
      '@sfu {"type":"candidate","candidate":{"candidate":"share"},"screen":true}',
    );
    // The stats sample the camera's upload.
    expect(sfu.connections().get('@sfu')).toBe(made[0]);

    sfu.setScreen(null);
    expect(made[1]!.closed).toBe(true);
    expect(made[0]!.closed).toBe(false);
    expect(told.at(-1)).toBe('@sfu {"type":"unpublish","screen":true}');
    // A refused share closes only the share.
    sfu.setScreen(screen as unknown as MediaStream);
    await flush();
    sfu.signal('@sfu', { type: 'error', screen: true, message: 'no' });
    expect(made[2]!.closed).toBe(true);
    expect(made[0]!.closed).toBe(false);
    expect(told.some((t) => t.startsWith('closed'))).toBe(false);
    // The room is told the share is over, and the same screen can be shared again.
    expect(told.at(-1)).toBe('screen failed');
    sfu.setScreen(screen as unknown as MediaStream);
    await flush();
    expect(made).toHaveLength(4);
    expect(told.at(-1)).toBe('@sfu {"type":"offer","sdp":"publish-1","screen":true}');
  });

  it("receives a participant's share in a connection of its own, until it ends", async () => {
    const { sfu, told, made } = session(null);
    sfu.add('p-a');
    sfu.signal('p-a', { type: 'offer', sdp: 'camera' });
    sfu.signal('p-a', { type: 'offer', sdp: 'share', screen: true });
    sfu.signal('p-a', { type: 'candidate', candidate: { candidate: 's1' }, screen: true });
    await flush();
    expect(made).toHaveLength(2);
    expect(made[1]!.calls).toEqual([
      'remote offer share',
      'candidate s1',
      'createAnswer',
      'local answer',
    ]);
    expect(told).toContain('p-a {"type":"answer","sdp":"subscribe-answer","screen":true}');
    made[1]!.fire('track', { track: track('video'), streams: [] });
    made[1]!.connection('connected');
    expect(told.slice(-1)).toEqual(['screen p-a on']);
    expect(sfu.connections().get('p-a')).toBe(made[0]);

    sfu.signal('p-a', { type: 'ended', screen: true });
    expect(made[1]!.closed).toBe(true);
    expect(made[0]!.closed).toBe(false);
    expect(told.at(-1)).toBe('screen p-a off');
    // A failed share goes alone; the camera's subscription stays.
    sfu.signal('p-a', { type: 'offer', sdp: 'share-2', screen: true });
    await flush();
    made[2]!.connection('failed');
    expect(made[0]!.closed).toBe(false);
    expect(told.at(-1)).toBe('screen p-a off');
    expect(told.some((t) => t.startsWith('closed') || t.includes('unsubscribe'))).toBe(false);
    // Removing the participant closes both.
    sfu.signal('p-a', { type: 'offer', sdp: 'share-3', screen: true });
    await flush();
    sfu.remove('p-a');
    expect(made.every((pc) => pc.closed)).toBe(true);
  });
});

describe('the sfu session: ICE restarts', () => {
  it('restarts an upload with a new offer on the same connection', async () => {
    const clock = new ManualClock();
    const { sfu, told, made } = session(undefined, clock);
    await flush();
    const upload = made[0]!;
    sfu.signal('@sfu', { type: 'answer', sdp: 'first' });
    await flush();
    upload.ice('connected');
    upload.ice('disconnected');
    clock.advance(999);
    expect(upload.calls).not.toContain('createOffer iceRestart');
    clock.advance(1);
    await flush();
    expect(upload.calls).toContain('createOffer iceRestart');
    expect(told.at(-1)).toBe('@sfu {"type":"offer","sdp":"publish-2","restart":true}');
    expect(told).toContain('reconnecting @sfu true');
    // Still down after the attempt's time: another offer. The first one's answer is stale.
    clock.advance(5000);
    await flush();
    expect(told.at(-1)).toBe('@sfu {"type":"offer","sdp":"publish-3","restart":true}');
    sfu.signal('@sfu', { type: 'answer', sdp: 'for-2' });
    sfu.signal('@sfu', { type: 'answer', sdp: 'for-3' });
    await flush();
    expect(upload.calls.filter((c) => c.startsWith('remote'))).toEqual([
      'remote answer first',
      'remote answer for-3',
    ]);
    upload.ice('connected');
    expect(told.at(-1)).toBe('reconnecting @sfu false');
    expect(made).toHaveLength(1);
  });

  it('asks the server to restart a download and answers on the same connection', async () => {
    const clock = new ManualClock();
    const { sfu, told, made } = session(null, clock);
    sfu.add('p-a');
    sfu.signal('p-a', { type: 'offer', sdp: 'camera' });
    await flush();
    const download = made[0]!;
    download.ice('connected');
    download.connection('connected');
    download.ice('failed');
    download.connection('failed');
    expect(told.slice(-2)).toEqual(['reconnecting p-a true', 'p-a {"type":"restart"}']);
    sfu.signal('p-a', { type: 'offer', sdp: 'camera-restart', restart: true });
    await flush();
    expect(made).toHaveLength(1);
    expect(download.calls.slice(-3)).toEqual([
      'remote offer camera-restart',
      'createAnswer',
      'local answer',
    ]);
    expect(told.at(-1)).toBe('p-a {"type":"answer","sdp":"subscribe-answer"}');
    download.ice('connected');
    expect(told.at(-1)).toBe('reconnecting p-a false');
    expect(download.closed).toBe(false);
  });

  it('gives up after the attempts: the connection closes as before', async () => {
    const clock = new ManualClock();
    const { sfu, told, made } = session(null, clock);
    sfu.add('p-a');
    sfu.signal('p-a', { type: 'offer', sdp: 'camera' });
    await flush();
    made[0]!.ice('connected');
    made[0]!.ice('failed');
    clock.advance(5000);
    clock.advance(5000);
    expect(made[0]!.closed).toBe(true);
    expect(told.slice(-3)).toEqual([
      'reconnecting p-a false',
      'p-a {"type":"unsubscribe"}',
      'closed p-a',
    ]);
  });
});

/** Lets settled promises run their callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
