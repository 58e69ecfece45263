/**
 * ICE restarts in Chromium (issue 17): a call, and a mesh room, on the namespace's veth address
 * only, survive the link going down and up, and a network change (`online`) restarts ICE. In the
 * outage project: it cuts the link every peer in the namespace may be using.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  ErrorCodes,
  createRelayClient,
  type CallSnapshot,
  type IceRestartOptions,
  type RelayClient,
} from 'relaycall/core';
import { createPeer } from '../../src/core/peer/createPeer.js';
import { until } from '../browser/faultKit.js';
import { fetchTestToken, ringingCall } from '../browser/helpers.js';
import { remotes, roomToken } from '../browser/roomKit.js';

/** The veth address every peer must use: 10.77.0.1 (va), taken down and up by the tests. */
const onVeth = (candidate: string) => / 10\.77\.0\.1 \d+ typ /.test(candidate);

/** Every peer connection the clients made, and how many ICE restarts they began. */
const made: RTCPeerConnection[] = [];
let restarts = 0;

/**
 * Accepts only the other side's 10.77.0.1 candidates, so the media path runs over that address
 * (not loopback) and a downed link really cuts it.
 */
class VethOnly extends RTCPeerConnection {
  constructor(config?: RTCConfiguration) {
    super(config);
    made.push(this);
  }
  override addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    const line = candidate?.candidate;
    if (line && !onVeth(line)) return Promise.resolve();
    return super.addIceCandidate(candidate ?? undefined);
  }
  override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    const sdp = description.sdp
      ?.split('\r\n')
      .filter((line) => !line.startsWith('a=candidate:') || onVeth(line))
      .join('\r\n');
    return super.setRemoteDescription({ type: description.type, sdp });
  }
  override restartIce(): void {
    restarts += 1;
    super.restartIce();
  }
}

/** Short enough for a test, long enough for a loaded machine to reconnect within. */
const ICE_RESTART: IceRestartOptions = { graceMs: 1_000, attemptTimeoutMs: 6_000, maxAttempts: 8 };

let relay: { id: string; url: string; tokenUrl: string };
const clients: RelayClient[] = [];

beforeAll(async () => {
  relay = await commands.startRelay();
});
afterAll(() => commands.stopRelay(relay.id));
afterEach(async () => {
  await commands.setLink('va', 'up');
  for (const client of clients.splice(0)) client.destroy();
  made.length = 0;
  restarts = 0;
});

async function connected(
  resource: string,
  token?: string,
  iceRestart = ICE_RESTART,
): Promise<RelayClient> {
  const client = createRelayClient({
    url: relay.url,
    iceServers: [],
    iceRestart,
    createPeer: (options) => createPeer({ ...options, RTCPeerConnection: VethOnly }),
  });
  clients.push(client);
  await client.connect(token ?? (await fetchTestToken(relay.tokenUrl, resource)));
  return client;
}

const call = (client: RelayClient, id: string) => client.store.getState().calls[id] as CallSnapshot;

/** alice calls bob, bob answers; both sides active. */
async function activeCall(alice: RelayClient, bob: RelayClient) {
  const aliceCall = alice.call('bob');
  const ringing = ringingCall(await until(bob, (s) => ringingCall(s) !== undefined, 'bob rings'))!;
  await bob.answer(ringing.id);
  await until(alice, (s) => s.calls[aliceCall]?.state === 'active', 'alice active');
  await until(bob, (s) => s.calls[ringing.id]?.state === 'active', 'bob active');
  return { aliceCall, bobCall: ringing.id };
}

/** Bytes of media received, and the addresses of the selected candidate pair. */
async function received(pc: RTCPeerConnection) {
  const stats = await pc.getStats();
  let bytes = 0;
  let pair: string[] = [];
  stats.forEach((report: Record<string, unknown>) => {
    if (report.type === 'inbound-rtp') bytes += Number(report.bytesReceived ?? 0);
    if (report.type === 'transport' && typeof report.selectedCandidatePairId === 'string') {
      const selected = stats.get(report.selectedCandidatePairId) as Record<string, string>;
      const address = (id: string | undefined) =>
        String((stats.get(id ?? '') as { address?: string } | undefined)?.address);
      if (selected)
        pair = [address(selected.localCandidateId), address(selected.remoteCandidateId)];
    }
  });
  return { bytes, pair, ice: pc.iceConnectionState };
}

/** Checks `check` every 250 ms until it holds; fails saying `describe()` after `ms`. */
async function eventually(check: () => Promise<boolean>, describe: () => string, ms = 20_000) {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Resolves once `pc` has received more than `than` bytes, over the veth address. */
async function flowsOnVeth(pc: RTCPeerConnection, label: string, than = 0) {
  let last = await received(pc);
  await eventually(
    async () => {
      last = await received(pc);
      return last.bytes > than && last.pair.every((address) => address.startsWith('10.77.0.'));
    },
    () => `${label}: ${JSON.stringify(last)}`,
  );
  expect(last.pair).toHaveLength(2);
  return last.bytes;
}

/** Resolves once `pc` has received nothing for a second (the link is cut). */
async function stalled(pc: RTCPeerConnection, label: string) {
  let before = -1;
  let now = (await received(pc)).bytes;
  await eventually(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 750));
      before = now;
      now = (await received(pc)).bytes;
      return now === before;
    },
    () => `${label}: ${before} then ${now} bytes`,
  );
  return now;
}

describe('ICE restart', () => {
  it('keeps a call through the link going down and up', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    const { aliceCall, bobCall } = await activeCall(alice, bob);
    const [alicePc, bobPc] = made as [RTCPeerConnection, RTCPeerConnection];
    await flowsOnVeth(bobPc, 'bob receives over 10.77.0.x');
    await flowsOnVeth(alicePc, 'alice receives over 10.77.0.x');

    await commands.setLink('va', 'down');
    const stuck = await stalled(bobPc, 'bob stops receiving once the link is down');
    await until(alice, (s) => s.calls[aliceCall]?.reconnecting === true, 'alice reconnecting');
    await until(bob, (s) => s.calls[bobCall]?.reconnecting === true, 'bob reconnecting', 15_000);
    // The initiator restarted ICE (the callee asked it to, or it saw the failure itself).
    await expect.poll(() => restarts, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(call(alice, aliceCall).state).toBe('active');

    await commands.setLink('va', 'up');
    await flowsOnVeth(bobPc, 'bob receives again after the restart', stuck);
    await until(alice, (s) => s.calls[aliceCall]?.reconnecting === false, 'alice back', 20_000);
    await until(bob, (s) => s.calls[bobCall]?.reconnecting === false, 'bob back', 20_000);
    expect(call(alice, aliceCall)).toMatchObject({ id: aliceCall, state: 'active' });
    expect(call(bob, bobCall)).toMatchObject({ state: 'active', endReason: null });

    // The data channel survived: mute state still reaches the other side.
    alice.setAudioMuted(aliceCall, true);
    await until(bob, (s) => s.calls[bobCall]?.remoteAudioMuted === true, 'mute reaches bob');
    bob.setVideoMuted(bobCall, true);
    await until(alice, (s) => s.calls[aliceCall]?.remoteVideoMuted === true, 'mute reaches alice');
  });

  it('restarts ICE on a network change (online) without a break', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    const { aliceCall, bobCall } = await activeCall(alice, bob);
    const [alicePc, bobPc] = made as [RTCPeerConnection, RTCPeerConnection];
    const before = await flowsOnVeth(bobPc, 'bob receives over 10.77.0.x');
    const ufrag = (pc: RTCPeerConnection) =>
      /a=ice-ufrag:(\S+)/.exec(pc.localDescription!.sdp)?.[1];
    const [aliceUfrag, bobUfrag] = [ufrag(alicePc), ufrag(bobPc)];

    window.dispatchEvent(new Event('online'));
    await expect.poll(() => restarts, { timeout: 10_000 }).toBeGreaterThan(0);
    // New ICE credentials on both sides: the offer and the answer of the restart went through.
    await expect.poll(() => ufrag(alicePc), { timeout: 10_000 }).not.toBe(aliceUfrag);
    await expect.poll(() => ufrag(bobPc), { timeout: 10_000 }).not.toBe(bobUfrag);
    await flowsOnVeth(bobPc, 'bob still receives after the restart', before);
    expect(call(alice, aliceCall)).toMatchObject({ state: 'active', reconnecting: false });
    expect(call(bob, bobCall)).toMatchObject({ state: 'active', reconnecting: false });
    alice.setVideoMuted(aliceCall, true);
    await until(bob, (s) => s.calls[bobCall]?.remoteVideoMuted === true, 'mute reaches bob');
  });

  it('keeps a mesh room peer through the link going down and up', async () => {
    const scopes = 'calls:dial,calls:receive,rooms:join';
    const ann = await connected('ann', await roomToken(relay.tokenUrl, 'ann', scopes));
    const ben = await connected('ben', await roomToken(relay.tokenUrl, 'ben', scopes));
    await ann.joinRoom('standup');
    await ben.joinRoom('standup');
    const other = (client: RelayClient) => remotes(client, 'standup')[0];
    const peered = (client: RelayClient) => other(client)?.connected === true;
    await until(ann, () => peered(ann), 'ann peers with ben', 15_000);
    await until(ben, () => peered(ben), 'ben peers with ann', 15_000);
    expect(made).toHaveLength(2);
    const [first, second] = made as [RTCPeerConnection, RTCPeerConnection];
    await flowsOnVeth(first, 'one side receives over 10.77.0.x');
    await flowsOnVeth(second, 'the other side receives over 10.77.0.x');

    await commands.setLink('va', 'down');
    const stuck = await stalled(first, 'media stops once the link is down');
    await until(ann, () => other(ann)?.reconnecting === true, 'ann sees ben reconnecting', 15_000);
    await until(ben, () => other(ben)?.reconnecting === true, 'ben sees ann reconnecting', 15_000);
    await expect.poll(() => restarts, { timeout: 15_000 }).toBeGreaterThan(0);

    await commands.setLink('va', 'up');
    await flowsOnVeth(first, 'media flows again after the restart', stuck);
    await until(ann, () => other(ann)?.reconnecting === false, 'ann sees ben back', 20_000);
    await until(ben, () => other(ben)?.reconnecting === false, 'ben sees ann back', 20_000);
    // The same two connections carried it through: no peer was made again.
    expect(made).toHaveLength(2);
    await eventually(
      async () => made.every((pc) => pc.connectionState === 'connected'),
      () => `both connections up: ${made.map((pc) => pc.connectionState).join(', ')}`,
    );
    expect([peered(ann), peered(ben)]).toEqual([true, true]);
  });

  it('ends the call disconnected once its restarts fail', async () => {
    const brief: IceRestartOptions = { graceMs: 500, attemptTimeoutMs: 2_000, maxAttempts: 2 };
    const alice = await connected('alice', undefined, brief);
    const bob = await connected('bob', undefined, brief);
    const { aliceCall, bobCall } = await activeCall(alice, bob);
    await flowsOnVeth(made[1]!, 'bob receives over 10.77.0.x');

    await commands.setLink('va', 'down');
    await until(
      alice,
      (s) => s.calls[aliceCall]?.reconnecting === true,
      'alice reconnecting',
      15_000,
    );
    // Chromium notices within ~6 s; then 0.5 s of grace and 2 restarts of 2 s each.
    await until(alice, (s) => s.calls[aliceCall]?.state === 'ended', 'alice gives up', 20_000);
    await until(bob, (s) => s.calls[bobCall]?.state === 'ended', 'bob ends too', 20_000);
    // The side that gives up first ends `disconnected`; the other one may hear its hangup
    // through the Relay before its own restarts run out.
    const ended = [call(alice, aliceCall), call(bob, bobCall)];
    for (const one of ended) {
      expect(['disconnected', 'hangup']).toContain(one.endReason);
      expect(one.reconnecting).toBe(false);
    }
    const gaveUp = ended.find((one) => one.endReason === 'disconnected');
    expect(gaveUp?.error?.code).toBe(ErrorCodes.closed);
    expect(restarts).toBeGreaterThanOrEqual(2);
  });
});
