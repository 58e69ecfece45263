/**
 * Rooms through a real Relay, signaling side: RelayClients in Node (the `ws` WebSocket), no
 * media (`audio: false, video: false`) and a fake MediaSession in place of WebRTC, recording
 * which peers the client makes. Media itself is tested in Chromium (test/browser/rooms.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  createRelayClient,
  type MediaSession,
  type MediaSessionCallbacks,
  type RelayClient,
  type RelayClientOptions,
  type RelayClientState,
  type RoomSnapshot,
  type Scope,
} from 'relaycall/core';
import { SqliteStore } from 'relaycall/server';
import { ManualClock, startTestRelay, type TestRelay } from 'relaycall/testing';

let relay: TestRelay;
const clients: RelayClient[] = [];
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const close of closers.splice(0).reverse()) await close();
});

async function start(options: Parameters<typeof startTestRelay>[0] = {}) {
  relay = await startTestRelay({ limits: { heartbeatIntervalMs: 0 }, ...options });
  closers.push(() => relay.close());
  return relay;
}

const MEMBER: Scope[] = ['calls:dial', 'calls:receive', 'rooms:join'];
const MODERATOR: Scope[] = [...MEMBER, 'rooms:moderate'];
const NO_MEDIA = { audio: false, video: false } as const;

/** The peers a client's rooms make, as `+id` (`*`: it offers) and `-id`. */
interface Peers {
  log: string[];
  destroyed: number;
}

function fakeSessions(peers: Peers): RelayClientOptions['createMediaSession'] {
  return () =>
    ({
      add: (id, initiator) => peers.log.push(`+${id}${initiator ? '*' : ''}`),
      remove: (id) => peers.log.push(`-${id}`),
      signal: () => undefined,
      setTrackEnabled: () => undefined,
      replaceTrack: async () => undefined,
      destroy: () => void (peers.destroyed += 1),
    }) satisfies MediaSession;
}

async function member(
  resource: string,
  scopes: Scope[] = MEMBER,
  options: Partial<RelayClientOptions> = {},
) {
  const peers: Peers = { log: [], destroyed: 0 };
  const client = createRelayClient({
    url: relay.url,
    WebSocket: WebSocket as unknown as RelayClientOptions['WebSocket'],
    createMediaSession: fakeSessions(peers),
    ...options,
  });
  clients.push(client);
  await client.connect(await relay.issueToken(resource, { scopes }));
  return Object.assign(client, { peers });
}

/** Resolves when the client's store satisfies `predicate`. */
function until(c: RelayClient, predicate: (state: RelayClientState) => boolean) {
  return new Promise<void>((resolve) => {
    if (predicate(c.store.getState())) return resolve();
    const unsubscribe = c.store.subscribe((state) => {
      if (predicate(state)) {
        unsubscribe();
        resolve();
      }
    });
  });
}

const room = (c: RelayClient, name: string) => c.store.getState().rooms[name] as RoomSnapshot;
const others = (c: RelayClient, name: string) =>
  Object.values(room(c, name)?.participants ?? {})
    .filter((p) => !p.isLocal)
    .map((p) => p.resource)
    .sort();
const idOf = (c: RelayClient, name: string) => room(c, name).participantId!;

describe('rooms through a Relay', () => {
  it('joins three clients, each peering with the others; one leaves', async () => {
    await start();
    const [ann, ben, cat] = await Promise.all(['ann', 'ben', 'cat'].map((r) => member(r)));
    const joined = [];
    for (const c of [ann!, ben!, cat!]) {
      joined.push(
        await c.joinRoom('standup', {
          ...NO_MEDIA,
          metadata: { name: c.store.getState().resource },
        }),
      );
    }
    expect(joined.map((r) => r.state)).toEqual(['joined', 'joined', 'joined']);
    for (const c of [ann!, ben!, cat!]) {
      await until(c, (s) => Object.keys(s.rooms.standup?.participants ?? {}).length === 3);
    }
    expect(others(ann!, 'standup')).toEqual(['ben', 'cat']);
    expect(room(ben!, 'standup').participants[idOf(cat!, 'standup')]).toMatchObject({
      resource: 'cat',
      metadata: { name: 'cat' },
      state: 'joined',
    });
    // Every pair has one peer on each side, and exactly one side of each offers.
    const ids = [ann!, ben!, cat!].map((c) => idOf(c, 'standup'));
    for (const [i, c] of [ann!, ben!, cat!].entries()) {
      const expected = ids
        .filter((id) => id !== ids[i])
        .map((id) => `+${id}${ids[i]! < id ? '*' : ''}`)
        .sort();
      expect([...c.peers.log].sort()).toEqual(expected);
    }

    ben!.leaveRoom('standup');
    expect(room(ben!, 'standup')).toMatchObject({ state: 'left', leftReason: 'left' });
    expect(ben!.peers.destroyed).toBe(1);
    for (const c of [ann!, cat!]) {
      await until(c, (s) => Object.keys(s.rooms.standup?.participants ?? {}).length === 2);
      expect(c.peers.log.at(-1)).toBe(`-${ids[1]}`);
    }
    // Joining again is a new participant; joinRoom while joined changes nothing.
    const again = await ann!.joinRoom('standup');
    expect(again).toBe(room(ann!, 'standup'));
  });

  it('refuses calls to a rooms:join-only token, which joins rooms, and rooms to a calls token', async () => {
    await start();
    const guest = await member('guest', ['rooms:join']);
    const id = guest.call('host');
    expect(guest.store.getState().calls[id]).toMatchObject({
      state: 'ended',
      endReason: 'forbidden',
      error: { code: 'forbidden' },
    });
    expect(await guest.joinRoom('lobby', NO_MEDIA)).toMatchObject({ state: 'joined' });
    const caller = await member('caller', ['calls:dial', 'calls:receive']);
    expect(await caller.joinRoom('lobby', NO_MEDIA)).toMatchObject({
      state: 'left',
      leftReason: 'failed',
      error: { code: 'forbidden' },
    });
    expect(relay.server.stats().sessions).toBe(2);
  });

  it('lets a moderator mute and remove participants; others may not', async () => {
    await start();
    const mod = await member('mod', MODERATOR);
    const eve = await member('eve');
    const fay = await member('fay');
    for (const c of [mod, eve, fay]) await c.joinRoom('townhall', NO_MEDIA);
    for (const c of [mod, eve, fay]) {
      await until(c, (s) => Object.keys(s.rooms.townhall?.participants ?? {}).length === 3);
    }
    expect(room(eve, 'townhall').participants[idOf(mod, 'townhall')]?.moderator).toBe(true);

    // fay unmutes her (absent) microphone; the moderator mutes it again.
    fay.setRoomAudioMuted('townhall', false);
    await until(
      mod,
      (s) => s.rooms.townhall?.participants[idOf(fay, 'townhall')]?.audioMuted === false,
    );
    await mod.muteParticipant('townhall', idOf(fay, 'townhall'), 'audio');
    await until(fay, (s) => s.rooms.townhall?.audioMuted === true);
    await until(
      eve,
      (s) => s.rooms.townhall?.participants[idOf(fay, 'townhall')]?.audioMuted === true,
    );

    const eveId = idOf(eve, 'townhall');
    await expect(fay.removeParticipant('townhall', eveId)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await mod.removeParticipant('townhall', eveId);
    await until(eve, (s) => s.rooms.townhall?.state === 'left');
    expect(room(eve, 'townhall')).toMatchObject({ leftReason: 'removed', participants: {} });
    await until(fay, (s) => s.rooms.townhall?.participants[eveId] === undefined);
    expect(others(fay, 'townhall')).toEqual(['mod']);
    eve.dismissRoom('townhall');
    expect(eve.store.getState().rooms).toEqual({});

    await mod.endRoom('townhall');
    expect(room(mod, 'townhall')).toMatchObject({ state: 'left', leftReason: 'ended' });
    expect(mod.peers.destroyed).toBe(1);
    await until(fay, (s) => s.rooms.townhall?.state === 'left');
    expect(room(fay, 'townhall')).toMatchObject({ leftReason: 'ended' });
  });

  it('rings an invitee, who joins by name or declines', async () => {
    await start();
    const ann = await member('ann');
    const ben = await member('ben');
    await ann.joinRoom('retro', NO_MEDIA);
    await ann.inviteToRoom('retro', 'ben', { topic: 'q3' });
    await until(ben, (s) => Object.keys(s.roomInvites).length === 1);
    const [invite] = Object.values(ben.store.getState().roomInvites);
    expect(invite).toMatchObject({ name: 'retro', by: 'ann', metadata: { topic: 'q3' } });
    await until(ann, () => others(ann, 'retro').includes('ben'));
    const ringing = Object.values(room(ann, 'retro').participants).find((p) => !p.isLocal);
    expect(ringing?.state).toBe('ringing');
    expect(ann.peers.log).toEqual([]);

    await ben.joinRoom('retro', NO_MEDIA);
    expect(ben.store.getState().roomInvites).toEqual({});
    // ben takes the ringing participant's id: ann peers with it now.
    expect(idOf(ben, 'retro')).toBe(ringing?.id);
    await until(ann, (s) => s.rooms.retro?.participants[ringing!.id]?.state === 'joined');
    expect(ann.peers.log).toEqual([
      `+${ringing!.id}${idOf(ann, 'retro') < ringing!.id ? '*' : ''}`,
    ]);

    ben.leaveRoom('retro');
    await until(ann, () => others(ann, 'retro').length === 0);
    await ann.inviteToRoom('retro', 'ben');
    // Told before the reply: ben rings among the participants.
    expect(others(ann, 'retro')).toEqual(['ben']);
    await until(ben, (s) => Object.keys(s.roomInvites).length === 1);
    ben.declineRoom(Object.keys(ben.store.getState().roomInvites)[0]!);
    expect(ben.store.getState().roomInvites).toEqual({});
    await until(ann, () => others(ann, 'retro').length === 0);

    await expect(ann.inviteToRoom('nowhere', 'ben')).rejects.toMatchObject({
      code: 'invalid_state',
    });
  });

  it('rejoins as the same participants after a Relay restart, keeping the peers', async () => {
    // A restarted Relay keeps its secret, projects and token families in its SQLite store.
    const file = join(mkdtempSync(join(tmpdir(), 'relaycall-rooms-')), 'relay.sqlite');
    await start({ store: await SqliteStore.open(file) });
    const { port } = new URL(relay.url);
    const clock = new ManualClock();
    const options = { clock, random: () => 0 };
    const all = await Promise.all(['gil', 'hal', 'ivy'].map((r) => member(r, MEMBER, options)));
    for (const c of all) await c.joinRoom('restart', NO_MEDIA);
    for (const c of all) {
      await until(c, (s) => Object.keys(s.rooms.restart?.participants ?? {}).length === 3);
    }
    const ids = all.map((c) => idOf(c, 'restart'));
    const roomId = room(all[0]!, 'restart').id;
    const peersBefore = all.map((c) => [...c.peers.log]);

    await relay.close();
    closers.pop();
    for (const c of all) await until(c, (s) => s.rooms.restart?.state === 'reconnecting');
    relay = await startTestRelay({
      port: Number(port),
      store: await SqliteStore.open(file),
      project: relay.project,
      limits: { heartbeatIntervalMs: 0 },
    });
    closers.push(() => relay.close());
    // Reconnect delays are 0 (random 0): fire them until everyone is back in the room.
    await new Promise<void>((resolve) => {
      const poll = () => {
        clock.advance(0);
        if (
          all.every(
            (c) => room(c, 'restart').state === 'joined' && others(c, 'restart').length === 2,
          )
        )
          resolve();
        else setImmediate(poll);
      };
      poll();
    });
    expect(all.map((c) => idOf(c, 'restart'))).toEqual(ids);
    expect(room(all[0]!, 'restart').id).not.toBe(roomId);
    // No peer was torn down or made again: media flowed peer to peer all along.
    expect(all.map((c) => c.peers.log)).toEqual(peersBefore);
    expect(all.map((c) => c.peers.destroyed)).toEqual([0, 0, 0]);
    expect(relay.server.stats().sessions).toBe(3);
  });
});

describe('a room screen share the media cannot carry', () => {
  it('ends the share, stops the capture and says why, until the next share', async () => {
    await start();
    let callbacks: MediaSessionCallbacks | undefined;
    const screens: (MediaStream | null)[] = [];
    const stopped: string[] = [];
    const capture = (id: string) => {
      const track = {
        id,
        kind: 'video',
        stop: () => stopped.push(id),
        addEventListener: () => undefined,
        removeEventListener: () => undefined,
      };
      return { id, getTracks: () => [track] } as unknown as MediaStream;
    };
    const captures = [capture('first'), capture('second')];
    const ann = await member('ann', MEMBER, {
      getDisplayMedia: async () => captures.shift()!,
      createMediaSession: (options) => {
        callbacks = options.callbacks;
        return {
          ...fakeSessions({ log: [], destroyed: 0 })!(options),
          setScreen: (stream) => void screens.push(stream),
        };
      },
    });
    await ann.joinRoom('demo', NO_MEDIA);
    await ann.startRoomScreenShare('demo');
    expect(room(ann, 'demo').screenStream?.id).toBe('first');

    // The media server refused the share, or its connection failed for good.
    callbacks!.onScreenFailed!();
    expect(room(ann, 'demo')).toMatchObject({
      screenStream: null,
      screenShareError: { code: 'screen_share_failed' },
    });
    expect(stopped).toEqual(['first']);

    await ann.startRoomScreenShare('demo');
    expect(room(ann, 'demo')).toMatchObject({ screenShareError: null });
    expect(room(ann, 'demo').screenStream?.id).toBe('second');
    expect(screens.map((s) => s?.id)).toEqual(['first', 'second']);
  });
});
