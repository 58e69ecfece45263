/**
 * Screen sharing in `sfu` rooms in Chromium, through a real Relay and a real Janus (issue 17):
 * the share is a second upload to Janus, and everyone receiving the sharer gets it in a
 * connection of its own, as the sharer's `screenStream`, with decoded frames (getStats); a
 * participant who joins later gets the running share; stopping ends it everywhere. A monitoring
 * supervisor cannot share. The "screen" is a canvas (with a tone as the tab's audio), passed as
 * the share's `stream`.
 */
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { createRelayClient, type RelayClient, type RoomJoinOptions } from 'relaycall/core';
import { connections, recordConnections } from './assistKit.js';
import { until, untilAll } from './faultKit.js';
import { canvasScreen, framesPresented, playInVideo, relayPerFile } from './helpers.js';
import { describeRoom, receivesAll, remotes, room, roomToken } from './roomKit.js';

const { relay, clients, cleanups } = relayPerFile(
  () => commands.startJanusRelay({}),
  (id) => commands.stopJanusRelay(id),
);
// Every peer connection the page made, to find the one carrying a share.
recordConnections();

const SCOPES = 'calls:dial,calls:receive,rooms:join';
const CAMERA: RoomJoinOptions = {
  media: 'sfu',
  video: { width: 320, height: 240, frameRate: 15 },
};

async function connected(resource: string, scopes = SCOPES): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  await client.connect(await roomToken(relay.tokenUrl, resource, scopes));
  return client;
}

/** A moving "screen", with a tone as the tab's audio. */
const sharedScreen = () => canvasScreen(cleanups, { tone: true });

/** What `viewer` has of `sharer`'s screen in `name`. */
const screenOf = (viewer: RelayClient, name: string, sharer: string) =>
  remotes(viewer, name).find((p) => p.resource === sharer)?.screenStream ?? null;

/** Frames decoded so far by the connection receiving `track`, or -1 when none receives it. */
async function framesDecoded(track: MediaStreamTrack): Promise<number> {
  const pc = connections.find((c) => c.getReceivers().some((r) => r.track === track));
  if (!pc) return -1;
  let frames = 0;
  (await pc.getStats()).forEach(
    (report: { type: string; kind?: string; framesDecoded?: number }) => {
      if (report.type === 'inbound-rtp' && report.kind === 'video') {
        frames += report.framesDecoded ?? 0;
      }
    },
  );
  return frames;
}

/** `viewer` receives `sharer`'s share as its own stream, and decodes more and more of it. */
async function seesShare(viewer: RelayClient, name: string, sharer: string) {
  const who = viewer.store.getState().resource;
  // A new stream for each track received: the share's video may come after its audio.
  await until(
    viewer,
    () => (screenOf(viewer, name, sharer)?.getVideoTracks().length ?? 0) > 0,
    `${who} gets ${sharer}'s share`,
    20_000,
  );
  const screen = screenOf(viewer, name, sharer)!;
  const camera = remotes(viewer, name).find((p) => p.resource === sharer)?.stream;
  expect(screen).not.toBe(camera);
  await framesPresented(await playInVideo(screen), 5, `${who}: frames of the share`, 15_000);
  const video = screen.getVideoTracks()[0]!;
  const first = await framesDecoded(video);
  expect(first).toBeGreaterThan(0);
  await expect
    .poll(() => framesDecoded(video), { timeout: 10_000, interval: 250 })
    .toBeGreaterThan(first);
  return screen;
}

describe('screen sharing in an sfu room', () => {
  it('sends the share to everyone, one who joins later included, and stops it', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    for (const client of [alice, bob]) {
      expect(await client.joinRoom('screens', CAMERA)).toMatchObject({
        state: 'joined',
        media: 'sfu',
      });
    }
    const two = [alice, bob];
    await untilAll(
      two,
      () => two.every((c) => receivesAll(c, 'screens', 1)),
      describeRoom(two, 'screens'),
      30_000,
    );

    await alice.startRoomScreenShare('screens', { stream: sharedScreen() });
    const shared = room(alice, 'screens').screenStream!;
    expect(shared).not.toBeNull();
    const atBob = await seesShare(bob, 'screens', 'alice');
    // The tab's audio comes with it.
    await until(
      bob,
      () => (screenOf(bob, 'screens', 'alice')?.getAudioTracks().length ?? 0) > 0,
      "bob gets the share's audio",
      10_000,
    );
    expect(atBob.getVideoTracks()).toHaveLength(1);

    // Carol joins while alice shares: she gets the camera and the share.
    const carol = await connected('carol');
    expect((await carol.joinRoom('screens', CAMERA)).state).toBe('joined');
    const three = [alice, bob, carol];
    await untilAll(
      three,
      () => three.every((c) => receivesAll(c, 'screens', 2)),
      describeRoom(three, 'screens'),
      30_000,
    );
    await seesShare(carol, 'screens', 'alice');

    alice.stopRoomScreenShare('screens');
    expect(room(alice, 'screens').screenStream).toBeNull();
    // The stream was the app's (the `stream` option): it keeps running.
    expect(shared.getVideoTracks()[0]!.readyState).toBe('live');
    await until(bob, () => screenOf(bob, 'screens', 'alice') === null, 'bob sees it stop', 15_000);
    await until(
      carol,
      () => screenOf(carol, 'screens', 'alice') === null,
      'carol sees it stop',
      15_000,
    );
    // The cameras carry on.
    expect(three.every((c) => receivesAll(c, 'screens', 2))).toBe(true);

    // Bob shares next; alice leaving the room meanwhile takes nothing of it.
    await bob.startRoomScreenShare('screens', { stream: sharedScreen() });
    await seesShare(carol, 'screens', 'bob');
    await seesShare(alice, 'screens', 'bob');
    alice.leaveRoom('screens');
    await until(alice, (s) => s.rooms.screens?.state === 'left', 'alice left', 10_000);
    expect(screenOf(carol, 'screens', 'bob')).not.toBeNull();
    // Bob leaves while sharing: carol's share of him goes with him.
    bob.leaveRoom('screens');
    await until(
      carol,
      () => remotes(carol, 'screens').length === 0,
      'carol alone in the room',
      15_000,
    );
  }, 120_000);

  it('refuses a share from a monitoring supervisor', async () => {
    const agent = await connected('agent');
    const customer = await connected('customer');
    const both = [agent, customer];
    for (const client of both) {
      expect((await client.joinRoom('desk', { ...CAMERA, video: false })).state).toBe('joined');
    }
    await untilAll(
      both,
      () => both.every((c) => receivesAll(c, 'desk', 1)),
      describeRoom(both, 'desk'),
      30_000,
    );
    const supervisor = await connected('sup', 'calls:list,calls:assist');
    await supervisor.assist(room(agent, 'desk').id!, 'monitor');
    await until(supervisor, (s) => s.rooms.desk?.state === 'joined', 'the supervisor is in');
    const refused = supervisor.startRoomScreenShare('desk', { stream: sharedScreen() });
    await expect(refused).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(refused).rejects.toThrow(/monitoring supervisor/);
    expect(room(supervisor, 'desk').screenStream).toBeNull();
  }, 90_000);
});
