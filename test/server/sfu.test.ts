/**
 * `sfu` rooms on a real Janus (issue 14), in Node: the Relay creates the videoroom, carries
 * publish negotiations through `room.signal` (SDP written by hand here: Node has no WebRTC,
 * Janus answers all the same; subscriptions, which need a live publisher, are in the browser
 * tests), refuses while Janus is down, ends its sfu rooms when Janus dies and takes joins again once it is back.
 * Mesh rooms are unaffected throughout. Runs inside scripts/loopback.sh (its veth pair).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/server/clock.js';
import { startJanus, type TestJanus } from 'relaycall/testing';
import { refusal, startRelay, until, type TestClient, type TestRelay } from './helpers.js';

const SCOPES = ['calls:dial', 'calls:receive', 'rooms:join'];
const MODERATOR = [...SCOPES, 'rooms:moderate'];

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16)).join(':');

/**
 * A browser-like publisher offer: Opus audio and VP8 video, sent only. Another `ufrag` (ICE
 * credentials) makes it an ICE restart's offer.
 */
function publisherOffer(ufrag = 'Nodeufrag'): string {
  const media = (kind: string, mid: number, pt: number, codec: string) => [
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${pt}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    'a=ice-pwd:nodeicepasswordnodeicepass',
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${FINGERPRINT}`,
    'a=setup:actpass',
    `a=mid:${mid}`,
    'a=sendonly',
    'a=rtcp-mux',
    `a=rtpmap:${pt} ${codec}`,
    `a=ssrc:${1000 + mid} cname:node`,
  ];
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=msid-semantic: WMS',
    ...media('audio', 0, 111, 'opus/48000/2'),
    ...media('video', 1, 96, 'VP8/90000'),
    '',
  ].join('\r\n');
}

let janus: TestJanus;
let relay: TestRelay;

beforeAll(async () => {
  janus = await startJanus();
  // The real clock: the Relay's Janus connection reconnects on its timers.
  relay = await startRelay({
    clock: systemClock as never,
    janus: { url: janus.url, secret: janus.secret },
  });
  await until('the Relay connected to Janus', async () => sfuStats().available);
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await janus?.stop();
});

function sfuStats(): { available: boolean; rooms: number } {
  const stats = relay.relay.stats() as { sfu?: { available: boolean; rooms: number } };
  if (!stats.sfu) throw new Error('the Relay reports no sfu stats: is janus configured?');
  return stats.sfu;
}

interface Joined {
  roomId: string;
  participantId: string;
  media: string;
  maxParticipants: number;
}

async function join(client: TestClient, name: string, extra: Record<string, unknown> = {}) {
  return (await client.call('room.join', { name, media: 'sfu', ...extra })) as unknown as Joined;
}

interface SignalEvent {
  roomId: string;
  from: string;
  signal: { type: string; sdp: string; screen?: boolean; restart?: boolean; message?: string };
}

const signalFrom = (client: TestClient, from: string, type: string, screen = false) =>
  client.next('room.signal', (p) => {
    const signal = p.signal as SignalEvent['signal'] | undefined;
    return p.from === from && signal?.type === type && (signal.screen === true) === screen;
  }) as unknown as Promise<SignalEvent>;

describe('sfu rooms on Janus', () => {
  it('publishes through room.signal and holds subscriptions until the publisher is live', async () => {
    const alice = await relay.connect('alice', { scopes: SCOPES });
    const bob = await relay.connect('bob', { scopes: SCOPES });
    const a = await join(alice, 'standup');
    expect(a).toMatchObject({ media: 'sfu', maxParticipants: 25 });
    const b = await join(bob, 'standup', { media: 'mesh' }); // the room's media wins
    expect(b.media).toBe('sfu');

    // Bob asks for Alice's media before she sends any: the offer comes once she publishes.
    await bob.call('room.signal', {
      roomId: b.roomId,
      to: a.participantId,
      signal: { type: 'subscribe', quality: 'low' },
    });
    await alice.call('room.signal', {
      roomId: a.roomId,
      to: '@sfu',
      signal: { type: 'offer', sdp: publisherOffer() },
    });
    const answer = await signalFrom(alice, '@sfu', 'answer');
    expect(answer.signal.sdp).toContain('a=fingerprint:');
    expect(answer.signal.sdp).toMatch(/m=video .*\r\n(.*\r\n)*a=recvonly/);

    // Bob's subscription waits for Alice's connection to come up (Node has no WebRTC: it never
    // does here; the browser tests receive the offers), and asks nothing of Bob meanwhile.
    await bob.call('room.signal', {
      roomId: b.roomId,
      to: a.participantId,
      signal: { type: 'quality', quality: 'high' },
    });
    await alice.call('room.signal', {
      roomId: a.roomId,
      to: '@sfu',
      signal: { type: 'candidate', candidate: null },
    });
    // Anything the SFU refused would have come back as an error signal.
    await bob.settle();
    await alice.settle();
    expect(bob.notifications.filter((n) => n.method === 'room.signal')).toEqual([]);
    expect(sfuStats().rooms).toBe(1);

    await alice.call('room.leave', { roomId: a.roomId });
    await bob.call('room.leave', { roomId: b.roomId });
    await until('the videoroom was dropped', async () => sfuStats().rooms === 0);
    await alice.close();
    await bob.close();
  });

  it('enforces supervisors: a monitor uploads nothing, a whisper reaches only its agent, modes only go up', async () => {
    const agent = await relay.connect('sfu-agent', { scopes: SCOPES });
    const customer = await relay.connect('sfu-customer', { scopes: SCOPES });
    const supervisor = await relay.connect('sfu-sup', { scopes: ['calls:list', 'calls:assist'] });
    const a = await join(agent, 'sfu-desk');
    const c = await join(customer, 'sfu-desk');
    const monitor = (await supervisor.call('call.assist', {
      callId: a.roomId,
      mode: 'monitor',
    })) as {
      participantId: string;
    };
    const upload = {
      roomId: a.roomId,
      to: '@sfu',
      signal: { type: 'offer', sdp: publisherOffer() },
    };
    expect((await refusal(supervisor.call('room.signal', upload))).code).toBe('invalid_state');
    // Nor a screen share.
    const share = { ...upload, signal: { ...upload.signal, screen: true } };
    expect((await refusal(supervisor.call('room.signal', share))).code).toBe('invalid_state');
    // It may receive everyone.
    await supervisor.call('room.signal', {
      roomId: a.roomId,
      to: a.participantId,
      signal: { type: 'subscribe' },
    });
    // Nobody may receive a monitoring supervisor.
    const toMonitor = {
      roomId: c.roomId,
      to: monitor.participantId,
      signal: { type: 'subscribe' },
    };
    expect((await refusal(customer.call('room.signal', toMonitor))).code).toBe('forbidden');
    await supervisor.call('call.assist', { callId: a.roomId, mode: 'whisper', agent: 'sfu-agent' });
    await supervisor.call('room.signal', upload);
    await signalFrom(supervisor, '@sfu', 'answer');
    expect((await refusal(customer.call('room.signal', toMonitor))).code).toBe('forbidden');
    await agent.call('room.signal', { ...toMonitor, roomId: a.roomId });
    const down = await refusal(
      supervisor.call('call.assist', { callId: a.roomId, mode: 'monitor' }),
    );
    expect(down.code).toBe('invalid_state');
    expect(down.message).toContain('room.leave');
    await supervisor.call('call.assist', { callId: a.roomId, mode: 'barge' });
    await customer.call('room.signal', toMonitor);
    for (const client of [supervisor, agent, customer]) {
      await client.call('room.leave', { roomId: a.roomId });
      await client.close();
    }
    await until('the videoroom was dropped', async () => sfuStats().rooms === 0);
  });

  it('publishes a screen share beside the camera, restarts ICE on each upload, and unpublishes the share', async () => {
    const ann = await relay.connect('share-ann', { scopes: SCOPES });
    const ben = await relay.connect('share-ben', { scopes: SCOPES });
    const a = await join(ann, 'shares');
    const b = await join(ben, 'shares');
    const toSfu = (signal: Record<string, unknown>) =>
      ann.call('room.signal', { roomId: a.roomId, to: '@sfu', signal });
    await toSfu({ type: 'offer', sdp: publisherOffer() });
    const camera = await signalFrom(ann, '@sfu', 'answer');
    expect(camera.signal).not.toHaveProperty('screen');
    // The share: a second publisher, answered as such.
    await toSfu({ type: 'offer', sdp: publisherOffer('Shareufrag'), screen: true });
    const share = await signalFrom(ann, '@sfu', 'answer', true);
    expect(share.signal.sdp).toContain('a=fingerprint:');
    expect(share.signal.sdp).not.toBe(camera.signal.sdp);
    await toSfu({ type: 'candidate', candidate: null, screen: true });

    // ICE restarts: the same publishers take the new offers (new ICE credentials).
    await toSfu({ type: 'offer', sdp: publisherOffer('Restartufrag'), restart: true });
    const restarted = await signalFrom(ann, '@sfu', 'answer');
    expect(restarted.signal).toMatchObject({ restart: true });
    await toSfu({
      type: 'offer',
      sdp: publisherOffer('Restart2ufrag'),
      restart: true,
      screen: true,
    });
    expect((await signalFrom(ann, '@sfu', 'answer', true)).signal.restart).toBe(true);

    // Stopping the share; restarting it afterwards finds nothing to restart.
    await toSfu({ type: 'unpublish', screen: true });
    await toSfu({ type: 'offer', sdp: publisherOffer('Lateufrag'), restart: true, screen: true });
    const error = await signalFrom(ann, '@sfu', 'error', true);
    expect(error.signal.message).toMatch(/no upload of this kind to restart/);
    // A download restarted before it exists: an error about that participant's media.
    await ben.call('room.signal', {
      roomId: b.roomId,
      to: a.participantId,
      signal: { type: 'restart' },
    });
    const notSubscribed = await signalFrom(ben, a.participantId, 'error');
    expect(notSubscribed.signal.message).toMatch(/media server could not carry this media/);
    // Ben never subscribed to Ann: he was told nothing of her share.
    expect(
      ben.notifications.filter((n) => (n.params?.signal as { screen?: boolean })?.screen),
    ).toEqual([]);
    for (const client of [ann, ben]) {
      await client.call('room.leave', { roomId: a.roomId });
      await client.close();
    }
    await until('the videoroom was dropped', async () => sfuStats().rooms === 0);
  });

  it('answers an unusable offer with an error signal, not silence', async () => {
    const carol = await relay.connect('carol', { scopes: SCOPES });
    const c = await join(carol, 'broken');
    await carol.call('room.signal', {
      roomId: c.roomId,
      to: '@sfu',
      signal: { type: 'offer', sdp: 'v=0\r\nnot an sdp\r\n' },
    });
    const error = (await signalFrom(carol, '@sfu', 'error')) as unknown as {
      signal: { message: string };
    };
    expect(error.signal.message).toMatch(/media server could not carry this media/);
    await carol.close();
  });

  it('lets a moderator mute and remove in an sfu room', async () => {
    const mod = await relay.connect('mod', { scopes: MODERATOR });
    const dave = await relay.connect('dave', { scopes: SCOPES });
    const m = await join(mod, 'moderated');
    const d = await join(dave, 'moderated');
    await dave.call('room.signal', {
      roomId: d.roomId,
      to: '@sfu',
      signal: { type: 'offer', sdp: publisherOffer() },
    });
    await signalFrom(dave, '@sfu', 'answer');
    await mod.call('room.mute', {
      roomId: m.roomId,
      participantId: d.participantId,
      kind: 'audio',
    });
    expect(await dave.next('room.muted')).toMatchObject({ kind: 'audio' });
    await mod.call('room.remove', { roomId: m.roomId, participantId: d.participantId });
    expect(await dave.next('room.left')).toMatchObject({ reason: 'removed' });
    await dave.settle();
    expect(
      dave.notifications.filter((n) => n.method === 'room.signal' && n.params?.from === '@sfu'),
    ).toEqual([]);
    await mod.close();
    await dave.close();
  });

  it('refuses sfu rooms while Janus is down, ends them, and takes them again once it is back', async () => {
    const erin = await relay.connect('erin', { scopes: SCOPES });
    const frank = await relay.connect('frank', { scopes: SCOPES });
    const e = await join(erin, 'resilient');
    await erin.call('room.signal', {
      roomId: e.roomId,
      to: '@sfu',
      signal: { type: 'offer', sdp: publisherOffer() },
    });
    await signalFrom(erin, '@sfu', 'answer');
    const mesh = (await frank.call('room.join', { name: 'mesh-room' })) as unknown as Joined;

    await janus.kill();
    expect(await erin.next('room.ended')).toMatchObject({
      roomId: e.roomId,
      reason: 'disconnected',
    });
    const refused = await refusal(join(erin, 'resilient'));
    expect(refused).toMatchObject({ rpcCode: -32013, code: 'sfu_unavailable' });
    expect(refused.message).toMatch(/cannot reach its media server/);
    // Mesh rooms go on as ever.
    await frank.call('room.update', { roomId: mesh.roomId, audioMuted: true });
    expect((await frank.call('room.join', { name: 'mesh-2' })) as unknown as Joined).toMatchObject({
      media: 'mesh',
    });

    await janus.restart();
    await until('the Relay reconnected to Janus', async () => sfuStats().available, 20_000);
    const again = await join(erin, 'resilient');
    expect(again.media).toBe('sfu');
    await erin.call('room.signal', {
      roomId: again.roomId,
      to: '@sfu',
      signal: { type: 'offer', sdp: publisherOffer() },
    });
    await signalFrom(erin, '@sfu', 'answer');
    await erin.close();
    await frank.close();
  });
});

describe('a mesh room outgrowing the mesh', () => {
  it('becomes an sfu room when one more joins, and those in it are told to join again', async () => {
    const small = await startRelay({
      clock: systemClock as never,
      janus: { url: janus.url, secret: janus.secret },
      limits: { maxRoomParticipants: 2 },
    });
    try {
      const stats = () => (small.relay.stats() as { sfu?: { available: boolean } }).sfu;
      await until('the Relay connected to Janus', async () => stats()?.available === true);
      const [ann, ben, cal] = await Promise.all(
        ['ann', 'ben', 'cal'].map((r) => small.connect(r, { scopes: SCOPES })),
      );
      const a = (await ann!.call('room.join', { name: 'growing' })) as unknown as Joined;
      await ben!.call('room.join', { name: 'growing' });
      expect(a.media).toBe('mesh');
      const c = (await cal!.call('room.join', { name: 'growing' })) as unknown as Joined;
      expect(c).toMatchObject({ media: 'sfu', maxParticipants: 25 });
      for (const client of [ann!, ben!]) {
        expect(await client.next('room.media')).toMatchObject({ roomId: a.roomId, media: 'sfu' });
      }
      // Joining again as the participant it is answers the room as it is now.
      const again = (await ann!.call('room.join', { name: 'growing' })) as unknown as Joined;
      expect(again).toMatchObject({ participantId: a.participantId, media: 'sfu' });
    } finally {
      await small.close();
    }
  });
});

describe('sfu rooms without Janus', () => {
  it('refuses media sfu with what to do', async () => {
    const plain = await startRelay();
    try {
      const client = await plain.connect('gina', { scopes: SCOPES });
      const refused = await refusal(join(client, 'nope'));
      expect(refused).toMatchObject({ rpcCode: -32013, code: 'sfu_unavailable' });
      expect(refused.message).toMatch(/--janus/);
    } finally {
      await plain.close();
    }
  });
});
