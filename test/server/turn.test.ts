import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRelayClient, type RelayClient, type RelayClientOptions } from 'relaycall/core';
import { createRelayServer, type IceServer } from 'relaycall/server';
import { startTestRelay } from 'relaycall/testing';
import { PROJECT, connectWith, startRelay, type TestClient, type TestRelay } from './helpers.js';

const SECRET = 'turn-shared-secret-0123456789abcdef0123456789';
const TURN_URLS = ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp'];
const STATIC: IceServer = { urls: 'stun:127.0.0.1:3478' };

/** coturn's check of a `use-auth-secret` credential, written out independently of the Relay. */
function coturnCredential(secret: string, username: string): string {
  return createHmac('sha1', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(username, 'utf8'))
    .digest()
    .toString('base64');
}

function expOf(jwt: string): number {
  const payload = JSON.parse(
    Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as { exp: number };
  return payload.exp;
}

const relays: TestRelay[] = [];
const sockets: TestClient[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  for (const relay of relays.splice(0)) await relay.close();
});

async function turnRelay(): Promise<TestRelay> {
  const relay = await startRelay({
    iceServers: [STATIC],
    turn: { urls: TURN_URLS, secret: SECRET },
  });
  relays.push(relay);
  return relay;
}

describe('TURN credentials (coturn use-auth-secret)', () => {
  it('adds credentials minted for the session to the relay.connect reply', async () => {
    const relay = await turnRelay();
    const pair = await relay.token({ resource: 'alice', expires_in: 10 });
    const { client, result } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    sockets.push(client);
    const exp = expOf(pair.jwt_token);
    const username = `${exp}:alice`;
    expect(result.iceServers).toEqual([
      STATIC,
      { urls: TURN_URLS, username, credential: coturnCredential(SECRET, username) },
    ]);
    // Valid exactly as long as the JWT, never longer.
    expect(exp * 1000).toBe(result.expiresAt);
    expect(exp).toBe(Math.floor(relay.clock.now() / 1000) + 10 * 60);
  });

  it('mints fresh credentials for the fresher token of relay.reauthenticate', async () => {
    const relay = await turnRelay();
    const first = await relay.token({ resource: 'alice', expires_in: 1 });
    const { client, result } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: first.jwt_token,
    });
    sockets.push(client);
    relay.clock.advance(30_000);
    const fresher = await relay.token({ resource: 'alice', expires_in: 5 });
    const reauth = await client.call('relay.reauthenticate', { token: fresher.jwt_token });
    const username = `${expOf(fresher.jwt_token)}:alice`;
    expect(reauth.iceServers).toEqual([
      STATIC,
      { urls: TURN_URLS, username, credential: coturnCredential(SECRET, username) },
    ]);
    expect(reauth.iceServers).not.toEqual(result.iceServers);
    expect(expOf(fresher.jwt_token) * 1000).toBe(reauth.expiresAt);
  });

  it('keeps a resource with ":" whole after the expiry, as coturn splits at the first ":"', async () => {
    const relay = await turnRelay();
    const pair = await relay.token({ resource: 'tenant:bob', expires_in: 2 });
    const { client, result } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    sockets.push(client);
    const turn = (result.iceServers as IceServer[])[1];
    expect(turn?.username).toBe(`${expOf(pair.jwt_token)}:tenant:bob`);
    expect(turn?.credential).toBe(coturnCredential(SECRET, turn?.username ?? ''));
  });

  it.each([
    ['an empty secret', { urls: TURN_URLS, secret: '' }, /secret is empty.*openssl rand -hex 32/],
    ['a short secret', { urls: TURN_URLS, secret: 'short' }, /too short.*at least 32/],
    ['no URL', { urls: [], secret: SECRET }, /turn\.urls is empty/],
    ['a STUN URL', { urls: ['stun:127.0.0.1'], secret: SECRET }, /not a turn: or turns: URL/],
  ])('refuses %s with a bad_request that says what to do', async (_, turn, message) => {
    const creating = createRelayServer({ turn });
    await expect(creating).rejects.toMatchObject({ code: 'bad_request' });
    await expect(creating).rejects.toThrow(message);
  });
});

describe('the core client and TURN credentials', () => {
  const clients: RelayClient[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    for (const close of closers.splice(0)) await close();
  });

  async function connected(options: Partial<RelayClientOptions> = {}) {
    const relay = await startTestRelay({
      turn: { urls: TURN_URLS, secret: SECRET },
      limits: { heartbeatIntervalMs: 0 },
    });
    closers.push(() => relay.close());
    const client = createRelayClient({
      url: relay.url,
      WebSocket: WebSocket as unknown as RelayClientOptions['WebSocket'],
      ...options,
    });
    clients.push(client);
    const first = await relay.issueToken('alice', { expiresIn: 1 });
    await client.connect(first);
    return { relay, client, first };
  }

  it('keeps the credentials of the latest token for the calls that follow', async () => {
    const { relay, client, first } = await connected();
    const username = (jwt: string) => `${expOf(jwt)}:alice`;
    expect(client.store.getState().iceServers).toEqual([
      {
        urls: TURN_URLS,
        username: username(first),
        credential: coturnCredential(SECRET, username(first)),
      },
    ]);
    const fresher = await relay.issueToken('alice', { expiresIn: 30 });
    await client.updateToken(fresher);
    expect(client.store.getState().iceServers).toEqual([
      {
        urls: TURN_URLS,
        username: username(fresher),
        credential: coturnCredential(SECRET, username(fresher)),
      },
    ]);
  });

  it("keeps ICE servers given to the client instead of the Relay's", async () => {
    const own: IceServer[] = [{ urls: 'turn:own.example.com', username: 'u', credential: 'c' }];
    const { relay, client } = await connected({ iceServers: own });
    await client.updateToken(await relay.issueToken('alice', { expiresIn: 30 }));
    expect(client.store.getState().iceServers).toEqual(own);
  });
});

// The CLI runs from dist/: `npm test` builds before vitest.
const BIN = fileURLToPath(new URL('../../bin/relaycall.js', import.meta.url));
const SLOW = { timeout: 20_000 };

describe('relaycall serve --turn-url', () => {
  const dirs: string[] = [];
  const kills: (() => void)[] = [];
  afterEach(() => {
    for (const kill of kills.splice(0)) kill();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[], env: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'relaycall-turn-cli-'));
    dirs.push(dir);
    const base = { ...process.env };
    delete base.RELAYCALL_PROJECTS;
    delete base.RELAYCALL_SECRET;
    delete base.RELAYCALL_TURN_SECRET;
    const child = spawn(process.execPath, [BIN, 'serve', '--store', 'memory', ...args], {
      cwd: dir,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    kills.push(() => child.kill('SIGKILL'));
    const output = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    return { child, output, exited };
  }

  it('hands out minted credentials and never prints the secret', SLOW, async () => {
    const cli = run(
      [
        '--port',
        '0',
        '--project',
        `${PROJECT.id}:${PROJECT.token}`,
        '--turn-url',
        `${TURN_URLS[0]},${TURN_URLS[1]}`,
        '--turn-url',
        'turns:turn.example.com:5349?transport=tcp',
      ],
      { RELAYCALL_TURN_SECRET: SECRET },
    );
    const url = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = /^Relay listening on (http:\/\/\S+) /m.exec(cli.output.stdout);
        if (match?.[1] && /^Signaling socket:/m.test(cli.output.stdout)) resolve(match[1]);
      };
      cli.child.stdout.on('data', check);
      void cli.exited.then(() => reject(new Error(`serve exited:\n${cli.output.stderr}`)));
    });
    const response = await fetch(`${url}/api/relay/rest/jwt`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${PROJECT.id}:${PROJECT.token}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ resource: 'alice' }),
    });
    const pair = (await response.json()) as { jwt_token: string };
    const { client, result } = await connectWith(`${url.replace(/^http/, 'ws')}/api/relay/ws`, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    sockets.push(client);
    const username = `${expOf(pair.jwt_token)}:alice`;
    expect(result.iceServers).toEqual([
      {
        urls: [...TURN_URLS, 'turns:turn.example.com:5349?transport=tcp'],
        username,
        credential: coturnCredential(SECRET, username),
      },
    ]);
    expect(cli.output.stdout).toMatch(/^TURN credentials minted per session for turn:/m);
    expect(cli.output.stdout + cli.output.stderr).not.toContain(SECRET);
  });

  it.each([
    [
      'a TURN URL without a secret',
      ['--turn-url', TURN_URLS[0] ?? ''],
      {},
      /RELAYCALL_TURN_SECRET/,
    ],
    [
      'a short secret',
      ['--turn-url', TURN_URLS[0] ?? '', '--turn-secret', 'short-secret-xyz'],
      {},
      /too short/,
    ],
    ['a secret without a TURN URL', [], { RELAYCALL_TURN_SECRET: SECRET }, /no --turn-url/],
  ])('refuses %s (status 2), without echoing it', SLOW, async (_, args, env, message) => {
    const cli = run(['--port', '0', ...args], env);
    expect(await cli.exited).toBe(2);
    expect(cli.output.stderr).toMatch(message);
    expect(cli.output.stderr).not.toContain('short-secret-xyz');
    expect(cli.output.stderr).not.toContain(SECRET);
    expect(cli.output.stdout).not.toMatch(/Relay listening/);
  });
});
