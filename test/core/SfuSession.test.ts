/**
 * The SFU media session's logic on a fake RTCPeerConnection that records what it is asked: what
 * it sends to the media server (SFU_PEER) and per participant, and what it reports. The real
 * thing, against a real Janus in Chromium, is test/browser/sfu.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { SIMULCAST_ENCODINGS, SfuSession } from '../../src/core/rooms/SfuSession.js';

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

  async createOffer() {
    this.calls.push('createOffer');
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
function session(stream: FakeStream | null = new FakeStream([track('audio'), track('video')])) {
  FakePeerConnection.made = [];
  const told: string[] = [];
  const streams: FakeStream[] = [];
  const sfu = new SfuSession({
    media: 'sfu',
    stream: stream as unknown as MediaStream | null,
    iceServers: () => [{ urls: 'turn:turn.test', username: 'u', credential: 'c' }],
    RTCPeerConnection: FakePeerConnection as unknown as typeof RTCPeerConnection,
    MediaStream: FakeStream as unknown as typeof MediaStream,
    callbacks: {
      onSignal: (id, data) => told.push(`${id} ${JSON.stringify(data)}`),
      onStream: (id, received) => {
        streams.push(received as unknown as FakeStream);
        told.push(`stream ${id}`);
      },
      onConnected: (id) => told.push(`connected ${id}`),
      onClosed: (id) => told.push(`closed ${id}`),
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

/** Lets settled promises run their callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
