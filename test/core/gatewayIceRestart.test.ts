/**
 * ICE restarts of the gateway peer (issue 17) against a fake RTCPeerConnection on a manual clock:
 * the browser offers each restart (`{type: 'offer', sdp, restart: true}`), says it is
 * reconnecting meanwhile, offers the same SDP again while the gateway has not answered, and gives
 * up as an ICE failure. Media and Janus's side: test/browser/sipIceRestart.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { RelayError } from 'relaycall/core';
import { ManualClock } from 'relaycall/testing';
import { createGatewayPeer } from '../../src/core/peer/createGatewayPeer.js';
import type { PeerSignal } from '../../src/core/peer/createPeer.js';
import type { IceRestartOptions } from '../../src/core/peer/IceRestarter.js';

/** Lets the peer's queued signaling steps (promise chains) run. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Just enough RTCPeerConnection: descriptions, states and the offers asked for. */
class FakePC extends EventTarget {
  static last: FakePC;
  connectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  signalingState = 'stable';
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  offers: (RTCOfferOptions | undefined)[] = [];
  closed = false;
  constructor() {
    super();
    FakePC.last = this;
  }
  addTrack() {}
  addTransceiver() {}
  async createOffer(options?: RTCOfferOptions) {
    this.offers.push(options);
    return { type: 'offer', sdp: `offer ${this.offers.length}` };
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'answer' };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate() {}
  close() {
    this.closed = true;
    this.connectionState = 'closed';
  }
  ice(state: RTCIceConnectionState, connection = state === 'completed' ? 'connected' : state) {
    this.iceConnectionState = state;
    this.connectionState = connection;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
    this.dispatchEvent(new Event('connectionstatechange'));
  }
}

const OPTIONS: IceRestartOptions = {
  graceMs: 1_000,
  attemptTimeoutMs: 5_000,
  maxAttempts: 2,
  onNetworkChange: () => () => {},
};

/** A connected gateway peer of an answered outgoing call; `null`: without `iceRestart`. */
async function connected(iceRestart: IceRestartOptions | null = OPTIONS) {
  const clock = new ManualClock();
  const peer = await createGatewayPeer({
    initiator: true,
    iceServers: [],
    clock,
    RTCPeerConnection: FakePC as unknown as typeof RTCPeerConnection,
    ...(iceRestart === null ? {} : { iceRestart }),
  });
  const pc = FakePC.last;
  const signals: PeerSignal[] = [];
  const errors: RelayError[] = [];
  const reconnecting: boolean[] = [];
  let closes = 0;
  peer.onSignal((s) => signals.push(s));
  peer.onError((e) => errors.push(e));
  peer.onClose(() => (closes += 1));
  peer.onReconnecting?.((on) => reconnecting.push(on));
  await settle();
  peer.signal({ type: 'answer', sdp: 'gateway answer' });
  await settle();
  pc.ice('connected');
  signals.length = 0;
  return { clock, peer, pc, signals, errors, reconnecting, closes: () => closes };
}

describe('ICE restarts of the gateway peer', () => {
  it('offers a restart once ICE stays disconnected, and is back once it reconnects', async () => {
    const { clock, peer, pc, signals, reconnecting } = await connected();
    pc.ice('disconnected');
    expect(peer.reconnecting).toBe(true);
    clock.advance(999);
    await settle();
    expect(signals).toEqual([]);
    clock.advance(1);
    await settle();
    expect(pc.offers.at(-1)).toEqual({ iceRestart: true });
    expect(signals).toEqual([{ type: 'offer', sdp: 'offer 2', restart: true }]);

    peer.signal({ type: 'answer', sdp: 'restart answer' });
    await settle();
    expect(pc.remoteDescription?.sdp).toBe('restart answer');
    pc.ice('connected');
    expect(reconnecting).toEqual([true, false]);
    expect(peer.reconnecting).toBe(false);
    expect(peer.connected).toBe(true);
  });

  it('keeps the call through ICE failed: the restart handles it, not a call failure', async () => {
    const { pc, signals, errors, closes, peer } = await connected();
    pc.ice('failed');
    await settle();
    expect(errors).toEqual([]);
    expect(closes()).toBe(0);
    expect(signals).toEqual([{ type: 'offer', sdp: 'offer 2', restart: true }]);
    expect(peer.destroyed).toBe(false);
  });

  it('offers the same SDP again while the gateway has not answered, then gives up', async () => {
    const { clock, pc, signals, errors, closes, reconnecting } = await connected();
    pc.ice('failed');
    await settle();
    clock.advance(5_000);
    await settle();
    // Still unanswered: the same offer again (any answer the gateway gives fits it).
    expect(signals).toEqual([
      { type: 'offer', sdp: 'offer 2', restart: true },
      { type: 'offer', sdp: 'offer 2', restart: true },
    ]);
    expect(pc.offers).toHaveLength(2);
    clock.advance(5_000);
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: 'call_failed',
      cause: { code: 'ERR_ICE_CONNECTION_FAILURE' },
    });
    expect(errors[0]!.message).toMatch(/check the network connection/);
    expect(closes()).toBe(1);
    expect(pc.closed).toBe(true);
    expect(reconnecting).toEqual([true]);
  });

  it('offers new credentials for each restart once the last one was answered', async () => {
    const { clock, peer, pc, signals } = await connected();
    pc.ice('failed');
    await settle();
    peer.signal({ type: 'answer', sdp: 'answer 1' });
    await settle();
    clock.advance(5_000);
    await settle();
    expect(signals.map((s) => s.sdp)).toEqual(['offer 2', 'offer 3']);
    expect(pc.offers.slice(1)).toEqual([{ iceRestart: true }, { iceRestart: true }]);
  });

  it('does not restart without the option (supervision links): ICE failure ends it', async () => {
    const { pc, signals, errors, closes, peer } = await connected(null);
    pc.ice('disconnected');
    expect(peer.reconnecting).toBe(false);
    pc.ice('failed');
    await settle();
    expect(signals).toEqual([]);
    expect(errors[0]).toMatchObject({ cause: { code: 'ERR_ICE_CONNECTION_FAILURE' } });
    expect(closes()).toBe(1);
  });

  it('stops restarting once destroyed', async () => {
    const { clock, pc, signals, peer } = await connected();
    pc.ice('disconnected');
    peer.destroy();
    clock.advance(60_000);
    await settle();
    expect(signals).toEqual([]);
    expect(peer.reconnecting).toBe(false);
  });
});
