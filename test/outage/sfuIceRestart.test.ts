/**
 * ICE restarts in an `sfu` room in Chromium, through a real Relay and a real Janus (issue 17):
 * every connection with Janus (each upload, each download) runs over the namespace's veth
 * address 10.77.0.1 only; the link goes down and up, and the same connections carry the media
 * again after restarting ICE (an upload offers anew, a download asks Janus for a new offer),
 * with the participants shown `reconnecting` meanwhile and nobody leaving the room. A network
 * change (`online`) restarts every connection without a break.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  createRelayClient,
  type IceRestartOptions,
  type RelayClient,
  type RoomJoinOptions,
} from 'relaycall/core';
import { until, untilAll } from '../browser/faultKit.js';
import { describeRoom, receivesAll, remotes, room, roomToken } from '../browser/roomKit.js';

/** The veth address every connection must use: 10.77.0.1 (va), taken down and up. */
const onVeth = (candidate: string) => / 10\.77\.0\.1 \d+ typ /.test(candidate);

/** Every connection the clients made; restarts: ICE restart offers made, and answered. */
const made: RTCPeerConnection[] = [];
let restarts = { offered: 0, answered: 0 };
const Native = globalThis.RTCPeerConnection;

/**
 * Keeps only 10.77.0.1 candidates, Janus's and its own, so that every media path runs over that
 * address (Janus gathers on 10.77.0.2 too) and a downed link really cuts it. Counts the ICE
 * restarts it takes part in: its own restart offers, and Janus's it answers.
 */
class VethOnly extends Native {
  constructor(config?: RTCConfiguration) {
    super(config);
    made.push(this);
    const add = this.addEventListener.bind(this) as (
      type: string,
      listener: (event: Event) => void,
    ) => void;
    Object.assign(this, {
      addEventListener: (type: string, listener: unknown) => {
        if (type !== 'icecandidate' || typeof listener !== 'function') {
          return add(type, listener as (event: Event) => void);
        }
        add(type, (event: Event) => {
          const candidate = (event as RTCPeerConnectionIceEvent).candidate?.candidate;
          if (candidate && !onVeth(candidate)) return;
          (listener as (event: Event) => void).call(this, event);
        });
      },
    });
    const createOffer = this.createOffer.bind(this) as (o?: RTCOfferOptions) => Promise<unknown>;
    Object.assign(this, {
      createOffer: (options?: RTCOfferOptions) => {
        if (options?.iceRestart) restarts.offered += 1;
        return createOffer(options);
      },
    });
  }
  override addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    const line = candidate?.candidate;
    if (line && !onVeth(line)) return Promise.resolve();
    return super.addIceCandidate(candidate ?? undefined);
  }
  override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    if (description.type === 'offer' && this.remoteDescription) restarts.answered += 1;
    const sdp = description.sdp
      ?.split('\r\n')
      .filter((line) => !line.startsWith('a=candidate:') || onVeth(line))
      .join('\r\n');
    return super.setRemoteDescription({ type: description.type, sdp });
  }
}

/** Short enough for a test, long enough for a loaded machine to reconnect within. */
const ICE_RESTART: IceRestartOptions = { graceMs: 1_000, attemptTimeoutMs: 6_000, maxAttempts: 8 };
const CAMERA: RoomJoinOptions = { media: 'sfu', video: { width: 320, height: 240, frameRate: 15 } };
const SCOPES = 'calls:dial,calls:receive,rooms:join';

let relay: { id: string; url: string; tokenUrl: string };
const clients: RelayClient[] = [];

beforeAll(async () => {
  relay = await commands.startJanusRelay({});
  globalThis.RTCPeerConnection = VethOnly as typeof RTCPeerConnection;
}, 60_000);
afterAll(async () => {
  globalThis.RTCPeerConnection = Native;
  await commands.stopJanusRelay(relay.id);
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  made.length = 0;
  restarts = { offered: 0, answered: 0 };
  await commands.setLink('va', 'up');
});

async function joined(resource: string, name: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url, iceServers: [], iceRestart: ICE_RESTART });
  clients.push(client);
  await client.connect(await roomToken(relay.tokenUrl, resource, SCOPES));
  expect(await client.joinRoom(name, CAMERA)).toMatchObject({ state: 'joined', media: 'sfu' });
  return client;
}

/** Two participants in the sfu room `name`, each receiving the other. */
async function pair(name: string) {
  const ann = await joined('ann', name);
  const ben = await joined('ben', name);
  const both = [ann, ben];
  await untilAll(
    both,
    () => both.every((c) => receivesAll(c, name, 1)),
    describeRoom(both, name),
    30_000,
  );
  return { ann, ben };
}

/** The connection on which `client` receives the other participant's camera. */
function download(client: RelayClient, name: string): RTCPeerConnection {
  const track = remotes(client, name)[0]?.stream?.getVideoTracks()[0];
  const pc = made.find((c) => c.getReceivers().some((r) => r.track === track));
  if (!track || !pc) throw new Error('no connection receives the other camera');
  return pc;
}

/** Video frames decoded, and the addresses of the selected candidate pair. */
async function received(pc: RTCPeerConnection) {
  const stats = await pc.getStats();
  let frames = 0;
  let pair: string[] = [];
  stats.forEach((report: Record<string, unknown>) => {
    if (report.type === 'inbound-rtp' && report.kind === 'video') {
      frames += Number(report.framesDecoded ?? 0);
    }
    if (report.type === 'transport' && typeof report.selectedCandidatePairId === 'string') {
      const selected = stats.get(report.selectedCandidatePairId) as Record<string, string>;
      const address = (id: string | undefined) =>
        String((stats.get(id ?? '') as { address?: string } | undefined)?.address);
      if (selected)
        pair = [address(selected.localCandidateId), address(selected.remoteCandidateId)];
    }
  });
  return { frames, pair, ice: pc.iceConnectionState };
}

/** Checks `check` every 250 ms until it holds; fails saying `describe()` after `ms`. */
async function eventually(check: () => Promise<boolean>, describe: () => string, ms = 20_000) {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Resolves once `pc` decoded more than `than` frames, over 10.77.0.1. */
async function flowsOnVeth(pc: RTCPeerConnection, label: string, than = 0, ms = 20_000) {
  let last = await received(pc);
  await eventually(
    async () => {
      last = await received(pc);
      return last.frames > than && last.pair.includes('10.77.0.1');
    },
    () => `${label}: ${JSON.stringify(last)}`,
    ms,
  );
  return last.frames;
}

/** Resolves once `pc` decoded nothing for a second (the link is cut). */
async function stalled(pc: RTCPeerConnection, label: string) {
  let before = -1;
  let now = (await received(pc)).frames;
  await eventually(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      before = now;
      now = (await received(pc)).frames;
      return now === before;
    },
    () => `${label}: ${before} then ${now} frames`,
  );
  return now;
}

const other = (client: RelayClient, name: string) => remotes(client, name)[0];

describe('ICE restart in an sfu room', () => {
  it('keeps the room through the link going down and up, on the same connections', async () => {
    const { ann, ben } = await pair('outage');
    const [annSees, benSees] = [download(ann, 'outage'), download(ben, 'outage')];
    await flowsOnVeth(annSees, 'ann receives ben over 10.77.0.1');
    await flowsOnVeth(benSees, 'ben receives ann over 10.77.0.1');
    const ids = [room(ann, 'outage').participantId, room(ben, 'outage').participantId];
    const connections = made.length;

    await commands.setLink('va', 'down');
    const stuck = await stalled(benSees, 'ben stops receiving once the link is down');
    await until(
      ann,
      () => other(ann, 'outage')?.reconnecting === true,
      'ann sees ben reconnecting',
      20_000,
    );
    await until(
      ben,
      () => other(ben, 'outage')?.reconnecting === true,
      'ben sees ann reconnecting',
      20_000,
    );
    // The uploads offered anew; the downloads asked Janus, which offered anew.
    await expect.poll(() => restarts.offered, { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => restarts.answered, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(room(ann, 'outage').state).toBe('joined');

    await commands.setLink('va', 'up');
    await flowsOnVeth(benSees, 'ben receives ann again after the restart', stuck, 40_000);
    await flowsOnVeth(annSees, 'ann receives ben again after the restart', 0, 40_000);
    await until(
      ann,
      () => other(ann, 'outage')?.reconnecting === false,
      'ann sees ben back',
      20_000,
    );
    await until(
      ben,
      () => other(ben, 'outage')?.reconnecting === false,
      'ben sees ann back',
      20_000,
    );
    // Nobody left or rejoined: the same participants, on the same connections.
    expect([room(ann, 'outage').participantId, room(ben, 'outage').participantId]).toEqual(ids);
    expect([room(ann, 'outage').state, room(ben, 'outage').state]).toEqual(['joined', 'joined']);
    expect([room(ann, 'outage').error, room(ben, 'outage').error]).toEqual([null, null]);
    expect(made).toHaveLength(connections);
    expect([download(ann, 'outage'), download(ben, 'outage')]).toEqual([annSees, benSees]);
    await eventually(
      async () => made.every((pc) => pc.connectionState === 'connected'),
      () => `every connection up: ${made.map((pc) => pc.connectionState).join(', ')}`,
    );
  }, 150_000);

  it('restarts every connection on a network change (online), without a break', async () => {
    const { ann, ben } = await pair('roaming');
    const benSees = download(ben, 'roaming');
    const before = await flowsOnVeth(benSees, 'ben receives ann over 10.77.0.1');
    const ufrag = (pc: RTCPeerConnection) =>
      /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1];
    const ufrags = made.map(ufrag);

    window.dispatchEvent(new Event('online'));
    // Two uploads offer anew, two downloads answer Janus's new offers: new credentials on all.
    await expect.poll(() => restarts.offered, { timeout: 15_000 }).toBe(2);
    await expect.poll(() => restarts.answered, { timeout: 15_000 }).toBe(2);
    await eventually(
      async () => made.every((pc, i) => ufrag(pc) !== ufrags[i]),
      () => `new ICE credentials: ${JSON.stringify([ufrags, made.map(ufrag)])}`,
    );
    await flowsOnVeth(benSees, 'ben still receives after the restart', before);
    await flowsOnVeth(download(ann, 'roaming'), 'ann still receives after the restart');
    for (const client of [ann, ben]) {
      expect(receivesAll(client, 'roaming', 1)).toBe(true);
      expect(other(client, 'roaming')?.reconnecting).toBe(false);
    }
  }, 90_000);
});
