/**
 * Supervisors assisting rooms in Chromium, through a real Relay (mesh) and a real Janus (sfu):
 * an agent and a customer in a room, and a supervisor client that monitors, whispers to the
 * agent, barges in and leaves. What each side sends and receives is read from the connections'
 * own statistics (getStats), with Chromium's fake microphone (a beep) as the audio.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  createRelayClient,
  type AssistSnapshot,
  type ParticipantSnapshot,
  type RelayClient,
} from 'relaycall/core';
import {
  audioBytes,
  connections,
  monitorsOnly,
  receives,
  receiving,
  recordConnections,
  whispersToAgentOnly,
} from './assistKit.js';
import { until, untilAll } from './faultKit.js';
import { describeRoom, receivesAll, room, roomToken } from './roomKit.js';

const ROOM_SCOPES = 'calls:dial,calls:receive,rooms:join';
const SUPERVISOR_SCOPES = 'calls:list,calls:assist';

let relay: { id: string; url: string; tokenUrl: string };
const clients: RelayClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

async function connected(resource: string, scopes = ROOM_SCOPES): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  await client.connect(await roomToken(relay.tokenUrl, resource, scopes));
  return client;
}

const assistOf = (client: RelayClient, callId: string) =>
  client.store.getState().assists[callId] as AssistSnapshot;

/** The participant `resource` as `client` sees it in the room `name`. */
const seen = (client: RelayClient, name: string, resource: string) =>
  Object.values(room(client, name)?.participants ?? {}).find((p) => p.resource === resource) as
    ParticipantSnapshot | undefined;

/** The agent and the customer in the room `name`, each receiving the other. */
async function desk(name: string, agentName: string, customerName: string, media: 'mesh' | 'sfu') {
  const agent = await connected(agentName);
  const customer = await connected(customerName);
  for (const client of [agent, customer]) {
    expect(await client.joinRoom(name, { video: false, media })).toMatchObject({
      state: 'joined',
      media,
    });
  }
  const both = [agent, customer];
  await untilAll(
    both,
    () => both.every((c) => receivesAll(c, name, 1)),
    describeRoom(both, name),
    20_000,
  );
  return { agent, customer, roomId: room(agent, name).id! };
}

/** Waits until the supervisor receives every party of its assist, connected. */
async function hearsParties(supervisor: RelayClient, roomId: string, count: number) {
  await until(
    supervisor,
    (s) => {
      const parties = s.assists[roomId]?.parties ?? [];
      return parties.length === count && parties.every((p) => p.connected && p.stream);
    },
    () => `parties: ${JSON.stringify(assistOf(supervisor, roomId)?.parties)}`,
    20_000,
  );
}

describe('a supervisor assisting a mesh room', () => {
  recordConnections();
  beforeAll(async () => {
    relay = await commands.startRelay();
  });
  afterAll(() => commands.stopRelay(relay.id));

  it('monitors, whispers to the agent, barges in and leaves while the room goes on', async () => {
    const { agent, customer, roomId } = await desk('desk-1', 'agent-m', 'customer-m', 'mesh');
    const supervisor = await connected('sup-m', SUPERVISOR_SCOPES);

    // Monitor: the supervisor is in the room, hears both and sends nothing.
    const monitored = await supervisor.assist(roomId, 'monitor');
    expect(monitored).toMatchObject({ callId: roomId, mode: 'monitor', state: 'assisting' });
    expect(room(supervisor, 'desk-1')).toMatchObject({ id: roomId, state: 'joined' });
    expect(seen(supervisor, 'desk-1', 'sup-m')).toMatchObject({ isLocal: true, assist: 'monitor' });
    await hearsParties(supervisor, roomId, 2);
    const parties = assistOf(supervisor, roomId).parties;
    expect(parties.map((p) => p.resource).sort()).toEqual(['agent-m', 'customer-m']);
    const [toAgent, toCustomer] = await monitorsOnly(supervisor, roomId, 'agent-m', 'customer-m');

    // The parties see a supervisor participant, and get no stream of it to play.
    for (const client of [agent, customer]) {
      await until(client, () => seen(client, 'desk-1', 'sup-m')?.connected === true, 'sup seen');
      expect(seen(client, 'desk-1', 'sup-m')).toMatchObject({ assist: 'monitor', stream: null });
    }
    // Each party's link with the supervisor: sends its microphone, receives no other party.
    const linkAt = (client: RelayClient, other: string) => {
      const mic = room(client, 'desk-1').localStream?.getAudioTracks()[0];
      const otherTracks = seen(client, 'desk-1', other)?.stream?.getTracks() ?? [];
      const pc = connections.find(
        (c) =>
          c.connectionState !== 'closed' &&
          c.getSenders().some((s) => s.track !== null && s.track === mic) &&
          !c.getReceivers().some((r) => otherTracks.includes(r.track)),
      );
      if (!pc) throw new Error(`no supervisor link at ${other}'s other party`);
      return pc;
    };
    const atAgent = linkAt(agent, 'customer-m');
    const atCustomer = linkAt(customer, 'agent-m');
    expect((await audioBytes(atAgent)).received).toBe(0);
    expect((await audioBytes(atCustomer)).received).toBe(0);

    // Whisper to the agent: the agent's link receives the supervisor, the customer's not.
    const whispering = await supervisor.assist(roomId, 'whisper', { agent: 'agent-m' });
    const agentId = room(agent, 'desk-1').participantId;
    await whispersToAgentOnly(whispering, agentId, { toAgent, toCustomer, atAgent, atCustomer });
    await until(agent, () => !!seen(agent, 'desk-1', 'sup-m')?.stream, 'the agent gets it');
    expect(seen(agent, 'desk-1', 'sup-m')).toMatchObject({ assist: 'whisper', agent: agentId });
    await until(customer, () => seen(customer, 'desk-1', 'sup-m')?.assist === 'whisper', 'shown');
    expect(seen(customer, 'desk-1', 'sup-m')?.stream).toBeNull();
    // Never the active speaker.
    expect(room(agent, 'desk-1').activeSpeakerId).not.toBe(seen(agent, 'desk-1', 'sup-m')?.id);

    // Barge: both parties hear the supervisor.
    await supervisor.assist(roomId, 'barge');
    await receives(atCustomer, 'the customer hears the barge');
    const agentBefore = (await audioBytes(atAgent)).received;
    await receives(atAgent, 'the agent still hears it', agentBefore);
    for (const client of [agent, customer]) {
      await until(client, () => !!seen(client, 'desk-1', 'sup-m')?.stream, 'barge stream');
      expect(seen(client, 'desk-1', 'sup-m')?.assist).toBe('barge');
    }
    expect(assistOf(supervisor, roomId).supervisors).toMatchObject([{ mode: 'barge' }]);

    // The supervisor leaves: the others' participant lists drop it, the room goes on.
    const mic = assistOf(supervisor, roomId).localStream!.getAudioTracks()[0]!;
    supervisor.stopAssist(roomId);
    expect(assistOf(supervisor, roomId)).toMatchObject({ state: 'ended', localStream: null });
    expect(mic.readyState).toBe('ended');
    for (const client of [agent, customer]) {
      await until(client, () => !seen(client, 'desk-1', 'sup-m'), 'the supervisor is gone');
      expect(receivesAll(client, 'desk-1', 1)).toBe(true);
    }
    expect(supervisor.store.getState().rooms['desk-1']).toBeUndefined();
  }, 60_000);
});

describe('a supervisor assisting an sfu room', () => {
  /** The `room.signal` subscriptions every client of the page sent, by target participant id. */
  const subscriptions: string[] = [];
  const send = WebSocket.prototype.send;

  recordConnections();
  beforeAll(async () => {
    relay = await commands.startJanusRelay({});
    WebSocket.prototype.send = function (this: WebSocket, data) {
      if (typeof data === 'string' && data.includes('"subscribe"')) {
        const { method, params } = JSON.parse(data) as {
          method?: string;
          params?: { to?: string; signal?: { type?: string } };
        };
        if (method === 'room.signal' && params?.signal?.type === 'subscribe') {
          subscriptions.push(params.to ?? '');
        }
      }
      send.call(this, data);
    };
  }, 60_000);
  afterAll(async () => {
    WebSocket.prototype.send = send;
    await commands.stopJanusRelay(relay.id);
  });

  it('monitors without publishing, then whispers to the agent only', async () => {
    const { agent, customer, roomId } = await desk('desk-2', 'agent-s', 'customer-s', 'sfu');
    const supervisor = await connected('sup-s', SUPERVISOR_SCOPES);
    const before = connections.length;

    // Monitor: two subscriptions (one per party), no upload.
    const monitored = await supervisor.assist(roomId, 'monitor');
    expect(monitored).toMatchObject({ callId: roomId, mode: 'monitor', state: 'assisting' });
    expect(room(supervisor, 'desk-2')).toMatchObject({ media: 'sfu', state: 'joined' });
    await hearsParties(supervisor, roomId, 2);
    for (const party of assistOf(supervisor, roomId).parties) {
      await receives(
        receiving(party.stream, party.resource),
        `the supervisor hears ${party.resource}`,
      );
    }
    // Every connection made since is the supervisor's (nobody subscribes to a monitor).
    const made = connections.slice(before);
    expect(made).toHaveLength(2);
    for (const pc of made) expect((await audioBytes(pc)).sent).toBe(0);
    for (const pc of made) expect(pc.getSenders().filter((s) => s.track)).toHaveLength(0);
    const supId = room(supervisor, 'desk-2').participantId!;
    expect(subscriptions.filter((to) => to === supId)).toHaveLength(0);

    // Whisper: the supervisor publishes its microphone, the agent subscribes and hears it.
    await supervisor.assist(roomId, 'whisper', { agent: 'agent-s' });
    await until(agent, () => !!seen(agent, 'desk-2', 'sup-s')?.stream, 'the agent receives it');
    const atAgent = receiving(
      seen(agent, 'desk-2', 'sup-s')?.stream,
      'the supervisor at the agent',
    );
    await receives(atAgent, 'the agent hears the whisper');
    // The customer never subscribed (the media server would refuse), and saw no error.
    expect(subscriptions.filter((to) => to === supId)).toHaveLength(1);
    expect(seen(customer, 'desk-2', 'sup-s')).toMatchObject({ assist: 'whisper', stream: null });
    expect(room(customer, 'desk-2').error).toBeNull();
    expect(room(agent, 'desk-2').error).toBeNull();
    expect(assistOf(supervisor, roomId).error).toBeNull();

    supervisor.stopAssist(roomId);
    for (const client of [agent, customer]) {
      await until(client, () => !seen(client, 'desk-2', 'sup-s'), 'the supervisor is gone');
    }
  }, 90_000);
});
