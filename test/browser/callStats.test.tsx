/**
 * Call quality in Chromium: a real 1:1 call sampled through getStats() (fake camera and
 * microphone), a warning raised when the other side's media stops (its encodings disabled with
 * RTCRtpSender.setParameters) and cleared once it flows again, and the hooks showing it.
 */
import { useEffect } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  RelayProvider,
  VideoTile,
  createRelayClient,
  useCall,
  useCallStats,
  useQualityWarnings,
  type CallStats,
  type QualityOptions,
  type QualityWarningEvent,
  type RelayClient,
} from 'relaycall';
import { until } from './faultKit.js';
import { receivesAll, roomToken } from './roomKit.js';
import { actSync, fetchTestToken, ringingCall, untilTrue, within } from './helpers.js';

let relay: { id: string; url: string; tokenUrl: string };
const cleanups: (() => void)[] = [];
let root: Root | undefined;
/** Every RTCPeerConnection made in the page, in order. */
const made: RTCPeerConnection[] = [];
const Native = globalThis.RTCPeerConnection;

beforeAll(async () => {
  relay = await commands.startRelay();
  globalThis.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      made.push(this);
    }
  };
});
afterAll(async () => {
  globalThis.RTCPeerConnection = Native;
  await commands.stopRelay(relay.id);
});
afterEach(() => {
  if (root) actSync(() => root?.unmount());
  root = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  made.length = 0;
  document.body.replaceChildren();
});

/** Short intervals so that a loaded machine still sees warnings within seconds. */
const quality: QualityOptions = { intervalMs: 250, raiseAfter: 2, clearAfter: 2 };

async function connected(resource: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url, iceServers: [], quality });
  cleanups.push(() => client.destroy());
  await client.connect(await fetchTestToken(relay.tokenUrl, resource));
  return client;
}

/** bob answers whatever rings. */
function answering(bob: RelayClient): void {
  cleanups.push(
    bob.store.subscribe((state) => {
      const ringing = ringingCall(state);
      if (ringing) void bob.answer(ringing.id).catch(() => undefined);
    }),
  );
}

/** The peer connection sending `stream`'s tracks. */
function connectionOf(stream: MediaStream | null | undefined): RTCPeerConnection {
  const tracks = stream?.getTracks() ?? [];
  const pc = made.find((p) => p.getSenders().some((s) => s.track && tracks.includes(s.track)));
  if (!pc) throw new Error('no peer connection sends that stream');
  return pc;
}

/** Turns every encoding of every sender of `pc` on or off (the link carries nothing when off). */
async function setSending(pc: RTCPeerConnection, active: boolean): Promise<void> {
  for (const sender of pc.getSenders()) {
    if (!sender.track) continue;
    const parameters = sender.getParameters();
    for (const encoding of parameters.encodings) encoding.active = active;
    await sender.setParameters(parameters);
  }
}

/** Resolves with the call's first sample that satisfies `check`. */
function sampleWhere(
  client: RelayClient,
  callId: string,
  check: (stats: CallStats) => boolean,
  label: string,
  ms = 15_000,
): Promise<CallStats> {
  let stop = () => {};
  const found = new Promise<CallStats>((resolve) => {
    const look = () => {
      const stats = client.quality.getState().calls[callId];
      if (stats && check(stats)) resolve(stats);
    };
    stop = client.quality.subscribe(look);
    look();
  });
  return within(found, ms, label).finally(stop);
}

describe('call quality in a real call', () => {
  it('samples plausible stats, and warns while the other side sends nothing', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    answering(bob);
    const callId = alice.call('bob');
    await until(alice, (s) => s.calls[callId]?.state === 'active', 'alice active', 20_000);
    const events: QualityWarningEvent[] = [];
    cleanups.push(alice.onQualityWarning((event) => events.push(event)));
    const unwatch = alice.watchCallStats(callId);

    const stats = await sampleWhere(
      alice,
      callId,
      (s) => s.bitrateIn > 0 && (s.videoIn?.frameRate ?? 0) > 0 && s.rttMs !== null,
      'a sample with media in',
    );
    expect(stats.rttMs).toBeGreaterThanOrEqual(0);
    expect(stats.rttMs).toBeLessThan(1000);
    expect(stats.bitrateOut).toBeGreaterThan(0);
    expect(stats.jitterMs).toBeGreaterThanOrEqual(0);
    expect(stats.mos).toBeGreaterThanOrEqual(1);
    expect(stats.mos).toBeLessThanOrEqual(4.5);
    expect(stats.networkQuality).not.toBeNull();
    // The fake camera's picture (the encoder may scale it down on a busy machine).
    const camera = alice.store.getState().calls[callId]!.localStream!.getVideoTracks()[0]!;
    const { width = 0, height = 0 } = camera.getSettings();
    const sent = await sampleWhere(alice, callId, (s) => s.videoOut !== null, 'video out');
    expect(sent.videoOut!.width).toBeGreaterThan(0);
    expect(sent.videoOut!.width).toBeLessThanOrEqual(width);
    expect(sent.videoOut!.width / sent.videoOut!.height).toBeCloseTo(width / height, 1);
    expect(stats.videoIn!.width).toBeGreaterThan(0);
    expect(stats.videoIn!.height).toBeGreaterThan(0);

    // Media flows, nothing is raised (a slow start may have raised and cleared one): count from here.
    await untilTrue(() => alice.quality.getState().warnings.length === 0, 'no warnings', 15_000);
    events.length = 0;

    // bob's link goes quiet: alice stops receiving anything.
    const bobCall = Object.values(bob.store.getState().calls)[0]!;
    const bobPc = connectionOf(bob.store.getState().calls[bobCall.id]?.localStream);
    await setSending(bobPc, false);
    await sampleWhere(alice, callId, (s) => s.networkQuality === 'lost', 'quality lost');
    await untilTrue(
      () => alice.quality.getState().warnings.some((w) => w.kind === 'low-bitrate-in'),
      'low-bitrate-in raised',
      15_000,
    );
    expect(alice.quality.getState().warnings).toContainEqual(
      expect.objectContaining({ kind: 'low-bitrate-in', callId, room: null, threshold: 5000 }),
    );
    expect(events).toContainEqual({
      type: 'raised',
      warning: expect.objectContaining({ kind: 'low-bitrate-in', callId }),
    });

    // Back on: cleared.
    await setSending(bobPc, true);
    await untilTrue(
      () => !alice.quality.getState().warnings.some((w) => w.kind === 'low-bitrate-in'),
      'low-bitrate-in cleared',
      15_000,
    );
    expect(events.filter((e) => e.warning.kind === 'low-bitrate-in').map((e) => e.type)).toEqual([
      'raised',
      'cleared',
    ]);
    await sampleWhere(alice, callId, (s) => s.bitrateIn > 10_000, 'media in again');

    // Nobody watches: the sample leaves the store.
    unwatch();
    await untilTrue(() => !alice.quality.getState().calls[callId], 'sample removed', 5000);
  });
});

describe('call quality in a mesh room', () => {
  it('samples each participant', async () => {
    const join = async (resource: string) => {
      const client = createRelayClient({ url: relay.url, iceServers: [], quality });
      cleanups.push(() => client.destroy());
      await client.connect(await roomToken(relay.tokenUrl, resource, 'rooms:join'));
      await client.joinRoom('stats');
      return client;
    };
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map(join));
    await untilTrue(() => receivesAll(alice!, 'stats', 2), 'alice receives both', 20_000);
    const unwatch = alice!.watchRoomStats('stats');
    const idOf = (client: RelayClient) =>
      client.store.getState().rooms.stats!.participantId as string;
    const ids = [idOf(bob!), idOf(carol!)];
    const sampled = () => alice!.quality.getState().rooms.stats ?? {};
    await untilTrue(
      () => ids.every((id) => (sampled()[id]?.bitrateIn ?? 0) > 0),
      'a sample with media in from both',
      15_000,
    );
    for (const id of ids) {
      const stats = sampled()[id]!;
      expect(stats.rttMs).toBeGreaterThanOrEqual(0);
      expect(stats.rttMs).toBeLessThan(1000);
      expect(stats.bitrateOut).toBeGreaterThan(0);
    }
    expect(Object.keys(sampled()).sort()).toEqual([...ids].sort());
    // carol leaves: her entry goes.
    carol!.leaveRoom('stats');
    await untilTrue(() => !sampled()[ids[1]!], 'carol gone from the samples', 15_000);
    unwatch();
    await untilTrue(() => !alice!.quality.getState().rooms.stats, 'room samples removed', 5000);
  });
});

/** Renders of StatsProbe, and the samples it was shown. */
const probe = { renders: 0, samples: new Set<CallStats>() };

function StatsProbe({ callId }: { callId: string | null }) {
  const stats = useCallStats(callId);
  // Counted at each commit (an effect without dependencies runs after every render).
  useEffect(() => {
    probe.renders += 1;
    if (stats) probe.samples.add(stats);
  });
  return null;
}

function QualityTile({ to }: { to: string }) {
  const call = useCall(to);
  const stats = useCallStats(call.callId);
  const warnings = useQualityWarnings({ callId: call.callId ?? '' });
  return (
    <div>
      <button onClick={() => call.start()}>Call</button>
      <p data-testid="state">{call.state}</p>
      <p data-testid="warnings">{warnings.map((w) => w.kind).join(',')}</p>
      <VideoTile stream={call.remoteStream} label={to} quality={stats?.networkQuality} />
      <StatsProbe callId={call.callId} />
    </div>
  );
}

describe('the quality hooks', () => {
  it('show the network quality on the VideoTile and the warnings', async () => {
    const bob = await connected('bob');
    answering(bob);
    const host = document.createElement('div');
    document.body.append(host);
    root = createRoot(host);
    const fetchToken = () => fetchTestToken(relay.tokenUrl, 'alice');
    actSync(() =>
      root?.render(
        <RelayProvider url={relay.url} fetchToken={fetchToken} iceServers={[]} quality={quality}>
          <QualityTile to="bob" />
        </RelayProvider>,
      ),
    );
    const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent;
    await untilTrue(() => text('state') === 'idle', 'hook ready', 10_000);
    actSync(() => document.querySelector('button')?.click());
    await untilTrue(() => text('state') === 'active', 'call active', 20_000);
    const indicator = () => document.querySelector('.relaycall-quality');
    await untilTrue(() => indicator() !== null, 'quality shown', 15_000);
    expect(indicator()?.getAttribute('role')).toBe('img');
    expect(indicator()?.getAttribute('aria-label')).toMatch(
      /^Connection (excellent|good|fair|poor)$/,
    );

    const bobCall = Object.values(bob.store.getState().calls)[0]!;
    const bobPc = connectionOf(bobCall.localStream);
    await setSending(bobPc, false);
    await untilTrue(() => text('warnings')!.includes('low-bitrate-in'), 'warning shown', 15_000);
    expect(indicator()?.getAttribute('aria-label')).toBe('Connection lost');
    await setSending(bobPc, true);
    await untilTrue(() => text('warnings') === '', 'warning gone', 15_000);

    // A component reading only the stats renders once per sample, not on every store change.
    const { renders, samples } = { renders: probe.renders, samples: probe.samples.size };
    await untilTrue(() => probe.samples.size >= samples + 4, 'four more samples', 15_000);
    actSync(() => undefined);
    expect(probe.renders - renders).toBeLessThanOrEqual(probe.samples.size - samples + 1);
  });
});
