/**
 * In-call messages in Chromium (issue 17), through a real Relay: both ways in a 1:1 call over the
 * peer data channel (no `call.message` on the sockets), through the Relay in an `sfu` room on a
 * real Janus (no data channel there), a `to` message reaching only its addressee in a mesh room
 * of three, and an oversized message refused before anything is sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  createRelayClient,
  MAX_MESSAGE_BYTES,
  RelayError,
  type RelayClient,
  type RoomJoinOptions,
  type WebSocketFactory,
} from 'relaycall/core';
import { until, untilAll } from './faultKit.js';
import { ringingCall, within } from './helpers.js';
import { describeRoom, receivesAll, room, roomToken } from './roomKit.js';

let relay: { id: string; url: string; tokenUrl: string };
const clients: RelayClient[] = [];
/** Methods each client sent on its socket, by resource. */
const sent = new Map<string, string[]>();

beforeAll(async () => {
  relay = await commands.startRelay();
});
afterAll(() => commands.stopRelay(relay.id));
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
  sent.clear();
});

const SCOPES = 'calls:dial,calls:receive,rooms:join';
/** Small video: several encoders share two cores. */
const CAMERA: RoomJoinOptions = { video: { width: 320, height: 240, frameRate: 15 } };

/** A WebSocket that records the method of every request it sends. */
function recordingSocket(methods: string[]): WebSocketFactory {
  return class extends WebSocket {
    override send(data: string): void {
      const method = (JSON.parse(data) as { method?: unknown }).method;
      if (typeof method === 'string') methods.push(method);
      super.send(data);
    }
  } as unknown as WebSocketFactory;
}

async function connected(resource: string, url = relay.url, tokenUrl = relay.tokenUrl) {
  const methods: string[] = [];
  sent.set(resource, methods);
  const client = createRelayClient({ url, iceServers: [], WebSocket: recordingSocket(methods) });
  clients.push(client);
  await client.connect(await roomToken(tokenUrl, resource, SCOPES));
  return client;
}

const messagesOf = (client: RelayClient, id: string) => client.store.getState().messages[id] ?? [];

describe('in-call messages in Chromium', () => {
  it('go both ways in a 1:1 call over the data channel, and an oversized one is refused', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    const callId = alice.call('bob', { audio: true, video: false });
    const incoming = await until(bob, (s) => ringingCall(s) !== undefined, 'bob is rung');
    const bobCallId = ringingCall(incoming)!.id;
    await bob.answer(bobCallId, { audio: true, video: false });
    await until(alice, (s) => s.calls[callId]?.state === 'active', 'alice is active');
    await until(bob, (s) => s.calls[bobCallId]?.state === 'active', 'bob is active');

    const hello = await alice.sendMessage(callId, 'hello bob');
    expect(hello).toMatchObject({ from: 'alice', to: null, body: 'hello bob', local: true });
    await until(bob, (s) => (s.messages[bobCallId]?.length ?? 0) === 1, 'bob receives it');
    expect(messagesOf(bob, bobCallId)[0]).toMatchObject({
      id: hello.id,
      from: 'alice',
      resource: 'alice',
      to: null,
      body: 'hello bob',
      local: false,
    });

    const reply = { text: 'hi alice', at: [1, 2, 3], nested: { ok: true } };
    await bob.sendMessage(bobCallId, reply);
    await until(alice, (s) => (s.messages[callId]?.length ?? 0) === 2, 'alice receives the reply');
    expect(messagesOf(alice, callId).map((m) => [m.from, m.body, m.local])).toEqual([
      ['alice', 'hello bob', true],
      ['bob', reply, false],
    ]);
    // Both went on the data channel: neither socket carried a call.message.
    expect(sent.get('alice')).not.toContain('call.message');
    expect(sent.get('bob')).not.toContain('call.message');

    const max = MAX_MESSAGE_BYTES;
    const refused = await alice.sendMessage(callId, 'x'.repeat(max)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RelayError);
    expect(refused).toMatchObject({ code: 'payload_too_large' });
    expect((refused as RelayError).message).toContain(`${max}`);
    expect(messagesOf(alice, callId)).toHaveLength(2);

    // Ended calls keep their messages until dismissed.
    alice.hangup(callId);
    await until(bob, (s) => s.calls[bobCallId]?.state === 'ended', 'bob sees the hangup');
    expect(messagesOf(bob, bobCallId)).toHaveLength(2);
    bob.dismiss(bobCallId);
    expect(bob.store.getState().messages[bobCallId]).toBeUndefined();
  });

  it('reach only the addressee with `to` in a mesh room of three, over data channels', async () => {
    const all = await Promise.all(['ann', 'ben', 'cat'].map((r) => connected(r)));
    const [ann, ben, cat] = all as [RelayClient, RelayClient, RelayClient];
    await Promise.all(all.map((c) => c.joinRoom('chat', { ...CAMERA, audio: false })));
    await untilAll(
      all,
      () => all.every((c) => receivesAll(c, 'chat', 2)),
      describeRoom(all, 'chat'),
      30_000,
    );

    const benId = room(ben, 'chat').participantId!;
    const annId = room(ann, 'chat').participantId!;
    const secret = await ann.sendMessage('chat', 'for ben only', { to: benId });
    expect(secret).toMatchObject({ from: annId, to: benId });
    const everyone = await ann.sendMessage('chat', 'for everyone');
    await until(ben, (s) => (s.messages.chat?.length ?? 0) === 2, 'ben gets both');
    await until(cat, (s) => (s.messages.chat?.length ?? 0) === 1, 'cat gets one');
    expect(messagesOf(ben, 'chat').map((m) => [m.body, m.to, m.from])).toEqual([
      ['for ben only', benId, annId],
      ['for everyone', null, annId],
    ]);
    // Messages keep their order on each channel: cat's first is the broadcast, sent after the
    // private one, which never reached it.
    expect(messagesOf(cat, 'chat')).toMatchObject([
      { id: everyone.id, body: 'for everyone', to: null, resource: 'ann' },
    ]);
    expect(sent.get('ann')).not.toContain('room.message');
  });
});

describe('in-call messages through the Relay', () => {
  let janus: { id: string; url: string; tokenUrl: string };
  beforeAll(async () => {
    janus = await commands.startJanusRelay();
  }, 60_000);
  afterAll(() => commands.stopJanusRelay(janus.id));

  it('go through the Relay in an sfu room, which has no data channel', async () => {
    const [ann, ben] = (await Promise.all(
      ['ann', 'ben'].map((r) => connected(r, janus.url, janus.tokenUrl)),
    )) as [RelayClient, RelayClient];
    const options: RoomJoinOptions = { ...CAMERA, audio: false, media: 'sfu' };
    await Promise.all([ann, ben].map((c) => c.joinRoom('sfu-chat', options)));
    await untilAll(
      [ann, ben],
      () =>
        [ann, ben].every(
          (c) =>
            room(c, 'sfu-chat')?.state === 'joined' &&
            Object.keys(room(c, 'sfu-chat').participants).length === 2,
        ),
      describeRoom([ann, ben], 'sfu-chat'),
      30_000,
    );
    expect(room(ann, 'sfu-chat').media).toBe('sfu');
    const sentMessage = await within(ann.sendMessage('sfu-chat', { hi: 'ben' }), 10_000, 'sent');
    await until(ben, (s) => (s.messages['sfu-chat']?.length ?? 0) === 1, 'ben receives it');
    expect(messagesOf(ben, 'sfu-chat')[0]).toMatchObject({
      id: sentMessage.id,
      from: room(ann, 'sfu-chat').participantId,
      resource: 'ann',
      body: { hi: 'ben' },
    });
    await ben.sendMessage('sfu-chat', 'hello ann');
    await until(ann, (s) => (s.messages['sfu-chat']?.length ?? 0) === 2, 'ann receives the reply');
    expect(sent.get('ann')).toContain('room.message');
    expect(sent.get('ben')).toContain('room.message');
  });
});
