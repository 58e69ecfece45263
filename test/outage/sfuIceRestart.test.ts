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
import { createRelayClient, type RelayClient, type RoomJoinOptions } from 'relaycall/core';
import { until, untilAll } from '../browser/faultKit.js';
import { relayPerFile } from '../browser/helpers.js';
import { describeRoom, receivesAll, remotes, room, roomToken } from '../browser/roomKit.js';
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

const CAMERA: RoomJoinOptions = { media: 'sfu', video: { width: 320, height: 240, frameRate: 15 } };
const SCOPES = 'calls:dial,calls:receive,rooms:join';
const Native = globalThis.RTCPeerConnection;

const { relay, clients } = relayPerFile(
  () => commands.startJanusRelay({}),
  (id) => commands.stopJanusRelay(id),
);
// The room's connections are the library's own (no createPeer option): every one is VethOnly.
beforeAll(() => {
  globalThis.RTCPeerConnection = VethOnly;
});
afterAll(() => {
  globalThis.RTCPeerConnection = Native;
});
afterEach(resetVeth);

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

/** Resolves with the frames decoded once `pc` decoded more than `above`, over the veth link. */
const framesOnVeth = (pc: RTCPeerConnection, label: string, above = 0, ms = 20_000) =>
  flowsOnVeth(pc, label, { count: 'framesDecoded', above, ms });

const other = (client: RelayClient, name: string) => remotes(client, name)[0];

describe('ICE restart in an sfu room', () => {
  it('keeps the room through the link going down and up, on the same connections', async () => {
    const { ann, ben } = await pair('outage');
    const [annSees, benSees] = [download(ann, 'outage'), download(ben, 'outage')];
    await framesOnVeth(annSees, 'ann receives ben over 10.77.0.1');
    await framesOnVeth(benSees, 'ben receives ann over 10.77.0.1');
    const ids = [room(ann, 'outage').participantId, room(ben, 'outage').participantId];
    const connections = made.length;

    await commands.setLink('va', 'down');
    const stuck = await stalled(benSees, 'ben stops receiving once the link is down', {
      count: 'framesDecoded',
      quietMs: 1000,
    });
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
    await framesOnVeth(benSees, 'ben receives ann again after the restart', stuck, 40_000);
    await framesOnVeth(annSees, 'ann receives ben again after the restart', 0, 40_000);
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
    const before = await framesOnVeth(benSees, 'ben receives ann over 10.77.0.1');
    const ufrag = (pc: RTCPeerConnection) => ufragOf(pc.localDescription?.sdp);
    const ufrags = made.map(ufrag);

    window.dispatchEvent(new Event('online'));
    // Two uploads offer anew, two downloads answer Janus's new offers: new credentials on all.
    await expect.poll(() => restarts.offered, { timeout: 15_000 }).toBe(2);
    await expect.poll(() => restarts.answered, { timeout: 15_000 }).toBe(2);
    await eventually(
      async () => made.every((pc, i) => ufrag(pc) !== ufrags[i]),
      () => `new ICE credentials: ${JSON.stringify([ufrags, made.map(ufrag)])}`,
    );
    await framesOnVeth(benSees, 'ben still receives after the restart', before);
    await framesOnVeth(download(ann, 'roaming'), 'ann still receives after the restart');
    for (const client of [ann, ben]) {
      expect(receivesAll(client, 'roaming', 1)).toBe(true);
      expect(other(client, 'roaming')?.reconnecting).toBe(false);
    }
  }, 90_000);
});
