/**
 * Mesh rooms in Chromium, through a real Relay: four participants with live video each way,
 * one leaving, scopes (a `rooms:join` token cannot dial), a moderator removing someone, and a
 * Relay restart in the middle of a room (media keeps flowing peer to peer, membership is the
 * same after everyone rejoined). Each participant is its own RelayClient with its own socket,
 * camera and peer connections.
 */
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { createRelayClient, type RelayClient } from 'relaycall/core';
import { until, untilAll } from './faultKit.js';
import { framesPresented, relayPerFile } from './helpers.js';
import {
  decodesEveryone,
  describeRoom,
  receivesAll,
  remotes,
  room,
  roomToken,
  statusHistory,
} from './roomKit.js';

const { relay, clients } = relayPerFile();
const statuses = statusHistory();

const ROOM_SCOPES = 'calls:dial,calls:receive,rooms:join';

async function connected(resource: string, scopes = ROOM_SCOPES): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  statuses.watch(client);
  await client.connect(await roomToken(relay.tokenUrl, resource, scopes));
  return client;
}

async function joinAll(all: RelayClient[], name: string) {
  const joined = await Promise.all(all.map((client) => client.joinRoom(name)));
  for (const snapshot of joined) expect(snapshot.state).toBe('joined');
  await untilAll(
    all,
    () => all.every((c) => receivesAll(c, name, all.length - 1)),
    () => `${describeRoom(all, name)()} | ${statuses.describe(all)}`,
    20_000,
  );
}

describe('a mesh room in Chromium', () => {
  it('meshes four participants with video each way; one leaves and the others keep going', async () => {
    const all = await Promise.all(['ann', 'ben', 'cat', 'dan'].map((r) => connected(r)));
    await joinAll(all, 'standup');
    for (const client of all) await decodesEveryone(client, 'standup', 5);
    document.body.replaceChildren();

    const [ann, ...rest] = all as [RelayClient, ...RelayClient[]];
    const localTracks = room(ann, 'standup').localStream!.getTracks();
    ann.leaveRoom('standup');
    expect(room(ann, 'standup')).toMatchObject({ state: 'left', leftReason: 'left' });
    expect(localTracks.every((track) => track.readyState === 'ended')).toBe(true);
    await untilAll(
      rest,
      () => rest.every((c) => receivesAll(c, 'standup', 2)),
      describeRoom(rest, 'standup'),
      10_000,
    );
    for (const client of rest) await decodesEveryone(client, 'standup', 5);
  });

  it('refuses to dial with a rooms:join-only token, which joins rooms all the same', async () => {
    const guest = await connected('guest', 'rooms:join');
    const host = await connected('host');
    const id = guest.call('host');
    await until(guest, (s) => s.calls[id]?.state === 'ended', 'the call is refused');
    expect(guest.store.getState().calls[id]).toMatchObject({
      endReason: 'forbidden',
      error: { code: 'forbidden' },
    });
    // Nor can it be rung: to the Relay it is not there for calls.
    const back = host.call('guest');
    await until(host, (s) => s.calls[back]?.state === 'ended', 'guest cannot be rung');
    expect(host.store.getState().calls[back]?.endReason).toBe('unavailable');

    await joinAll([guest, host], 'lobby');
    // And a token without rooms:join cannot join.
    const caller = await connected('caller', 'calls:dial,calls:receive');
    const refused = await caller.joinRoom('lobby');
    expect(refused).toMatchObject({ state: 'left', error: { code: 'forbidden' } });
  });

  it('lets a moderator remove a participant, who cannot come back while the room lives', async () => {
    const mod = await connected('mod', `${ROOM_SCOPES},rooms:moderate`);
    const eve = await connected('eve');
    const fay = await connected('fay');
    await joinAll([mod, eve, fay], 'townhall');
    expect(room(mod, 'townhall').participants[room(mod, 'townhall').participantId!]).toMatchObject({
      moderator: true,
    });
    const eveId = room(eve, 'townhall').participantId!;

    await mod.removeParticipant('townhall', eveId);
    await until(eve, (s) => s.rooms.townhall?.state === 'left', 'eve is out');
    expect(room(eve, 'townhall')).toMatchObject({ leftReason: 'removed', localStream: null });
    await untilAll(
      [mod, fay],
      () => receivesAll(mod, 'townhall', 1) && receivesAll(fay, 'townhall', 1),
      describeRoom([mod, fay], 'townhall'),
      10_000,
    );
    expect(remotes(fay, 'townhall').map((p) => p.resource)).toEqual(['mod']);

    eve.dismissRoom('townhall');
    const again = await eve.joinRoom('townhall');
    expect(again).toMatchObject({ state: 'left', error: { code: 'forbidden' } });

    // Without rooms:moderate, the same request is refused.
    await expect(
      fay.removeParticipant('townhall', room(mod, 'townhall').participantId!),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('keeps media and membership through a Relay restart in the middle of a room', async () => {
    const all = await Promise.all(['gil', 'hal', 'ivy'].map((r) => connected(r)));
    await joinAll(all, 'restart');
    const idsBefore = all.map((c) => room(c, 'restart').participantId);
    const videos = await decodesEveryone(all[0]!, 'restart', 3);
    const streamsBefore = new Map(remotes(all[0]!, 'restart').map((p) => [p.id, p.stream]));

    const restart = commands.restartRelay(relay.id, 300);
    await until(all[0]!, (s) => s.status === 'reconnecting', 'gil notices');
    // The Relay is down: media goes on peer to peer.
    await Promise.all(videos.map((video) => framesPresented(video, 5, 'frames while down')));
    await restart;
    await untilAll(
      all,
      () =>
        all.every((c) => c.store.getState().status === 'connected' && receivesAll(c, 'restart', 2)),
      describeRoom(all, 'restart'),
      20_000,
    );
    // Everyone rejoined as the participant it was: the same ids, each seen by the others.
    expect(all.map((c) => room(c, 'restart').participantId)).toEqual(idsBefore);
    for (const client of all) {
      expect(
        remotes(client, 'restart')
          .map((p) => p.id)
          .sort(),
      ).toEqual(idsBefore.filter((id) => id !== room(client, 'restart').participantId).sort());
    }
    await Promise.all(videos.map((video) => framesPresented(video, 5, 'frames after')));
    // The streams are the ones from before: no peer was torn down.
    for (const p of remotes(all[0]!, 'restart')) expect(p.stream).toBe(streamsBefore.get(p.id));
    await expect.poll(() => commands.relayStats(relay.id)).toMatchObject({ sessions: 3 });
  });
});
