/**
 * Call quality in an `sfu` room (real Relay and Janus): the upload to the media server and each
 * participant received are sampled apart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { SFU_PEER, createRelayClient, type RelayClient } from 'relaycall/core';
import { untilTrue } from './helpers.js';
import { receivesAll, roomToken } from './roomKit.js';

let relay: { id: string; url: string; tokenUrl: string };
const clients: RelayClient[] = [];

beforeAll(async () => {
  relay = await commands.startJanusRelay({});
}, 60_000);
afterAll(() => commands.stopJanusRelay(relay.id));
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function joined(resource: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url, quality: { intervalMs: 250 } });
  clients.push(client);
  await client.connect(await roomToken(relay.tokenUrl, resource, 'rooms:join'));
  await client.joinRoom('sfu-stats', {
    media: 'sfu',
    video: { width: 320, height: 240, frameRate: 15 },
  });
  return client;
}

describe('call quality in an sfu room', () => {
  it('samples the upload and each participant received', async () => {
    const [alice, bob] = await Promise.all([joined('alice'), joined('bob')]);
    await untilTrue(() => receivesAll(alice!, 'sfu-stats', 1), 'alice receives bob', 45_000);
    const unwatch = alice!.watchRoomStats('sfu-stats');
    const bobId = bob!.store.getState().rooms['sfu-stats']!.participantId!;
    const sampled = () => alice!.quality.getState().rooms['sfu-stats'] ?? {};
    await untilTrue(
      () => (sampled()[SFU_PEER]?.bitrateOut ?? 0) > 0 && (sampled()[bobId]?.bitrateIn ?? 0) > 0,
      'samples of the upload and of bob',
      20_000,
    );
    const upload = sampled()[SFU_PEER]!;
    expect(upload.videoOut?.width).toBeGreaterThan(0);
    expect(upload.rttMs).toBeGreaterThanOrEqual(0);
    expect(upload.rttMs).toBeLessThan(1000);
    const fromBob = sampled()[bobId]!;
    expect(fromBob.bitrateOut).toBeLessThan(fromBob.bitrateIn); // receive-only connection
    unwatch();
  });
});
