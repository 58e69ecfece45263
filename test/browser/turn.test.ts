/**
 * Calls relayed through a real TURN server: coturn from Debian's package, started in the test
 * namespace with the same shared secret as the Relay (TURN REST API, `use-auth-secret`). The
 * clients force `iceTransportPolicy: 'relay'`, so media can only flow through coturn, with the
 * credentials the Relay minted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { createRelayClient, type CallSnapshot, type RelayClient } from 'relaycall/core';
import { until } from './faultKit.js';
import { fetchTestToken, framesPresented, playInVideo, ringingCall } from './helpers.js';

let turn: { id: string; url: string };
const relays: string[] = [];
const clients: RelayClient[] = [];
/** Every RTCPeerConnection the page creates, to read its configuration and stats. */
const peerConnections: RTCPeerConnection[] = [];
const NativePeerConnection = globalThis.RTCPeerConnection;

beforeAll(async () => {
  turn = await commands.startTurnServer();
  globalThis.RTCPeerConnection = class extends NativePeerConnection {
    constructor(config?: RTCConfiguration) {
      super(config);
      peerConnections.push(this);
    }
  };
}, 20_000);
afterAll(async () => {
  globalThis.RTCPeerConnection = NativePeerConnection;
  await commands.stopTurnServer(turn.id);
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const id of relays.splice(0)) await commands.stopTurnRelay(id);
  for (const pc of peerConnections.splice(0)) pc.close();
  document.body.replaceChildren();
});

async function turnRelay(options?: { secret?: 'shared' | 'wrong'; clockSkewMs?: number }) {
  const relay = await commands.startTurnRelay(turn.id, options);
  relays.push(relay.id);
  return relay;
}

async function relayOnly(relay: { url: string; tokenUrl: string }, resource: string) {
  const client = createRelayClient({ url: relay.url, iceTransportPolicy: 'relay' });
  clients.push(client);
  await client.connect(await fetchTestToken(relay.tokenUrl, resource));
  return client;
}

const call = (client: RelayClient, id: string) => client.store.getState().calls[id] as CallSnapshot;

/** The TURN entry the Relay handed `client`, and the expiry (Unix seconds) in its username. */
function turnCredentials(client: RelayClient, resource: string) {
  const { iceServers } = client.store.getState();
  expect(iceServers).toEqual([
    {
      urls: [turn.url],
      username: expect.stringMatching(new RegExp(`^\\d+:${resource}$`)),
      credential: expect.stringMatching(/^[A-Za-z0-9+/]{27}=$/),
    },
  ]);
  const username = iceServers[0]?.username ?? '';
  return { username, expiry: Number(username.split(':')[0]) };
}

/** The candidate pair ICE selected on `pc`, with its local and remote candidates. */
async function selectedPair(pc: RTCPeerConnection) {
  const stats = [...(await pc.getStats()).values()] as Record<string, unknown>[];
  const byId = new Map(stats.map((report) => [report.id, report]));
  const transport = stats.find((report) => report.type === 'transport');
  const pair = byId.get(transport?.selectedCandidatePairId);
  return {
    pair,
    local: byId.get(pair?.localCandidateId),
    remote: byId.get(pair?.remoteCandidateId),
  };
}

describe('calls through TURN with credentials minted by the Relay', () => {
  it('connects a call relayed through coturn with iceTransportPolicy "relay"', async () => {
    const relay = await turnRelay();
    const alice = await relayOnly(relay, 'alice');
    const bob = await relayOnly(relay, 'bob');
    // Valid exactly as long as the session's JWT, and not yet expired.
    const minted = turnCredentials(alice, 'alice');
    expect(minted.expiry * 1000).toBe(alice.store.getState().expiresAt);
    expect(minted.expiry).toBeGreaterThan(Date.now() / 1000);
    turnCredentials(bob, 'bob');

    const aliceCall = alice.call('bob');
    const incoming = ringingCall(
      await until(bob, (s) => ringingCall(s) !== undefined, 'bob rings', 10_000),
    )!;
    await bob.answer(incoming.id);
    await until(
      alice,
      (s) => s.calls[aliceCall]?.state === 'active',
      'alice active (via TURN)',
      10_000,
    );
    await until(
      bob,
      (s) => s.calls[incoming.id]?.state === 'active',
      'bob active (via TURN)',
      10_000,
    );
    await until(
      bob,
      (s) => s.calls[incoming.id]?.remoteStream != null,
      'bob gets a stream',
      10_000,
    );
    await until(
      alice,
      (s) => s.calls[aliceCall]?.remoteStream != null,
      'alice gets a stream',
      10_000,
    );
    const atBob = await playInVideo(call(bob, incoming.id).remoteStream as MediaStream);
    const atAlice = await playInVideo(call(alice, aliceCall).remoteStream as MediaStream);
    await framesPresented(atBob, 5, 'frames at bob');
    await framesPresented(atAlice, 5, 'frames at alice');

    const live = peerConnections.filter((pc) => pc.connectionState === 'connected');
    expect(live).toHaveLength(2);
    for (const pc of live) {
      const config = pc.getConfiguration();
      expect(config.iceTransportPolicy).toBe('relay');
      // Only our TURN server: never a public STUN server.
      expect(config.iceServers?.map((server) => server.urls)).toEqual([[turn.url]]);
      const { pair, local, remote } = await selectedPair(pc);
      expect(pair).toMatchObject({ state: 'succeeded' });
      expect(local).toMatchObject({ candidateType: 'relay', relayProtocol: 'udp' });
      expect(remote).toMatchObject({ candidateType: 'relay' });
      expect(pair?.bytesReceived).toBeGreaterThan(0);
    }
    // coturn allocated for the minted username.
    const log = await commands.turnServerLog(turn.id);
    expect(log).toContain(`user <${minted.username}>: incoming packet ALLOCATE processed, success`);
  }, 30_000);

  it.each([
    // The Relay's clock runs two hours behind coturn's: its JWTs (15 min) are valid to it, but
    // the credentials it mints expired before the call, by coturn's clock.
    ['expired credentials', { clockSkewMs: -2 * 3_600_000 }, true],
    ['credentials signed with another secret', { secret: 'wrong' as const }, false],
  ])(
    'ends the call with a clear error when coturn refuses %s (401)',
    async (_, options, expired) => {
      const relay = await turnRelay(options);
      const alice = await relayOnly(relay, 'alice');
      const bob = await relayOnly(relay, 'bob');
      const minted = turnCredentials(alice, 'alice');
      expect(minted.expiry < Date.now() / 1000).toBe(expired);

      const started = Date.now();
      const aliceCall = alice.call('bob');
      // Bob answers if he is rung before alice's side gives up; either way nothing connects.
      const stopAnswering = bob.store.subscribe((state) => {
        const incoming = ringingCall(state);
        if (incoming) void bob.answer(incoming.id).catch(() => undefined);
      });
      try {
        const ended = await until(
          alice,
          (s) => s.calls[aliceCall]?.state === 'ended',
          'alice gives up instead of hanging',
          10_000,
        );
        const snapshot = ended.calls[aliceCall] as CallSnapshot;
        expect(snapshot.startedAt).toBeNull();
        expect(snapshot.endReason).toBe('failed');
        expect(snapshot.error?.code).toBe('call_failed');
        // What happened, in the call's error itself: the TURN server's 401, and what to do.
        const message = snapshot.error?.message ?? '';
        expect(message).toMatch(/No ICE candidate could be gathered \(turn:127\.0\.0\.1:/);
        expect(message).toMatch(/answered 401/);
        expect(message).toMatch(/TURN server refused the credentials/);
        expect(Date.now() - started).toBeLessThan(10_000);
        // No call of bob's is left ringing or connecting.
        await until(
          bob,
          (s) => Object.values(s.calls).every((c) => c.state === 'ended'),
          'bob has no live call',
          10_000,
        );
        expect(Object.values(bob.store.getState().calls).every((c) => c.startedAt === null)).toBe(
          true,
        );
      } finally {
        stopAnswering();
      }
      // coturn refused the credentials the Relay minted.
      const log = await commands.turnServerLog(turn.id);
      expect(log).toContain(`Cannot find credentials of user <${minted.username}>`);
      expect(log).toContain(
        `user <${minted.username}>: incoming packet message processed, error 401: Unauthorized`,
      );
    },
    30_000,
  );
});
