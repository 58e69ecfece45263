/**
 * Six participants in one page, each its own RelayClient with its own socket, camera and
 * connections, through a real Relay and a real Janus: in an sfu room each decodes the five others
 * and uploads one stream, a fraction of what the same six upload in a mesh. Thirty encoders and
 * decoders in one page take the machine's two cores, so this file runs in the serial project
 * (one file at a time, after the rest): beside other test files it starved their pages and its
 * own clients' sockets.
 */
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { createRelayClient, type RelayClient, type RoomJoinOptions } from 'relaycall/core';
import { connections, recordConnections } from '../browser/assistKit.js';
import { untilAll } from '../browser/faultKit.js';
import { relayPerFile, untilTrue } from '../browser/helpers.js';
import { decodesEveryone, describeRoom, receivesAll, room, roomToken } from '../browser/roomKit.js';

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

describe('six participants in Chromium', () => {
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
});
