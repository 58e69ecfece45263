/**
 * `sfu` rooms in Chromium through a real Relay and a real Janus (issue 14), in the test namespace
 * (Janus gathers ICE on its veth pair). Six participants, each its own RelayClient with its own
 * socket, camera and connections: each decodes the five others and uploads one stream, a fraction
 * of what the same six upload in a mesh; join, leave and removal; Janus's voice activity as the
 * active speaker; Janus killed in the middle of a room (a clear error, then everyone back once it
 * restarts).
 */
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { createRelayClient, type RelayClient, type RoomJoinOptions } from 'relaycall/core';
import { connections, recordConnections } from './assistKit.js';
import { untilAll } from './faultKit.js';
import { relayPerFile, untilTrue } from './helpers.js';
import { decodesEveryone, describeRoom, receivesAll, remotes, room, roomToken } from './roomKit.js';

const { relay, clients } = relayPerFile(
  () => commands.startJanusRelay({ talkingLevel: 100 }),
  (id) => commands.stopJanusRelay(id),
);
// Every peer connection the page made, to read what it sent.
recordConnections();

const SCOPES = 'calls:dial,calls:receive,rooms:join';
/**
 * Tiny video: the six-person mesh runs thirty encoders and thirty decoders in one page on two
 * cores, beside other test files. At 320x240@15 a clean-clone run starved the page until two
 * clients' sockets dropped and could not reconnect within the wait.
 */
const CAMERA: RoomJoinOptions = { video: { width: 160, height: 120, frameRate: 10 } };

/** Each client's connection statuses and sessions, in order: a failure says if one reconnected. */
const history = new Map<RelayClient, string[]>();

async function connected(resource: string, scopes = SCOPES): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  const seen: string[] = [];
  history.set(client, seen);
  client.store.subscribe(({ status, sessionId, error }) => {
    const now = `${status}:${sessionId?.slice(-4) ?? '-'}${error ? `!${error.code}` : ''}`;
    if (seen.at(-1) !== now) seen.push(now);
  });
  await client.connect(await roomToken(relay.tokenUrl, resource, scopes));
  return client;
}

async function joinAll(all: RelayClient[], name: string, media: 'sfu' | 'mesh') {
  const joined = await Promise.all(all.map((c) => c.joinRoom(name, { ...CAMERA, media })));
  for (const snapshot of joined) expect(snapshot).toMatchObject({ state: 'joined', media });
  await untilAll(
    all,
    () => all.every((c) => receivesAll(c, name, all.length - 1)),
    () => `${describeRoom(all, name)()} | ${statuses(all)} | ${connectionStates()}`,
    45_000,
  );
}

const statuses = (all: RelayClient[]) =>
  all.map((c) => `${c.store.getState().resource}:${history.get(c)?.join('>')}`).join(' ');

/** The page's open peer connections, counted by signaling/ICE/connection state. */
function connectionStates(): string {
  const counts = new Map<string, number>();
  for (const pc of connections) {
    const key = `${pc.signalingState}/${pc.iceConnectionState}/${pc.connectionState}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key}×${n}`).join(' ');
}

/** Video bytes the page's connections sent so far (every layer of every outbound stream). */
async function videoBytesSent(): Promise<number> {
  let total = 0;
  for (const pc of connections) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((report: { type: string; kind?: string; bytesSent?: number }) => {
      if (report.type === 'outbound-rtp' && report.kind === 'video') total += report.bytesSent ?? 0;
    });
  }
  return total;
}

/** Video bytes each of `count` participants uploads per second, measured over `ms`. */
async function uploadPerParticipant(count: number, ms: number): Promise<number> {
  const before = await videoBytesSent();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const sent = (await videoBytesSent()) - before;
  return sent / count / (ms / 1000);
}

describe('an sfu room in Chromium', () => {
  it('carries six participants, each decoding five and uploading one stream, far less than a mesh', async () => {
    const names = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];
    const all = await Promise.all(names.map((r) => connected(r)));
    await joinAll(all, 'conference', 'sfu');
    for (const client of all) {
      // One publisher connection, and one per participant received.
      expect(room(client, 'conference').maxParticipants).toBe(25);
    }
    await Promise.all(all.map((client) => decodesEveryone(client, 'conference', 5, 20_000)));
    expect(connections.filter((pc) => pc.connectionState === 'connected')).toHaveLength(6 * 6);
    const sfu = await uploadPerParticipant(6, 3000);
    document.body.replaceChildren();
    for (const client of all) client.leaveRoom('conference');
    await untilTrue(
      () => connections.every((pc) => pc.connectionState === 'closed'),
      'every connection closed after leaving',
      10_000,
    );
    connections.splice(0);

    await joinAll(all, 'mesh', 'mesh');
    const mesh = await uploadPerParticipant(6, 3000);
    // A mesh participant sends its video five times; through the SFU once (its simulcast layers).
    expect(sfu).toBeGreaterThan(0);
    expect(sfu).toBeLessThan(mesh / 2);
  }, 120_000);

  it('lets participants join, leave and be removed, and shows who talks', async () => {
    const mod = await connected('mod', `${SCOPES},rooms:moderate`);
    const gus = await connected('gus');
    const hal = await connected('hal');
    await joinAll([mod, gus, hal], 'townhall', 'sfu');
    // Janus hears the fake microphones (a beep) and says who talks.
    await untilAll(
      [mod],
      () => room(mod, 'townhall').activeSpeakerId !== null,
      () => JSON.stringify(remotes(mod, 'townhall').map((p) => [p.resource, p.speaking])),
      20_000,
    );

    const ivy = await connected('ivy');
    await ivy.joinRoom('townhall', CAMERA);
    const four = [mod, gus, hal, ivy];
    await untilAll(
      four,
      () => four.every((c) => receivesAll(c, 'townhall', 3)),
      describeRoom(four, 'townhall'),
      30_000,
    );
    await decodesEveryone(ivy, 'townhall', 3, 20_000);

    gus.leaveRoom('townhall');
    const three = [mod, hal, ivy];
    await untilAll(
      three,
      () => three.every((c) => receivesAll(c, 'townhall', 2)),
      describeRoom(three, 'townhall'),
      15_000,
    );

    await mod.removeParticipant('townhall', room(hal, 'townhall').participantId!);
    await untilAll(
      [hal],
      () => room(hal, 'townhall').state === 'left',
      describeRoom([hal], 'townhall'),
      10_000,
    );
    expect(room(hal, 'townhall').leftReason).toBe('removed');
    const two = [mod, ivy];
    await untilAll(
      two,
      () => two.every((c) => receivesAll(c, 'townhall', 1)),
      describeRoom(two, 'townhall'),
      15_000,
    );
    await decodesEveryone(mod, 'townhall', 3, 20_000);
  }, 90_000);

  it('says the media server is down when Janus dies, and brings everyone back when it restarts', async () => {
    const all = await Promise.all(['jay', 'kim', 'lou'].map((r) => connected(r)));
    await joinAll(all, 'resilient', 'sfu');
    // A mesh room of two of them carries on through it all.
    await Promise.all(all.slice(0, 2).map((c) => c.joinRoom('side', { ...CAMERA, media: 'mesh' })));
    const side = all.slice(0, 2);
    await untilAll(
      side,
      () => side.every((c) => receivesAll(c, 'side', 1)),
      describeRoom(side, 'side'),
      20_000,
    );

    await commands.killJanus(relay.id);
    await untilAll(
      all,
      () => all.every((c) => room(c, 'resilient').error?.code === 'sfu_unavailable'),
      describeRoom(all, 'resilient'),
      20_000,
    );
    for (const client of all) {
      expect(room(client, 'resilient')).toMatchObject({ state: 'reconnecting' });
      expect(room(client, 'resilient').error?.message).toMatch(/media server/);
    }
    expect(all.slice(0, 2).every((c) => receivesAll(c, 'side', 1))).toBe(true);

    await commands.restartJanus(relay.id);
    await untilAll(
      all,
      () => all.every((c) => receivesAll(c, 'resilient', 2) && room(c, 'resilient').error === null),
      describeRoom(all, 'resilient'),
      45_000,
    );
    await Promise.all(all.map((client) => decodesEveryone(client, 'resilient', 3, 20_000)));
    await decodesEveryone(all[0]!, 'side', 3, 20_000);
  }, 120_000);
});
