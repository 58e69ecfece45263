/**
 * ICE restarts in Chromium (issue 17): a call, and a mesh room, on the namespace's veth address
 * only, survive the link going down and up, and a network change (`online`) restarts ICE. In the
 * outage project: it cuts the link every peer in the namespace may be using.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  ErrorCodes,
  createRelayClient,
  type CallSnapshot,
  type IceRestartOptions,
  type RelayClient,
} from 'relaycall/core';
import { createPeer } from '../../src/core/peer/createPeer.js';
import { activeCall, until } from '../browser/faultKit.js';
import { fetchTestToken, relayPerFile } from '../browser/helpers.js';
import { remotes, roomToken } from '../browser/roomKit.js';
import {
  ICE_RESTART,
  VethOnly,
  eventually,
  flowsOnVeth,
  made,
  resetVeth,
  restarts,
  stalled,
  ufragOf,
} from './outageKit.js';

const { relay, clients } = relayPerFile();
afterEach(resetVeth);

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

describe('ICE restart', () => {
  it('keeps a call through the link going down and up', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    const [aliceCall, bobCall] = await activeCall(alice, bob, 'bob');
    const [alicePc, bobPc] = made as [RTCPeerConnection, RTCPeerConnection];
    await flowsOnVeth(bobPc, 'bob receives over 10.77.0.x');
    await flowsOnVeth(alicePc, 'alice receives over 10.77.0.x');

    await commands.setLink('va', 'down');
    const stuck = await stalled(bobPc, 'bob stops receiving once the link is down');
    await until(alice, (s) => s.calls[aliceCall]?.reconnecting === true, 'alice reconnecting');
    await until(bob, (s) => s.calls[bobCall]?.reconnecting === true, 'bob reconnecting', 15_000);
    // The initiator restarted ICE (the callee asked it to, or it saw the failure itself).
    await expect.poll(() => restarts.called, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(call(alice, aliceCall).state).toBe('active');

    await commands.setLink('va', 'up');
    await flowsOnVeth(bobPc, 'bob receives again after the restart', { above: stuck });
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
    const [aliceCall, bobCall] = await activeCall(alice, bob, 'bob');
    const [alicePc, bobPc] = made as [RTCPeerConnection, RTCPeerConnection];
    const before = await flowsOnVeth(bobPc, 'bob receives over 10.77.0.x');
    const ufrag = (pc: RTCPeerConnection) => ufragOf(pc.localDescription!.sdp);
    const [aliceUfrag, bobUfrag] = [ufrag(alicePc), ufrag(bobPc)];

    window.dispatchEvent(new Event('online'));
    await expect.poll(() => restarts.called, { timeout: 10_000 }).toBeGreaterThan(0);
    // New ICE credentials on both sides: the offer and the answer of the restart went through.
    await expect.poll(() => ufrag(alicePc), { timeout: 10_000 }).not.toBe(aliceUfrag);
    await expect.poll(() => ufrag(bobPc), { timeout: 10_000 }).not.toBe(bobUfrag);
    await flowsOnVeth(bobPc, 'bob still receives after the restart', { above: before });
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
    await expect.poll(() => restarts.called, { timeout: 15_000 }).toBeGreaterThan(0);

    await commands.setLink('va', 'up');
    await flowsOnVeth(first, 'media flows again after the restart', { above: stuck });
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
    const [aliceCall, bobCall] = await activeCall(alice, bob, 'bob');
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
    expect(restarts.called).toBeGreaterThanOrEqual(2);
  });
});
