/**
 * The client's own WebRTC (React Native's react-native-webrtc, a wrapper in tests): the
 * `RTCPeerConnection` option reaches every connection of a call and of a mesh room, and the
 * global one is never used.
 */
import { expect, it } from 'vitest';
import { createRelayClient, type RelayClient } from 'relaycall/core';
import { activeCall, untilAll } from './faultKit.js';
import { fetchTestToken, relayPerFile } from './helpers.js';
import { receivesAll, roomToken } from './roomKit.js';

const { relay, clients } = relayPerFile();

/** Connections made through the injected constructor. */
const injected: RTCPeerConnection[] = [];
class AppWebrtc extends RTCPeerConnection {
  constructor(config?: RTCConfiguration) {
    super(config);
    injected.push(this);
  }
}

async function connected(resource: string, token?: string): Promise<RelayClient> {
  const client = createRelayClient({
    url: relay.url,
    iceServers: [],
    RTCPeerConnection: AppWebrtc,
  });
  clients.push(client);
  await client.connect(token ?? (await fetchTestToken(relay.tokenUrl, resource)));
  return client;
}

it('uses the RTCPeerConnection it is given, in calls and in mesh rooms', async () => {
  const Global = globalThis.RTCPeerConnection;
  let globalUses = 0;
  globalThis.RTCPeerConnection = class extends Global {
    constructor(config?: RTCConfiguration) {
      super(config);
      globalUses += 1;
    }
  } as typeof RTCPeerConnection;
  try {
    const alice = await connected('alice');
    const bob = await connected('bob');
    await activeCall(alice, bob, 'bob');
    expect(injected.length).toBe(2);

    const scopes = 'rooms:join';
    const ann = await connected('ann', await roomToken(relay.tokenUrl, 'ann', scopes));
    const ben = await connected('ben', await roomToken(relay.tokenUrl, 'ben', scopes));
    await ann.joinRoom('injected');
    await ben.joinRoom('injected');
    const both = [ann, ben];
    const meshed = () => both.every((c) => receivesAll(c, 'injected', 1));
    await untilAll(both, meshed, () => 'ann and ben receive each other', 20_000);
    expect(injected.length).toBe(4);
    expect(globalUses).toBe(0);
  } finally {
    globalThis.RTCPeerConnection = Global;
  }
});
