/**
 * One client address must not lock every other tenant out. The unauthenticated-socket cap used
 * to be global only: ~200 handshakes a second from one address kept other projects' clients at
 * HTTP 503, resumes after a network drop included. Now each address has its share
 * (maxUnauthenticatedPerAddress, answered 429) and the global cap is the last resort; the
 * standalone server also caps each address's HTTP connections (maxConnectionsPerAddress).
 */
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { type RelayServerOptions } from 'relaycall/server';
import { PROJECT, TestClient, basic, rest, startRelay, type TestRelay } from './helpers.js';
import { rawExchange, upgradeRequest } from './rawHttp.js';

let relay: TestRelay | undefined;
const opened: { destroy(): void }[] = [];
async function start(options: RelayServerOptions = {}) {
  relay = await startRelay(options);
  return relay;
}
afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  await relay?.close();
});

/** Opens an upgrade from `localAddress`; resolves the socket, or the HTTP status it was refused with. */
function upgrade(
  wsUrl: string,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<WebSocket | number> {
  const ws = new WebSocket(wsUrl, { localAddress, headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      opened.push({ destroy: () => ws.terminate() });
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

/** Opens sockets from `localAddress` until one is refused; resolves how many held and the refusal. */
async function saturate(wsUrl: string, localAddress: string, headers?: Record<string, string>) {
  for (let held = 0; held < 1_000; held++) {
    const outcome = await upgrade(wsUrl, localAddress, headers);
    if (typeof outcome === 'number') return { held, status: outcome };
  }
  throw new Error('never refused');
}

describe('unauthenticated sockets per address', () => {
  it('refuses one address past its share with 429 while another connects and resumes', async () => {
    const r = await start({
      limits: { maxUnauthenticatedSockets: 16, maxUnauthenticatedPerAddress: 4 },
    });
    // A session of another tenant, connected before the flood, that will need to resume.
    const pair = await r.token({ resource: 'bob' });
    const bob = await TestClient.open(r.wsUrl, { localAddress: '127.0.0.3' });
    const { sessionId } = await bob.call('relay.connect', {
      project: PROJECT.id,
      token: pair.jwt_token,
    });

    expect(await saturate(r.wsUrl, '127.0.0.2')).toEqual({ held: 4, status: 429 });
    const answer = await rawExchange(r.url, upgradeRequest(), { localAddress: '127.0.0.2' });
    expect(answer).toMatch(/^HTTP\/1.1 429 Too Many Requests\r\n/);
    expect(answer).toContain('Retry-After: 1');
    expect(answer).toContain('"code":"rate_limited"');

    // bob's network drops; he comes back from his address and resumes.
    bob.ws.terminate();
    const back = await TestClient.open(r.wsUrl, { localAddress: '127.0.0.3' });
    const resumed = await back.call('relay.connect', {
      project: PROJECT.id,
      token: (await r.token({ resource: 'bob' })).jwt_token,
      sessionId,
      lastSeq: 0,
    });
    expect(resumed).toMatchObject({ sessionId, resumed: true });
    // And a new client of another project connects from a third address.
    const carol = await TestClient.open(r.wsUrl, { localAddress: '127.0.0.4' });
    await expect(
      carol.call('relay.connect', {
        project: PROJECT.id,
        token: (await r.token({ resource: 'carol' })).jwt_token,
      }),
    ).resolves.toMatchObject({ resource: 'carol' });
    expect(r.relay.stats().unauthenticated).toBe(4);
  });

  it('keeps the global cap as the last resort, answered 503', async () => {
    const r = await start({
      limits: { maxUnauthenticatedSockets: 6, maxUnauthenticatedPerAddress: 4 },
    });
    expect(await saturate(r.wsUrl, '127.0.0.2')).toEqual({ held: 4, status: 429 });
    expect(await saturate(r.wsUrl, '127.0.0.3')).toEqual({ held: 2, status: 503 });
  });

  it('counts addresses from X-Forwarded-For behind a trusted proxy', async () => {
    const r = await start({
      trustProxy: true,
      limits: { maxUnauthenticatedSockets: 100, maxUnauthenticatedPerAddress: 2 },
    });
    // The proxy appends the address it saw; earlier entries are the client's to forge.
    const forged = { 'X-Forwarded-For': '10.0.0.9, 203.0.113.7' };
    expect(await saturate(r.wsUrl, '127.0.0.1', forged)).toEqual({ held: 2, status: 429 });
    const other = await upgrade(r.wsUrl, '127.0.0.1', { 'X-Forwarded-For': '203.0.113.8' });
    expect(other).toBeInstanceOf(WebSocket);
  });
});

describe('HTTP connections per address (standalone server)', () => {
  function idle(url: string, localAddress: string): Promise<Socket> {
    const { port } = new URL(url);
    const socket = connect({ host: '127.0.0.1', port: Number(port), localAddress });
    socket.on('error', () => undefined);
    opened.push(socket);
    return new Promise((resolve) => socket.once('connect', () => resolve(socket)));
  }

  it('closes connections from one address past maxConnectionsPerAddress; others are served', async () => {
    const r = await start({ limits: { maxConnectionsPerAddress: 4 } });
    // A connection that became a WebSocket no longer counts as an HTTP connection.
    expect(await upgrade(r.wsUrl, '127.0.0.2')).toBeInstanceOf(WebSocket);
    const held = await Promise.all(Array.from({ length: 4 }, () => idle(r.url, '127.0.0.2')));
    const extra = await idle(r.url, '127.0.0.2');
    await new Promise((resolve) => extra.once('close', resolve));
    expect(held.every((socket) => !socket.destroyed)).toBe(true);
    const response = await rest(r.url, 'POST', { resource: 'alice' }, basic(PROJECT));
    expect(response.status).toBe(201);
  });
});
