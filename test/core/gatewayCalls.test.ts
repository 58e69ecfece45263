/**
 * Calls through the SIP gateway, client side: the gateway peer against a fake
 * RTCPeerConnection; the call manager against a scripted Relay (a fake `request` and the
 * notifications the Relay would send: docs/PROTOCOL.md#sip-and-phone-calls); and the scope
 * refusal before dialing against a real Relay. Media itself needs a browser and Janus.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { createStore } from 'zustand/vanilla';
import {
  createRelayClient,
  RelayError,
  type RelayClient,
  type RelayClientOptions,
  type RelayClientState,
  type Scope,
} from 'relaycall/core';
import { ManualClock, startTestRelay, type TestRelay } from 'relaycall/testing';
import { CallManager } from '../../src/core/calls/CallManager.js';
import { initialState } from '../../src/core/clientOptions.js';
import { createGatewayPeer } from '../../src/core/peer/createGatewayPeer.js';
import type { Peer, PeerSignal } from '../../src/core/peer/createPeer.js';
import { createHeldEmitter } from '../../src/core/peer/heldEmitter.js';
import { defaultDialerLabels, dialerStatusText } from '../../src/react/dialerLabels.js';
import { dialable, dialerMedia } from '../../src/react/dialTarget.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Just enough RTCPeerConnection for createGatewayPeer, with what it was asked recorded. */
class FakePC extends EventTarget {
  static last: FakePC;
  connectionState = 'new';
  iceConnectionState = 'new';
  signalingState = 'stable';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  log: string[] = [];
  senders: { track: { kind: string } | null; dtmf?: unknown }[] = [];
  constructor(readonly config: RTCConfiguration) {
    super();
    FakePC.last = this;
  }
  addTrack(track: { kind: string }) {
    this.log.push(`addTrack ${track.kind}`);
    this.senders.push({ track });
  }
  addTransceiver(kind: string, init: { direction: string }) {
    this.log.push(`addTransceiver ${kind} ${init.direction}`);
  }
  getSenders() {
    return this.senders;
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0 offer' };
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'v=0 answer' };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.log.push(`remote ${d.type} ${d.sdp}`);
    if (d.sdp === 'bad') throw new Error('SDP parse error');
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate(c: { candidate: string }) {
    this.log.push(`candidate ${c.candidate}`);
  }
  close() {
    this.log.push('close');
    this.connectionState = 'closed';
  }
  fire(type: string, props: Record<string, unknown> = {}) {
    this.dispatchEvent(Object.assign(new Event(type), props));
  }
  state(connectionState: string) {
    this.connectionState = connectionState;
    this.fire('connectionstatechange');
  }
}

const track = (kind: string) => ({ kind, enabled: true }) as unknown as MediaStreamTrack;
function stream(...kinds: string[]): MediaStream {
  const tracks = kinds.map(track);
  return { getTracks: () => tracks, id: kinds.join('+') } as unknown as MediaStream;
}

async function gatewayPeer(initiator: boolean, local = stream('audio')) {
  const peer = await createGatewayPeer({
    initiator,
    iceServers: [{ urls: 'stun:stun.example.com' }],
    iceTransportPolicy: 'relay',
    stream: local,
    RTCPeerConnection: FakePC as unknown as typeof RTCPeerConnection,
  });
  const signals: PeerSignal[] = [];
  const errors: RelayError[] = [];
  let closes = 0;
  let connects = 0;
  peer.onSignal((s) => signals.push(s));
  peer.onError((e) => errors.push(e));
  peer.onClose(() => (closes += 1));
  peer.onConnect(() => (connects += 1));
  return {
    peer,
    pc: FakePC.last,
    signals,
    errors,
    closes: () => closes,
    connects: () => connects,
  };
}

describe('createGatewayPeer', () => {
  it('offers with the local tracks, trickles candidates as JSON and ends them with null', async () => {
    const { peer, pc, signals } = await gatewayPeer(true, stream('audio', 'video'));
    expect(pc.config).toEqual({
      iceServers: [{ urls: 'stun:stun.example.com' }],
      iceTransportPolicy: 'relay',
    });
    expect(pc.log).toEqual(['addTrack audio', 'addTrack video']);
    await tick();
    expect(signals).toEqual([{ type: 'offer', sdp: 'v=0 offer' }]);
    const json = {
      candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    pc.fire('icecandidate', { candidate: { ...json, toJSON: () => json } });
    pc.fire('icecandidate', { candidate: { candidate: '', sdpMid: '0', sdpMLineIndex: 0 } });
    pc.fire('icecandidate', { candidate: null });
    expect(signals.slice(1)).toEqual([
      { type: 'candidate', candidate: json },
      { type: 'candidate', candidate: null },
    ]);
    expect(peer.send({ t: 'hangup' })).toBe(false);
  });

  it('still receives audio without a microphone', async () => {
    const { pc } = await gatewayPeer(true, stream('video'));
    expect(pc.log).toEqual(['addTrack video', 'addTransceiver audio recvonly']);
  });

  it('applies the answer once: the copy after early media is ignored', async () => {
    const { peer, pc, errors } = await gatewayPeer(true);
    await tick();
    // The 183's answer, the 200's copy, then a candidate of the gateway and the end marker.
    peer.signal({ type: 'answer', sdp: 'v=0 early' });
    peer.signal({ type: 'answer', sdp: 'v=0 final' });
    peer.signal({ type: 'candidate', candidate: { candidate: 'c1', sdpMid: '0' } });
    peer.signal({ type: 'candidate', candidate: null });
    await vi.waitFor(() => expect(pc.log).toContain('candidate c1'));
    expect(pc.log.filter((l) => !l.startsWith('add'))).toEqual([
      'remote answer v=0 early',
      'candidate c1',
    ]);
    expect(errors).toEqual([]);
  });

  it('answers an offer, adding candidates that came first once the offer is set', async () => {
    const { peer, pc, signals } = await gatewayPeer(false);
    await tick();
    expect(signals).toEqual([]);
    peer.signal({ type: 'candidate', candidate: { candidate: 'c0', sdpMid: '0' } });
    peer.signal({ type: 'offer', sdp: 'v=0 gateway' });
    await vi.waitFor(() => expect(signals).toEqual([{ type: 'answer', sdp: 'v=0 answer' }]));
    expect(pc.log).toEqual(['addTrack audio', 'remote offer v=0 gateway', 'candidate c0']);
  });

  it('connects once, shows each remote stream once', async () => {
    const { peer, pc, connects } = await gatewayPeer(true);
    const streams: MediaStream[] = [];
    peer.onStream((s) => streams.push(s));
    const remote = stream('audio');
    pc.fire('track', { track: track('audio'), streams: [remote] });
    pc.fire('track', { track: track('video'), streams: [remote] });
    expect(streams).toEqual([remote]);
    expect(peer.connected).toBe(false);
    pc.state('connected');
    pc.iceConnectionState = 'completed';
    pc.fire('iceconnectionstatechange');
    expect(connects()).toBe(1);
    expect(peer.connected).toBe(true);
  });

  it('reports a failed connection as an ICE failure, then closes once', async () => {
    const { peer, pc, errors, closes } = await gatewayPeer(true);
    pc.state('connected');
    pc.state('failed');
    await tick();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: 'call_failed',
      cause: { code: 'ERR_ICE_CONNECTION_FAILURE' },
    });
    expect(closes()).toBe(1);
    expect(peer.destroyed).toBe(true);
    expect(peer.connected).toBe(false);
    expect(pc.log).toContain('close');
  });

  it('fails on signaling it cannot apply', async () => {
    const { peer, errors, closes } = await gatewayPeer(false);
    peer.signal({ type: 'offer', sdp: 'bad' });
    await vi.waitFor(() => expect(closes()).toBe(1));
    expect(errors[0]).toMatchObject({
      code: 'call_failed',
      cause: { code: 'ERR_SET_REMOTE_DESCRIPTION' },
    });
    const other = await gatewayPeer(false);
    other.peer.signal('nonsense');
    await tick();
    expect(other.errors[0]).toMatchObject({ cause: { code: 'ERR_SIGNALING' } });
  });

  it('closes once on destroy (a microtask later, like simple-peer), then ignores signals', async () => {
    const { peer, pc, closes } = await gatewayPeer(false);
    peer.destroy();
    peer.destroy();
    expect(closes()).toBe(0);
    await tick();
    expect(closes()).toBe(1);
    peer.signal({ type: 'offer', sdp: 'v=0' });
    pc.state('closed');
    await tick();
    expect(closes()).toBe(1);
    expect(pc.log).toEqual(['addTrack audio', 'close']);
  });
});

/** A scripted gateway peer: what the manager makes it do, and events to emit from it. */
interface FakePeer extends Peer {
  received: unknown[];
  emit: (event: string, ...args: unknown[]) => void;
  isConnected: boolean;
}

function fakePeer(initiator: boolean, dtmf: unknown): FakePeer {
  const events = createHeldEmitter<Record<string, unknown[]>>();
  const received: unknown[] = [];
  const sender = { track: { kind: 'audio' }, dtmf };
  const peer: FakePeer = {
    initiator,
    pc: { getSenders: () => [sender] } as unknown as RTCPeerConnection,
    received,
    emit: (event, ...args) => events.emit(event, ...args),
    isConnected: false,
    get connected() {
      return peer.isConnected;
    },
    destroyed: false,
    onSignal: (l) => events.on('signal', l as never),
    onConnect: (l) => events.on('connect', l as never),
    onStream: (l) => events.on('stream', l as never),
    onData: (l) => events.on('data', l as never),
    onClose: (l) => events.on('close', l as never),
    onError: (l) => events.on('error', l as never),
    signal: (data) => void received.push(data),
    send: () => false,
    replaceTrack: async () => undefined,
    destroy: () => undefined,
  };
  return peer;
}

/** A call manager whose Relay is a script: requests are recorded and answered by `replies`. */
function manager(scopes: Scope[], options: { dtmf?: unknown; mediaDevices?: MediaDevices } = {}) {
  const store = createStore<RelayClientState>()(() => ({
    ...initialState({ url: 'http://relay.test' }),
    status: 'connected',
    scopes,
  }));
  const requests: [string, unknown][] = [];
  const replies: Record<string, (params: unknown) => unknown> = {
    'call.invite': () => ({ callId: 'srv-1' }),
  };
  const peers: FakePeer[] = [];
  const made: string[] = [];
  const calls = new CallManager({
    store,
    clock: new ManualClock(),
    mediaDevices: options.mediaDevices,
    createPeer: async () => {
      made.push('browser');
      throw new Error('no browser peers here');
    },
    createGatewayPeer: async ({ initiator }) => {
      made.push(initiator ? 'gateway initiator' : 'gateway');
      const peer = fakePeer(initiator, options.dtmf);
      peers.push(peer);
      return peer;
    },
    noAnswerTimeoutMs: 45_000,
    iceServers: () => [],
    whenConnected: async () => undefined,
    request: (async (method: string, params: unknown) => {
      requests.push([method, params]);
      const reply = replies[method];
      return reply ? reply(params) : {};
    }) as never,
  });
  let seq = 0;
  const notify = (method: string, params: Record<string, unknown>) =>
    calls.onNotification(method, { seq: ++seq, callId: 'srv-1', ...params });
  const call = (id: string) => store.getState().calls[id]!;
  /** Places a call to `to` and lets it be answered, its media connected. */
  const active = async (to = '+15551234567', local = stream('audio')) => {
    const id = calls.place(to, { localStream: local });
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    notify('call.answered', {});
    peers[0]!.emit('connect');
    expect(call(id).state).toBe('active');
    return id;
  };
  return { calls, store, requests, replies, peers, made, notify, call, active };
}

const AUDIO = stream('audio');
const PSTN: Scope[] = ['calls:dial', 'calls:receive', 'calls:pstn'];

describe('gateway calls', () => {
  it('goes early on 183, stays early while early media flows, is active once answered', async () => {
    const m = manager(PSTN);
    const id = m.calls.place('+15551234567', { localStream: AUDIO });
    expect(m.call(id)).toMatchObject({ gateway: 'pstn', state: 'dialing', sipStatus: null });
    await vi.waitFor(() => expect(m.requests[0]).toEqual(['call.invite', { to: '+15551234567' }]));
    const peer = m.peers[0]!;
    expect(m.made).toEqual(['gateway initiator']);
    // The offer goes at once with the call's id (the Relay does not hold a gateway call's).
    peer.emit('signal', { type: 'offer', sdp: 'v=0 offer' });
    await vi.waitFor(() =>
      expect(m.requests[1]).toEqual([
        'call.signal',
        { callId: 'srv-1', signal: { type: 'offer', sdp: 'v=0 offer' } },
      ]),
    );
    m.notify('call.ringing', {});
    expect(m.call(id).state).toBe('ringing');
    m.notify('call.early', {});
    m.notify('call.signal', { signal: { type: 'answer', sdp: 'v=0 early' } });
    expect(peer.received).toEqual([{ type: 'answer', sdp: 'v=0 early' }]);
    // ICE connects on early media: still early (a 180 after the 183 changes nothing).
    peer.isConnected = true;
    peer.emit('connect');
    m.notify('call.ringing', {});
    expect(m.call(id).state).toBe('early');
    m.notify('call.answered', {});
    expect(m.call(id).state).toBe('active');
    expect(m.call(id).startedAt).not.toBeNull();
  });

  it('answered before the media connects: connecting, then active', async () => {
    const m = manager(PSTN);
    const id = m.calls.place('+15551234567', { localStream: AUDIO });
    await vi.waitFor(() => expect(m.requests).toHaveLength(1));
    m.notify('call.answered', {});
    expect(m.call(id).state).toBe('connecting');
    m.peers[0]!.emit('connect');
    expect(m.call(id).state).toBe('active');
  });

  it('ends with the SIP status in the snapshot and in the error', async () => {
    const m = manager(PSTN);
    const id = m.calls.place('+15551234567', { localStream: AUDIO });
    await vi.waitFor(() => expect(m.requests).toHaveLength(1));
    m.notify('call.ended', { reason: 'busy', sipStatus: 486, sipReason: 'Busy Here' });
    expect(m.call(id)).toMatchObject({ state: 'ended', endReason: 'busy', sipStatus: 486 });
    expect(m.call(id).error).toMatchObject({
      code: 'busy',
      message: '+15551234567 is busy (SIP 486 Busy Here). Try again later.',
    });
    const other = manager(PSTN);
    const failed = other.calls.place('+15551234567', { localStream: AUDIO });
    await vi.waitFor(() => expect(other.requests).toHaveLength(1));
    other.notify('call.ended', {
      reason: 'failed',
      sipStatus: 500,
      sipReason: 'Server Internal Error',
    });
    expect(other.call(failed).error).toMatchObject({
      code: 'call_failed',
      message: 'The call failed: SIP 500 Server Internal Error.',
    });
  });

  it('holds and resumes through the Relay, with the tracks off while held', async () => {
    const local = stream('audio');
    const m = manager(PSTN);
    const id = await m.active('+15551234567', local);
    m.calls.setHeld(id, true);
    expect(m.call(id)).toMatchObject({ state: 'held', held: true });
    expect(local.getTracks()[0]!.enabled).toBe(false);
    m.calls.setHeld(id, false);
    expect(m.call(id)).toMatchObject({ state: 'active', held: false });
    expect(local.getTracks()[0]!.enabled).toBe(true);
    await tick();
    expect(m.requests.slice(1)).toEqual([
      ['call.hold', { callId: 'srv-1', held: true }],
      ['call.hold', { callId: 'srv-1', held: false }],
    ]);
  });

  it('sends a hold lost with the connection again once the session resumes', async () => {
    const m = manager(PSTN);
    const id = await m.active();
    let lost = true;
    m.replies['call.hold'] = () => {
      if (lost) throw new RelayError('connection_closed', 'gone');
      return {};
    };
    m.calls.setHeld(id, true);
    await tick();
    lost = false;
    m.calls.resumed();
    await tick();
    expect(m.requests.filter(([method]) => method === 'call.hold')).toEqual([
      ['call.hold', { callId: 'srv-1', held: true }],
      ['call.hold', { callId: 'srv-1', held: true }],
    ]);
  });

  it('sends DTMF in the media when telephone-event was negotiated (RFC 4733)', async () => {
    const dtmf = { canInsertDTMF: true, toneBuffer: '1', insertDTMF: vi.fn() };
    const m = manager(PSTN, { dtmf });
    const id = await m.active();
    m.calls.sendDtmf(id, '2#');
    m.calls.sendDtmf(id, 'x'); // not a tone: nothing sent
    // What is still queued plays first.
    expect(dtmf.insertDTMF).toHaveBeenCalledWith('12#', 100, 70);
    expect(dtmf.insertDTMF).toHaveBeenCalledTimes(1);
    await tick();
    expect(m.requests.map(([method]) => method)).toEqual(['call.invite']);
  });

  it('sends DTMF through the Relay (SIP INFO) otherwise; shows the tones the SIP side sent', async () => {
    const m = manager(PSTN, { dtmf: { canInsertDTMF: false, insertDTMF: vi.fn() } });
    const id = await m.active();
    m.calls.sendDtmf(id, '123');
    await tick();
    expect(m.requests[1]).toEqual(['call.dtmf', { callId: 'srv-1', tones: '123' }]);
    m.notify('call.dtmf', { tones: '4' });
    m.notify('call.dtmf', { tones: '5#' });
    expect(m.call(id).remoteDtmf).toBe('45#');
  });

  it('transfers an active gateway call, which then ends as transferred without an error', async () => {
    const m = manager([...PSTN, 'calls:sip']);
    const id = m.calls.place('+15551234567', { localStream: AUDIO });
    await vi.waitFor(() => expect(m.requests).toHaveLength(1));
    await expect(m.calls.transfer(id, 'sip:desk@pbx.example.com')).rejects.toMatchObject({
      code: 'invalid_state',
    });
    m.notify('call.answered', {});
    m.peers[0]!.emit('connect');
    await expect(m.calls.transfer(id, 'alice')).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(m.calls.transfer(id, '+1')).rejects.toMatchObject({ code: 'invalid_params' });
    await m.calls.transfer(id, 'sip:desk@pbx.example.com');
    expect(m.requests.at(-1)).toEqual([
      'call.transfer',
      { callId: 'srv-1', to: 'sip:desk@pbx.example.com' },
    ]);
    m.notify('call.ended', { reason: 'transferred', sipStatus: 202 });
    expect(m.call(id)).toMatchObject({ state: 'ended', endReason: 'transferred', error: null });
  });

  it('refuses to transfer without the target scope, or a call between browsers', async () => {
    const m = manager(PSTN);
    const id = await m.active();
    await expect(m.calls.transfer(id, 'sip:desk@pbx.example.com')).rejects.toMatchObject({
      code: 'forbidden',
      message: 'Your token may not call SIP addresses. Ask for a token with calls:sip.',
    });
    m.notify('call.incoming', { callId: 'srv-2', from: 'bob' });
    const browser = Object.values(m.store.getState().calls).find((c) => c.remote === 'bob')!;
    expect(browser.gateway).toBeNull();
    await expect(m.calls.transfer(browser.id, '+15550000000')).rejects.toMatchObject({
      code: 'invalid_state',
    });
    await expect(m.calls.transfer('nope', '+15550000000')).rejects.toMatchObject({
      code: 'call_not_found',
    });
  });

  it('answers an incoming phone call audio only, with a gateway peer that waits for the offer', async () => {
    const getUserMedia = vi.fn(async (_constraints: unknown) => stream('audio'));
    const m = manager(PSTN, { mediaDevices: { getUserMedia } as unknown as MediaDevices });
    m.notify('call.incoming', { from: '+15557654321', gateway: 'pstn' });
    const [incoming] = Object.values(m.store.getState().calls);
    expect(incoming).toMatchObject({ direction: 'incoming', gateway: 'pstn', state: 'ringing' });
    await m.calls.answer(incoming!.id, {});
    expect(getUserMedia).toHaveBeenCalledWith({ audio: true, video: false });
    expect(m.made).toEqual(['gateway']);
    expect(m.requests).toEqual([['call.answer', { callId: 'srv-1' }]]);
    m.notify('call.signal', { signal: { type: 'offer', sdp: 'v=0 gateway' } });
    expect(m.peers[0]!.received).toEqual([{ type: 'offer', sdp: 'v=0 gateway' }]);
    m.peers[0]!.emit('signal', { type: 'answer', sdp: 'v=0 answer' });
    m.peers[0]!.emit('connect');
    expect(m.call(incoming!.id).state).toBe('active');
    await tick();
    expect(m.requests[1]).toEqual([
      'call.signal',
      { callId: 'srv-1', signal: { type: 'answer', sdp: 'v=0 answer' } },
    ]);
  });

  it('places gateway calls audio only unless video is asked for a sip: target', async () => {
    const getUserMedia = vi.fn(async (_constraints: unknown) => stream('audio'));
    const m = manager([...PSTN, 'calls:sip'], {
      mediaDevices: { getUserMedia } as unknown as MediaDevices,
    });
    m.calls.place('+15551234567', { video: true });
    m.calls.place('sip:alice@pbx.example.com', {});
    m.calls.place('sip:alice@pbx.example.com', { video: true });
    await vi.waitFor(() => expect(getUserMedia).toHaveBeenCalledTimes(3));
    expect(getUserMedia.mock.calls.map(([c]) => (c as { video: unknown }).video)).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('refuses a malformed number before any media or request', () => {
    const m = manager(PSTN);
    const id = m.calls.place('+0123', { localStream: AUDIO });
    expect(m.call(id)).toMatchObject({
      state: 'ended',
      endReason: 'failed',
      error: { code: 'invalid_params' },
    });
    expect(m.requests).toEqual([]);
  });
});

describe('the Dialer and gateway calls', () => {
  it('announces early media', () => {
    const text = dialerStatusText(defaultDialerLabels, {
      connection: 'connected',
      state: 'early',
      direction: 'outgoing',
      remote: '+15551234567',
      remoteHeld: false,
      endReason: null,
      incomingFrom: null,
    });
    expect(text).toBe('Ringing +15551234567… (early media)');
  });

  it('dials numbers without their separators, and gateway calls audio only', () => {
    expect(dialable(' +1 (555) 123-4567 ')).toBe('+15551234567');
    expect(dialable(' bob ')).toBe('bob');
    expect(dialerMedia({ video: true, metadata: 1 }, 'pstn')).toEqual({
      video: false,
      metadata: 1,
    });
    expect(dialerMedia({ video: true }, null)).toEqual({ video: true });
  });
});

describe('gateway calls against a real Relay', () => {
  let relay: TestRelay | undefined;
  const clients: RelayClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await relay?.close();
    relay = undefined;
  });

  async function connected(scopes: Scope[]) {
    relay = await startTestRelay({ limits: { heartbeatIntervalMs: 0 } });
    const createGatewayPeer = vi.fn();
    const client = createRelayClient({
      url: relay.url,
      WebSocket: WebSocket as unknown as RelayClientOptions['WebSocket'],
      createGatewayPeer,
    });
    clients.push(client);
    await client.connect(await relay.issueToken('alice', { scopes }));
    return { client, createGatewayPeer, relay };
  }

  it('ends a call to a phone number at once with forbidden when the token lacks calls:pstn', async () => {
    const { client, createGatewayPeer, relay } = await connected(['calls:dial', 'calls:receive']);
    const id = client.call('+15551234567');
    expect(client.store.getState().calls[id]).toMatchObject({
      state: 'ended',
      endReason: 'forbidden',
      gateway: 'pstn',
      error: {
        code: 'forbidden',
        message: 'Your token may not call phone numbers. Ask for a token with calls:pstn.',
      },
    });
    const sip = client.call('sip:alice@pbx.example.com');
    expect(client.store.getState().calls[sip]?.error?.message).toBe(
      'Your token may not call SIP addresses. Ask for a token with calls:sip.',
    );
    expect(createGatewayPeer).not.toHaveBeenCalled();
    expect(relay.server.stats().calls).toBe(0);
  });

  it('rejects the transfer of a call between browsers with invalid_state', async () => {
    const { client } = await connected(['calls:dial', 'calls:receive', 'calls:pstn']);
    const id = client.call('bob', { localStream: AUDIO });
    await expect(client.transfer(id, '+15551234567')).rejects.toMatchObject({
      code: 'invalid_state',
    });
  });
});
