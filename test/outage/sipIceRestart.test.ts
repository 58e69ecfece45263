/**
 * ICE restarts of gateway calls in Chromium (issue 17): a real Janus with its SIP plugin and sipp
 * as the far end (test/browser/sipCommands.ts). The browser offers each restart; the Relay hands
 * it to Janus as an `update`, which re-INVITEs sipp, and Janus's answer comes back. The media
 * path is cut by taking the namespace's veth link down (test/browser/linkCommands.ts; hence the
 * outage project, which runs this file alone in its namespace): the page keeps only candidates
 * on 10.77.0.1 (va), both ways, so that no path around it exists. Janus's SIP side and sipp are
 * on 10.77.0.2 (vb), so the SIP call and its RTP stay up, as when only a browser's network
 * changes (Janus's SIP plugin hangs a call up when its RTP sockets keep failing).
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
import { createGatewayPeer } from '../../src/core/peer/createGatewayPeer.js';
import { ringsFromTrunk, until } from '../browser/faultKit.js';
import { describeCall, fetchTestToken, relayPerFile } from '../browser/helpers.js';
import {
  ICE_RESTART,
  VethOnly,
  eventually,
  flowsOnVeth,
  made,
  media,
  resetVeth,
  restarts,
  stalled,
  ufragOf,
} from './outageKit.js';

const { relay, clients } = relayPerFile(
  () => commands.startSipRelay({ sipLocalIp: '10.77.0.2' }),
  (id) => commands.stopSipRelay(id),
);
afterEach(resetVeth);

async function connected(
  tokenUrl: string,
  resource: string,
  scopes: string,
  iceRestart = ICE_RESTART,
): Promise<RelayClient> {
  const client = createRelayClient({
    url: relay.url,
    iceServers: [],
    iceRestart,
    createGatewayPeer: (options) => createGatewayPeer({ ...options, RTCPeerConnection: VethOnly }),
  });
  clients.push(client);
  await client.connect(await fetchTestToken(tokenUrl, resource, scopes));
  return client;
}

const call = (client: RelayClient, id: string) => client.store.getState().calls[id] as CallSnapshot;

/** Resolves once audio from sipp flows into `pc` (and keeps flowing) on 10.77.0.1 both ends. */
const audioOnVa = (pc: RTCPeerConnection, label: string, above = 0) =>
  flowsOnVeth(pc, label, { above, more: 1_000, pair: 'va' });

/** The INVITEs sipp received so far (the call's, then a re-INVITE per restart), copies aside. */
async function invitesSeen(sippId: string): Promise<number> {
  const { messages } = await commands.sippResult(sippId);
  const cseqs = new Set<string>();
  for (const block of messages.split(/^-{20,}.*$/m)) {
    if (!/message received/.test(block) || !/^INVITE sip:/m.test(block)) continue;
    cseqs.add(/^CSeq:\s*(\d+)/im.exec(block)?.[1] ?? block);
  }
  return cseqs.size;
}

/** A call from `client` to sipp's uas-echo, active with audio flowing over va. */
async function activeEchoCall(client: RelayClient) {
  const far = await commands.startSippFar(relay.id, 'uas-echo');
  const callId = client.call(`sip:echo@${far.address}`);
  await until(
    client,
    (s) => s.calls[callId]?.state === 'active',
    describeCall(client, callId),
    20_000,
  );
  expect(made).toHaveLength(1);
  const pc = made[0]!;
  const bytes = await audioOnVa(pc, 'audio from sipp over 10.77.0.1');
  return { far, callId, pc, bytes };
}

describe('ICE restart of gateway calls', () => {
  it('keeps a call to a sip: URI through the link going down and up', async () => {
    const alice = await connected(relay.tokenUrl, 'sip-alice', 'calls:dial,calls:sip');
    const { far, callId, pc } = await activeEchoCall(alice);
    const ended: string[] = [];
    const stop = alice.store.subscribe((s) => {
      if (s.calls[callId]?.state === 'ended') ended.push(describeCall(alice, callId)());
    });

    await commands.setLink('va', 'down');
    const stuck = await stalled(pc, 'no audio once the link is down');
    await until(
      alice,
      (s) => s.calls[callId]?.reconnecting === true,
      describeCall(alice, callId),
      15_000,
    );
    await eventually(
      async () => restarts.offered > 0,
      () => `a restart offer: ${JSON.stringify(call(alice, callId).reconnecting)}`,
      15_000,
    );
    expect(call(alice, callId).state).toBe('active');

    await commands.setLink('va', 'up');
    await audioOnVa(pc, 'audio from sipp again after the restart', stuck);
    await until(
      alice,
      (s) => s.calls[callId]?.reconnecting === false,
      describeCall(alice, callId),
      20_000,
    );
    stop();
    expect(ended).toEqual([]);
    expect(call(alice, callId)).toMatchObject({ state: 'active', endReason: null });
    // The restart went to the SIP side as a re-INVITE (sipp answers it, then echoes on).
    expect(await invitesSeen(far.sippId)).toBeGreaterThanOrEqual(2);
    expect(made).toHaveLength(1);

    alice.hangup(callId);
    const result = await commands.sippResult(far.sippId, { wait: true });
    expect(result.code).toBe(0);
    expect(result.messages).toMatch(/^BYE sip:/m);
  }, 90_000);

  it('restarts on a network change (online): new ICE credentials, a re-INVITE, no break', async () => {
    const alice = await connected(relay.tokenUrl, 'sip-ann', 'calls:dial,calls:sip');
    const { far, callId, pc, bytes } = await activeEchoCall(alice);
    const local = ufragOf(pc.localDescription?.sdp);
    const remote = ufragOf(pc.remoteDescription?.sdp);

    window.dispatchEvent(new Event('online'));
    await eventually(
      async () => ufragOf(pc.remoteDescription?.sdp) !== remote && pc.signalingState === 'stable',
      () => `Janus's answer to the restart: ${pc.signalingState}`,
      15_000,
    );
    expect(restarts.offered).toBeGreaterThanOrEqual(1);
    expect(ufragOf(pc.localDescription?.sdp)).not.toBe(local);
    await audioOnVa(pc, 'audio from sipp after the restart', bytes);
    expect(await invitesSeen(far.sippId)).toBeGreaterThanOrEqual(2);
    expect(call(alice, callId)).toMatchObject({ state: 'active', reconnecting: false });
    alice.hangup(callId);
    expect((await commands.sippResult(far.sippId, { wait: true })).code).toBe(0);
  }, 60_000);

  it('restarts an incoming call too: the browser offers, the caller gets the re-INVITE', async () => {
    const alice = await connected(relay.inboundTokenUrl, 'alice', 'calls:receive');
    const { caller, incoming } = await ringsFromTrunk(relay, alice, 20_000);
    await alice.answer(incoming.id);
    await until(
      alice,
      (s) => s.calls[incoming.id]?.state === 'active',
      describeCall(alice, incoming.id),
      15_000,
    );
    const pc = made[0]!;
    await eventually(
      async () => pc.connectionState === 'connected',
      () => `connected: ${pc.connectionState}`,
      10_000,
    );
    // Restart only once the caller's audio arrives: sipp starts it as it enters the call loop
    // that accepts a re-INVITE. One sent just after the ACK, while sipp was still between those
    // steps, was "unexpected" to it, and it hung up (as the outgoing tests' waits already avoid).
    await audioOnVa(pc, 'audio from the caller (sipp) before the restart');
    const remote = ufragOf(pc.remoteDescription?.sdp);
    let before = await media(pc);

    window.dispatchEvent(new Event('online'));
    await eventually(
      async () => pc.signalingState === 'stable' && ufragOf(pc.remoteDescription?.sdp) !== remote,
      () =>
        `Janus's answer to the restart: ${pc.signalingState}; the call: ${describeCall(alice, incoming.id)()}`,
      15_000,
    ).catch(async (error: Error) => {
      // A clean-clone run once found the connection closed here: say what the caller saw.
      const seen = await commands.sippResult(caller.sippId);
      throw new Error(`${error.message}\nthe caller (sipp) saw:\n${seen.messages}`);
    });
    // The page was the answerer of the call and offered the restart; media still goes out.
    expect(pc.localDescription?.type).toBe('offer');
    before = await media(pc);
    await eventually(
      async () => {
        const now = await media(pc);
        return now.connection === 'connected' && now.bytesSent > before.bytesSent + 1_000;
      },
      () => `audio to the caller after the restart: ${JSON.stringify(before)}`,
    );
    expect(await invitesSeen(caller.sippId)).toBeGreaterThanOrEqual(1);
    expect(call(alice, incoming.id)).toMatchObject({ state: 'active', reconnecting: false });
    alice.hangup(incoming.id);
    expect((await commands.sippResult(caller.sippId, { wait: true })).code).toBe(0);
  }, 60_000);

  it('ends the call disconnected once its restarts fail', async () => {
    const brief: IceRestartOptions = { graceMs: 500, attemptTimeoutMs: 2_000, maxAttempts: 2 };
    const alice = await connected(relay.tokenUrl, 'sip-ben', 'calls:dial,calls:sip', brief);
    const { callId } = await activeEchoCall(alice);

    await commands.setLink('va', 'down');
    await until(
      alice,
      (s) => s.calls[callId]?.reconnecting === true,
      describeCall(alice, callId),
      15_000,
    );
    // Chromium notices within ~6 s; then 0.5 s of grace and 2 restarts of 2 s each.
    await until(
      alice,
      (s) => s.calls[callId]?.state === 'ended',
      describeCall(alice, callId),
      20_000,
    );
    expect(call(alice, callId)).toMatchObject({ endReason: 'disconnected', reconnecting: false });
    expect(call(alice, callId).error?.code).toBe(ErrorCodes.closed);
    expect(restarts.offered).toBeGreaterThanOrEqual(1);
    // The Relay hung the SIP leg up.
    await eventually(
      async () => (await commands.sipRelayStats(relay.id)).sip?.calls === 0,
      () => 'the gateway leg ended',
      10_000,
    );
  }, 60_000);
});
