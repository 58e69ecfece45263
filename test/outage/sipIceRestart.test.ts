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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  ErrorCodes,
  createRelayClient,
  type CallSnapshot,
  type IceRestartOptions,
  type RelayClient,
} from 'relaycall/core';
import { createGatewayPeer } from '../../src/core/peer/createGatewayPeer.js';
import { until } from '../browser/faultKit.js';
import type { SipRelayHandle } from '../browser/sipCommands.js';

/** The veth address every path must use: 10.77.0.1 (va), taken down and up by the tests. */
const onVeth = (candidate: string) => / 10\.77\.0\.1 \d+ typ /.test(candidate);

/** Every peer connection the clients made, and the ICE restart offers they created. */
const made: RTCPeerConnection[] = [];
let restartOffers = 0;

/**
 * Uses and hands out only 10.77.0.1 candidates: Janus's (in its SDP) and the page's own (as they
 * trickle), so the media path runs over va and a downed va really cuts it.
 */
class VethOnly extends RTCPeerConnection {
  constructor(config?: RTCConfiguration) {
    super(config);
    made.push(this);
    // First listener of all: the page's other candidates never reach the gateway peer's.
    this.addEventListener('icecandidate', (event) => {
      const line = event.candidate?.candidate;
      if (line && !onVeth(line)) event.stopImmediatePropagation();
    });
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
  override setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
    // An offer once the call was negotiated can only be a restart's.
    if (description?.type === 'offer' && this.remoteDescription) restartOffers += 1;
    return super.setLocalDescription(description);
  }
}

/** Short enough for a test, long enough for a loaded machine to reconnect within. */
const ICE_RESTART: IceRestartOptions = { graceMs: 1_000, attemptTimeoutMs: 6_000, maxAttempts: 8 };

let relay: SipRelayHandle;
const clients: RelayClient[] = [];

beforeAll(async () => {
  relay = await commands.startSipRelay({ sipLocalIp: '10.77.0.2' });
}, 60_000);
afterAll(async () => {
  await commands.setLink('va', 'up');
  if (relay) await commands.stopSipRelay(relay.id);
});
afterEach(async () => {
  await commands.setLink('va', 'up');
  for (const client of clients.splice(0)) client.destroy();
  made.length = 0;
  restartOffers = 0;
});

async function token(tokenUrl: string, resource: string, scopes: string): Promise<string> {
  const response = await fetch(`${tokenUrl}?resource=${resource}&scopes=${scopes}`);
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

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
  await client.connect(await token(tokenUrl, resource, scopes));
  return client;
}

const call = (client: RelayClient, id: string) => client.store.getState().calls[id] as CallSnapshot;

const describeCall = (client: RelayClient, callId: string) => () =>
  JSON.stringify(client.store.getState().calls[callId] ?? null, (key, value: unknown) =>
    key === 'localStream' || key === 'remoteStream' ? undefined : value,
  );

/** Audio bytes sent and received, and the addresses of the selected candidate pair. */
async function media(pc: RTCPeerConnection) {
  const stats = await pc.getStats();
  let sent = 0;
  let received = 0;
  let pair: string[] = [];
  stats.forEach((report: Record<string, unknown>) => {
    if (report.type === 'outbound-rtp') sent += Number(report.bytesSent ?? 0);
    if (report.type === 'inbound-rtp') received += Number(report.bytesReceived ?? 0);
    if (report.type === 'transport' && typeof report.selectedCandidatePairId === 'string') {
      const selected = stats.get(report.selectedCandidatePairId) as Record<string, string>;
      const address = (id: string | undefined) =>
        String((stats.get(id ?? '') as { address?: string } | undefined)?.address);
      if (selected)
        pair = [address(selected.localCandidateId), address(selected.remoteCandidateId)];
    }
  });
  return { sent, received, pair, ice: pc.iceConnectionState, connection: pc.connectionState };
}

/** Checks `check` every 250 ms until it holds; fails saying `describe()` after `ms`. */
async function eventually(check: () => Promise<boolean>, describe: () => string, ms = 20_000) {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Resolves once `pc` has received more than `than` bytes of audio, keeps receiving (another
 * 1 000 bytes: not a burst that stopped) and its candidate pair is on 10.77.0.1 both ends.
 */
async function flowsOnVeth(pc: RTCPeerConnection, label: string, than = 0): Promise<number> {
  let last = await media(pc);
  let first = 0;
  await eventually(
    async () => {
      last = await media(pc);
      if (first === 0 && last.received > than) first = last.received;
      return (
        first > 0 &&
        last.received >= first + 1_000 &&
        last.pair.length === 2 &&
        last.pair.every((address) => address === '10.77.0.1')
      );
    },
    () => `${label}: ${JSON.stringify(last)} (first above ${than}: ${first})`,
  );
  return last.received;
}

/** Resolves once `pc` has received nothing for 750 ms (the link is cut). */
async function stalled(pc: RTCPeerConnection, label: string): Promise<number> {
  let before = -1;
  let now = (await media(pc)).received;
  await eventually(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 750));
      before = now;
      now = (await media(pc)).received;
      return now === before;
    },
    () => `${label}: ${before} then ${now} bytes`,
  );
  return now;
}

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
  const bytes = await flowsOnVeth(pc, 'audio from sipp over 10.77.0.1');
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
      async () => restartOffers > 0,
      () => `a restart offer: ${JSON.stringify(call(alice, callId).reconnecting)}`,
      15_000,
    );
    expect(call(alice, callId).state).toBe('active');

    await commands.setLink('va', 'up');
    await flowsOnVeth(pc, 'audio from sipp again after the restart', stuck);
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
    const ufrag = (sdp: string | undefined) => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1];
    const local = ufrag(pc.localDescription?.sdp);
    const remote = ufrag(pc.remoteDescription?.sdp);

    window.dispatchEvent(new Event('online'));
    await eventually(
      async () => ufrag(pc.remoteDescription?.sdp) !== remote && pc.signalingState === 'stable',
      () => `Janus's answer to the restart: ${pc.signalingState}`,
      15_000,
    );
    expect(restartOffers).toBeGreaterThanOrEqual(1);
    expect(ufrag(pc.localDescription?.sdp)).not.toBe(local);
    await flowsOnVeth(pc, 'audio from sipp after the restart', bytes);
    expect(await invitesSeen(far.sippId)).toBeGreaterThanOrEqual(2);
    expect(call(alice, callId)).toMatchObject({ state: 'active', reconnecting: false });
    alice.hangup(callId);
    expect((await commands.sippResult(far.sippId, { wait: true })).code).toBe(0);
  }, 60_000);

  it('restarts an incoming call too: the browser offers, the caller gets the re-INVITE', async () => {
    const alice = await connected(relay.inboundTokenUrl, 'alice', 'calls:receive');
    const caller = await commands.startSippFar(relay.id, 'uac-inbound', {
      remote: relay.registrarContact,
      service: '+15551230000',
      vars: { hold_ms: 20_000 },
    });
    const state = await until(
      alice,
      (s) =>
        Object.values(s.calls).some((c) => c.direction === 'incoming' && c.state === 'ringing'),
      () => JSON.stringify(alice.store.getState().calls),
      15_000,
    );
    const incoming = Object.values(state.calls).find((c) => c.direction === 'incoming')!;
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
    const remote = /a=ice-ufrag:(\S+)/.exec(pc.remoteDescription?.sdp ?? '')?.[1];
    let before = await media(pc);

    window.dispatchEvent(new Event('online'));
    await eventually(
      async () =>
        pc.signalingState === 'stable' &&
        /a=ice-ufrag:(\S+)/.exec(pc.remoteDescription?.sdp ?? '')?.[1] !== remote,
      () => `Janus's answer to the restart: ${pc.signalingState}`,
      15_000,
    );
    // The page was the answerer of the call and offered the restart; media still goes out.
    expect(pc.localDescription?.type).toBe('offer');
    before = await media(pc);
    await eventually(
      async () => {
        const now = await media(pc);
        return now.connection === 'connected' && now.sent > before.sent + 1_000;
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
    expect(restartOffers).toBeGreaterThanOrEqual(1);
    // The Relay hung the SIP leg up.
    await eventually(
      async () => (await commands.sipRelayStats(relay.id)).sip?.calls === 0,
      () => 'the gateway leg ended',
      10_000,
    );
  }, 60_000);
});
