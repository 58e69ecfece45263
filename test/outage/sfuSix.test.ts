/**
 * Six participants in one page, each its own RelayClient with its own socket, camera and
 * connections, through a real Relay and a real Janus: in an sfu room each decodes the five others
 * and uploads one stream, a fraction of what the same six upload in a mesh. Thirty encoders and
 * decoders in one page take the machine's two cores, so this file runs in the serial project
 * (one file at a time, after the rest): beside other test files it starved their pages and its
 * own clients' sockets.
 */
import { describe, expect, it } from 'vitest';
import { connections } from '../browser/assistKit.js';
import { untilTrue } from '../browser/helpers.js';
import { decodesEveryone, room } from '../browser/roomKit.js';
import { sfuRoomKit } from '../browser/sfuKit.js';

const { connected, joinAll } = sfuRoomKit();

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
