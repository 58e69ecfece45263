/**
 * The single-node production recipe without a proxy: the Relay serves HTTPS and wss itself
 * (`listen({ tls })`, the CLI's --tls-cert/--tls-key), keeps its Origin check, and takes a
 * renewed certificate without a restart. Certificates: test/server/fixtures/tls (self-signed).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRelayServer, type RelayServer, type RelayServerOptions } from 'relaycall/server';
import { ManualClock, PROJECT, TestClient, basic } from './helpers.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url));
const A = { cert: fixture('relay-a.crt'), key: fixture('relay-a.key') };
const B = { cert: fixture('relay-b.crt'), key: fixture('relay-b.key') };
const ca = [A.cert, B.cert];

const relays: RelayServer[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

async function start(options: RelayServerOptions = {}) {
  const relay = await createRelayServer({
    projects: [PROJECT],
    clock: new ManualClock(),
    limits: { heartbeatIntervalMs: 0 },
    ...options,
  });
  relays.push(relay);
  const url = await relay.listen({ port: 0, tls: A });
  return { relay, url, wsUrl: `${url.replace(/^https/, 'wss')}/api/relay/ws` };
}

function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/relay/rest/jwt`,
      {
        method: 'POST',
        ca,
        headers: { authorization: basic(PROJECT), 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function session(url: string, wsUrl: string, resource: string): Promise<TestClient> {
  const pair = (await post(url, { resource })).json as { jwt_token: string };
  const client = await TestClient.open(wsUrl, { ca });
  await client.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token });
  return client;
}

/** The certificate a new TLS connection to the Relay is shown. */
function certificateOf(url: string): Promise<PeerCertificate> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), ca }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('the Relay serving TLS itself', () => {
  it('issues tokens over https and carries a call over wss', async () => {
    const { url, wsUrl } = await start();
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const alice = await session(url, wsUrl, 'alice');
    const bob = await session(url, wsUrl, 'bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    expect(await bob.next('call.incoming')).toMatchObject({ callId, from: 'alice' });
    await bob.call('call.answer', { callId });
    await alice.call('call.signal', { callId, signal: { type: 'offer', sdp: 'v=0' } });
    expect(await bob.next('call.signal')).toMatchObject({ callId, signal: { type: 'offer' } });
    alice.ws.close();
    bob.ws.close();
  });

  it('refuses a page of another origin, and a client that does not trust the certificate', async () => {
    const { wsUrl } = await start({ allowedOrigins: ['https://app.example.com'] });
    const refused = new WebSocket(wsUrl, { ca, origin: 'https://evil.example.net' });
    const status = await new Promise<number>((resolve) =>
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(403);
    const accepted = await TestClient.open(wsUrl, { ca, origin: 'https://app.example.com' });
    accepted.ws.close();
    const untrusting = new WebSocket(wsUrl, { origin: 'https://app.example.com' });
    const error = await new Promise<Error>((resolve) => untrusting.on('error', resolve));
    expect(error.message).toMatch(/self[- ]signed/i);
  });

  it('takes a renewed certificate for new connections; open sessions go on', async () => {
    const { relay, url, wsUrl } = await start();
    const alice = await session(url, wsUrl, 'alice');
    expect((await certificateOf(url)).subject.CN).toBe('relaycall test a');
    relay.setTls(B);
    expect((await certificateOf(url)).subject.CN).toBe('relaycall test b');
    await alice.call('relay.ping');
    const bob = await session(url, wsUrl, 'bob');
    expect(await bob.call('relay.ping')).toBeDefined();
    alice.ws.close();
    bob.ws.close();
  });

  it('says how to serve TLS when certificates are set on a plain Relay', async () => {
    const relay = await createRelayServer({ projects: [PROJECT] });
    relays.push(relay);
    await relay.listen({ port: 0 });
    expect(() => relay.setTls(B)).toThrow(/listen\(\{ tls \}\)/);
  });
});
