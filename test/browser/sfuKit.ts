import { expect } from 'vitest';
import { commands } from 'vitest/browser';
import { createRelayClient, type RelayClient, type RoomJoinOptions } from 'relaycall/core';
import { connections, recordConnections } from './assistKit.js';
import { untilAll } from './faultKit.js';
import { relayPerFile } from './helpers.js';
import { describeRoom, receivesAll, roomToken, statusHistory } from './roomKit.js';

export const SCOPES = 'calls:dial,calls:receive,rooms:join';
/** Tiny video: many encoders and decoders share two cores. */
export const CAMERA: RoomJoinOptions = { video: { width: 160, height: 120, frameRate: 10 } };

/** The page's open peer connections, counted by signaling/ICE/connection state. */
function connectionStates(): string {
  const counts = new Map<string, number>();
  for (const pc of connections) {
    const key = `${pc.signalingState}/${pc.iceConnectionState}/${pc.connectionState}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${key}×${n}`).join(' ');
}

/**
 * A file's Relay with Janus (`talkingLevel` 100), its clients, and every peer connection the
 * page makes recorded (`connections`). `connected` makes a connected client; `joinAll` joins
 * them all to a room and waits until each receives every other one: a timeout prints each
 * client's room, connection statuses and sessions, and the page's connection states.
 */
export function sfuRoomKit() {
  const file = relayPerFile(
    () => commands.startJanusRelay({ talkingLevel: 100 }),
    (id) => commands.stopJanusRelay(id),
  );
  recordConnections();
  const statuses = statusHistory();

  async function connected(resource: string, scopes = SCOPES): Promise<RelayClient> {
    const client = createRelayClient({ url: file.relay.url });
    file.clients.push(client);
    statuses.watch(client);
    await client.connect(await roomToken(file.relay.tokenUrl, resource, scopes));
    return client;
  }

  async function joinAll(all: RelayClient[], name: string, media: 'sfu' | 'mesh') {
    const joined = await Promise.all(all.map((c) => c.joinRoom(name, { ...CAMERA, media })));
    for (const snapshot of joined) expect(snapshot).toMatchObject({ state: 'joined', media });
    await untilAll(
      all,
      () => all.every((c) => receivesAll(c, name, all.length - 1)),
      () => `${describeRoom(all, name)()} | ${statuses.describe(all)} | ${connectionStates()}`,
      45_000,
    );
  }

  return { ...file, connected, joinAll };
}
