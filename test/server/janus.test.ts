import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { ManualClock, startJanus, type TestJanus } from 'relaycall/testing';
import { JanusConnection } from '../../src/server/janus/JanusConnection.js';
import { JanusError } from '../../src/server/janus/JanusError.js';
import type { JanusHandle } from '../../src/server/janus/JanusHandle.js';
import type { JanusSession } from '../../src/server/janus/JanusSession.js';
import { janusToken } from '../../src/server/janus/janusToken.js';
import { until } from './helpers.js';

const VIDEOROOM = 'janus.plugin.videoroom';
// Janus is a real process on a possibly loaded 2-core machine: generous, but bounded.
const SLOW = 30_000;

let janus: TestJanus;
const connections: JanusConnection[] = [];

beforeAll(async () => {
  janus = await startJanus();
}, SLOW);

afterAll(async () => {
  await janus?.stop();
});

afterEach(async () => {
  for (const connection of connections.splice(0)) await connection.close();
});

function goodToken(plugins: readonly string[] = [VIDEOROOM]): string {
  return janusToken(janus.secret, Date.now() + 600_000, plugins);
}

async function connect(): Promise<JanusConnection> {
  const connection = new JanusConnection({
    url: janus.url,
    secret: janus.secret,
    reconnectMinMs: 50,
    reconnectMaxMs: 500,
  });
  connections.push(connection);
  connection.start();
  await until('the connection to Janus', async () => connection.available);
  return connection;
}

async function rejection(promise: Promise<unknown>): Promise<JanusError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(JanusError);
  return error as JanusError;
}

/** A random numeric room id that no other test (or test file sharing Janus) uses. */
function roomId(): number {
  return 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
}

describe('janusToken', () => {
  it('writes expiry,janus,plugins:base64(HMAC-SHA1)', () => {
    // Known answer, computed with: printf '1700000000,janus,janus.plugin.videoroom' |
    //   openssl dgst -sha1 -hmac secret -binary | base64
    expect(janusToken('secret', 1_700_000_000_999, [VIDEOROOM])).toBe(
      '1700000000,janus,janus.plugin.videoroom:C7z2OgheHNHzvuETRPgGm3vcogg=',
    );
  });

  it('refuses an empty secret and plugin names that would change the layout', () => {
    expect(() => janusToken('', Date.now(), [VIDEOROOM])).toThrow(/secret is empty/);
    expect(() => janusToken('s', Date.now(), ['a,b'])).toThrow(/not valid/);
    expect(() => janusToken('s', Number.NaN, [VIDEOROOM])).toThrow(/not a time/);
  });
});

describe('JanusConnection against a real Janus', () => {
  it('answers info on the WebSocket API', async () => {
    const connection = await connect();
    const info = await connection.info();
    expect(info.janus).toBe('server_info');
    expect(info.version_string).toBe('1.1.2');
    expect(Object.keys(info.plugins as object)).toContain(VIDEOROOM);
  });

  it('creates a session with a good token, and gets 403 for a bad signature or an expiry passed', async () => {
    const connection = await connect();
    const session = await connection.createSession(() => goodToken());
    expect(session.id).toBeGreaterThan(0);
    expect(session.gone).toBe(false);

    const forged = janusToken('not-the-secret', Date.now() + 600_000, [VIDEOROOM]);
    const badSignature = await rejection(connection.createSession(() => forged));
    expect(badSignature.code).toBe(403);
    expect(badSignature.message).toMatch(/token_auth_secret/);

    const expired = janusToken(janus.secret, Date.now() - 10_000, [VIDEOROOM]);
    expect((await rejection(connection.createSession(() => expired))).code).toBe(403);
    await session.destroy();
    expect(session.gone).toBe(true);
  });

  it('mints its own tokens from the secret when createSession gets no token function', async () => {
    const connection = await connect();
    const session = await connection.createSession();
    const handle = await session.attach(VIDEOROOM);
    expect(handle.id).toBeGreaterThan(0);
    await session.destroy();
  });

  it('refuses to attach a plugin the token does not name', async () => {
    const connection = await connect();
    const session = await connection.createSession(() => goodToken(['janus.plugin.sip']));
    expect((await rejection(session.attach(VIDEOROOM))).code).toBe(405);
    await session.destroy();
  });

  it('rejects with code 0 when not connected', async () => {
    const connection = new JanusConnection({ url: janus.url, secret: janus.secret });
    connections.push(connection);
    const error = await rejection(connection.createSession(() => goodToken()));
    expect(error.code).toBe(0);
    expect(error.message).toMatch(/start\(\)/);
  });

  it('marks a session gone when Janus answers 458 (no such session)', async () => {
    const connection = await connect();
    const session = await connection.createSession(() => goodToken());
    let gone = 0;
    session.onGone(() => gone++);
    // Destroyed behind its back, through a socket of its own: Janus then answers 458.
    await new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(janus.url, 'janus-protocol');
      socket.on('error', reject);
      socket.on('open', () =>
        socket.send(
          JSON.stringify({
            janus: 'destroy',
            session_id: session.id,
            token: goodToken(),
            transaction: 'x',
          }),
        ),
      );
      socket.on('message', () => {
        socket.close();
        resolve();
      });
    });
    expect((await rejection(session.attach(VIDEOROOM))).code).toBe(458);
    expect(session.gone).toBe(true);
    expect(gone).toBe(1);
    expect((await rejection(session.attach(VIDEOROOM))).code).toBe(458);
  });
});

describe('JanusHandle with the videoroom plugin', () => {
  let connection: JanusConnection;
  let session: JanusSession;
  let handle: JanusHandle;

  beforeAll(async () => {
    connection = new JanusConnection({ url: janus.url, secret: janus.secret });
    connection.start();
    await until('the connection to Janus', async () => connection.available);
    session = await connection.createSession(() => goodToken());
    handle = await session.attach(VIDEOROOM);
  }, SLOW);

  afterAll(async () => {
    await connection?.close();
  });

  it('creates a room with a secret, finds it, lists it, and destroys it with that secret only', async () => {
    const room = roomId();
    const created = await handle.request({
      request: 'create',
      room,
      secret: 'room-secret',
      publishers: 6,
    });
    expect(created).toMatchObject({ videoroom: 'created', room });
    expect(await handle.request({ request: 'exists', room })).toMatchObject({ exists: true });
    const list = await handle.request({ request: 'listparticipants', room });
    expect(list).toMatchObject({ videoroom: 'participants', room, participants: [] });

    const wrong = await rejection(handle.request({ request: 'destroy', room, secret: 'wrong' }));
    expect(wrong.code).toBe(433);
    expect(wrong.message).toMatch(/secret/);
    expect(await handle.request({ request: 'exists', room })).toMatchObject({ exists: true });

    expect(await handle.request({ request: 'destroy', room, secret: 'room-secret' })).toMatchObject(
      { videoroom: 'destroyed', room },
    );
    expect(await handle.request({ request: 'exists', room })).toMatchObject({ exists: false });
  });

  it('rejects a plugin error with its code (426 no such room)', async () => {
    const error = await rejection(handle.request({ request: 'listparticipants', room: roomId() }));
    expect(error.code).toBe(426);
    expect(error.reason).toMatch(/No such room/);
  });

  it('joins as a publisher with message(), and tells other handles through onEvent', async () => {
    const room = roomId();
    await handle.request({ request: 'create', room, secret: 'room-secret', publishers: 3 });
    const alice = await session.attach(VIDEOROOM);
    const bob = await session.attach(VIDEOROOM);
    const joined = await alice.message({
      request: 'join',
      ptype: 'publisher',
      room,
      display: 'alice',
    });
    expect(joined.data).toMatchObject({ videoroom: 'joined', room, publishers: [] });
    expect(typeof joined.data.id).toBe('number');
    expect(joined.jsep).toBeUndefined();

    const events: Record<string, unknown>[] = [];
    alice.onEvent((event) => events.push(event.data));
    const bobJoined = await bob.message({ request: 'join', ptype: 'publisher', room });
    expect(bobJoined.data).toMatchObject({ videoroom: 'joined', room });
    // Bob left: alice hears it as an event that answers no request of hers.
    await bob.detach();
    await until('alice hears bob leave', async () =>
      events.some((data) => data.leaving === bobJoined.data.id),
    );
    await alice.detach();
    await handle.request({ request: 'destroy', room, secret: 'room-secret' });
  });

  it('rejects an asynchronous plugin error with its code', async () => {
    const other = await session.attach(VIDEOROOM);
    const error = await rejection(
      other.message({ request: 'join', ptype: 'publisher', room: roomId() }),
    );
    expect(error.code).toBe(426);
    await other.detach();
  });

  it('trickles candidates and the end of gathering (acked)', async () => {
    const other = await session.attach(VIDEOROOM);
    await other.trickle({
      candidate: 'candidate:1 1 udp 2122260223 10.77.0.2 50000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
    await other.trickle(null);
    await other.detach();
  });
});

/** A minimal audio-only WebRTC offer, enough for Janus to answer it (no media will flow). */
const OFFER_SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=ice-options:trickle',
  `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => 'AB').join(':')}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=sendonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=ssrc:1234 cname:test',
  '',
].join('\r\n');

describe('ICE inside the test namespace', () => {
  it('answers a publisher offer with host candidates on the veth pair, in the RTP range', async () => {
    const connection = await connect();
    const session = await connection.createSession(() => goodToken());
    const handle = await session.attach(VIDEOROOM);
    const room = roomId();
    await handle.request({ request: 'create', room });
    await handle.message({ request: 'join', ptype: 'publisher', room });
    const answer = await handle.message(
      { request: 'publish', audio: true },
      { type: 'offer', sdp: OFFER_SDP },
    );
    expect(answer.data).toMatchObject({ configured: 'ok', audio_codec: 'opus' });
    expect(answer.jsep?.type).toBe('answer');
    const candidates = [
      ...(answer.jsep?.sdp ?? '').matchAll(/a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/g),
    ];
    // Janus skips loopback: without scripts/loopback.sh's veth pair there would be none.
    expect(candidates.map((match) => match[1]).sort()).toEqual(['10.77.0.1', '10.77.0.2']);
    for (const match of candidates) {
      expect(Number(match[2])).toBeGreaterThanOrEqual(20000);
      expect(Number(match[2])).toBeLessThanOrEqual(20199);
    }
    await handle.request({ request: 'destroy', room });
    await session.destroy();
  });
});

describe('a Janus crash and restart', () => {
  it('drops sessions and availability on kill, and reconnects by itself after restart', async () => {
    const connection = await connect();
    const session = await connection.createSession(() => goodToken());
    const changes: boolean[] = [];
    const order: string[] = [];
    connection.onAvailability((available) => {
      changes.push(available);
      order.push(`available ${available}`);
    });
    session.onGone(() => order.push('gone'));

    await janus.kill();
    await until('the connection to notice the crash', async () => !connection.available);
    expect(session.gone).toBe(true);
    expect(order).toEqual(['gone', 'available false']);
    const refused = await rejection(connection.createSession(() => goodToken()));
    expect(refused.code).toBe(0);

    await janus.restart();
    await until('the connection to come back', async () => connection.available, SLOW);
    expect(changes).toEqual([false, true]);
    const fresh = await connection.createSession(() => goodToken());
    const handle = await fresh.attach(VIDEOROOM);
    expect(await handle.request({ request: 'exists', room: roomId() })).toMatchObject({
      exists: false,
    });
    await fresh.destroy();
  }, 60_000);
});

/** A stand-in for Janus on loopback, for what a real one will not do on cue. */
interface FakeJanus {
  url: string;
  received: Record<string, unknown>[];
  /** Sends `message` to every connected client. */
  push(message: unknown): void;
  close(): Promise<void>;
}

async function fakeJanus(
  answer: (
    message: Record<string, unknown>,
    reply: (body: Record<string, unknown>) => void,
  ) => void,
): Promise<FakeJanus> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const received: Record<string, unknown>[] = [];
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      received.push(message);
      answer(message, (body) =>
        socket.send(JSON.stringify({ ...body, transaction: message.transaction })),
      );
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    push(message) {
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      for (const client of server.clients) client.send(text);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

describe('JanusConnection against a fake Janus', () => {
  const fakes: FakeJanus[] = [];
  afterEach(async () => {
    for (const fake of fakes.splice(0)) await fake.close();
  });

  async function fakeConnection(
    answer: Parameters<typeof fakeJanus>[0],
    options: { keepAliveMs?: number; requestTimeoutMs?: number } = {},
  ) {
    const fake = await fakeJanus(answer);
    fakes.push(fake);
    const clock = new ManualClock();
    const connection = new JanusConnection({ url: fake.url, secret: 's', clock, ...options });
    connections.push(connection);
    connection.start();
    await until('the connection to the fake', async () => connection.available);
    return { fake, clock, connection };
  }

  it('ignores malformed messages, and fails an unanswered request with code 0 after requestTimeoutMs', async () => {
    const { fake, clock, connection } = await fakeConnection(
      (message, reply) => {
        if (message.janus === 'info') reply({ janus: 'server_info' });
      },
      { requestTimeoutMs: 1000 },
    );
    const unanswered = rejection(connection.createSession(() => 'token'));
    await until('the request to reach the fake', async () => fake.received.length === 1);
    for (const junk of ['not json', '[1,2]', 'null', '{"janus":"success","transaction":42}']) {
      fake.push(junk);
    }
    fake.push({ janus: 'success', session_id: 'x', sender: {} });
    // Messages are handled in order: once info is answered, the junk was ignored without harm.
    expect((await connection.info()).janus).toBe('server_info');
    clock.advance(1000);
    const error = await unanswered;
    expect(error.code).toBe(0);
    expect(error.message).toMatch(/did not answer create session within 1000 ms/);
    expect(connection.available).toBe(true);
  });

  it('sends keepalives with a fresh token, routes events, and drops a session Janus timed out', async () => {
    const { fake, clock, connection } = await fakeConnection(
      (message, reply) => {
        if (message.janus === 'create') reply({ janus: 'success', data: { id: 11 } });
        if (message.janus === 'attach')
          reply({ janus: 'success', session_id: 11, data: { id: 22 } });
        if (message.janus === 'keepalive') reply({ janus: 'ack', session_id: 11 });
        if (message.janus === 'message') {
          // Janus may send a plugin's answer before its ack (videoroom errors come so).
          reply({
            janus: 'event',
            session_id: 11,
            sender: 22,
            plugindata: { plugin: VIDEOROOM, data: { videoroom: 'joined', id: 5 } },
          });
          reply({ janus: 'ack', session_id: 11 });
        }
      },
      { keepAliveMs: 100 },
    );
    let tokens = 0;
    const session = await connection.createSession(() => `token-${++tokens}`);
    const handle = await session.attach(VIDEOROOM);
    const events: unknown[] = [];
    const core: string[] = [];
    handle.onEvent((event) => events.push(event.data));
    handle.onCore((event) => core.push(event.janus));
    expect((await handle.message({ request: 'join' })).data).toEqual({
      videoroom: 'joined',
      id: 5,
    });
    fake.push({
      janus: 'event',
      session_id: 11,
      sender: 22,
      plugindata: { plugin: VIDEOROOM, data: { videoroom: 'event', leaving: 9 } },
    });
    fake.push({ janus: 'webrtcup', session_id: 11, sender: 22 });
    await until('the unsolicited events', async () => events.length === 1 && core.length === 1);
    expect(events).toEqual([{ videoroom: 'event', leaving: 9 }]);
    expect(core).toEqual(['webrtcup']);

    clock.advance(100);
    clock.advance(100);
    const keepalives = () => fake.received.filter((message) => message.janus === 'keepalive');
    await until('two keepalives', async () => keepalives().length === 2);
    expect(keepalives().map((message) => [message.session_id, message.token])).toEqual([
      [11, 'token-4'],
      [11, 'token-5'],
    ]);

    let gone = 0;
    session.onGone(() => gone++);
    fake.push({ janus: 'timeout', session_id: 11 });
    await until('the session to go', async () => session.gone);
    expect(gone).toBe(1);
    expect(handle.detached).toBe(true);
    // No keepalive timer left for it.
    expect(clock.pending()).toEqual([]);
  });
});
