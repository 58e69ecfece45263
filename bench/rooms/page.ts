/**
 * One participant of the room media bench (bench/rooms/roomMediaBench.mjs): a RelayClient that
 * joins a room, and what its peer connections sent.
 */
import { createRelayClient, type RelayClient, type RoomMedia } from 'relaycall/core';

const connections: RTCPeerConnection[] = [];
const Native = globalThis.RTCPeerConnection;
globalThis.RTCPeerConnection = class extends Native {
  constructor(config?: RTCConfiguration) {
    super(config);
    connections.push(this);
  }
} as typeof RTCPeerConnection;

let client: RelayClient | undefined;

async function join(config: { url: string; token: string; room: string; media: RoomMedia }) {
  client = createRelayClient({ url: config.url });
  await client.connect(config.token);
  const room = await client.joinRoom(config.room, {
    media: config.media,
    video: { width: 640, height: 480, frameRate: 30 },
  });
  if (room.state !== 'joined') throw new Error(`join failed: ${room.error?.message}`);
}

/** Whether every other participant's media arrived and its connection is up. */
function receives(room: string, others: number): boolean {
  const snapshot = client?.store.getState().rooms[room];
  const remote = Object.values(snapshot?.participants ?? {}).filter((p) => !p.isLocal);
  return remote.length === others && remote.every((p) => p.connected && p.stream !== null);
}

/** Bytes sent so far by every connection of this page (audio and video, every layer). */
async function bytesSent(): Promise<number> {
  let total = 0;
  for (const pc of connections) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((report: { type: string; bytesSent?: number }) => {
      if (report.type === 'outbound-rtp') total += report.bytesSent ?? 0;
    });
  }
  return total;
}

Object.assign(globalThis, { bench: { join, receives, bytesSent } });
