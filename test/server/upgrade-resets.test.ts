/**
 * A client that resets its connection (TCP RST) while the Relay refuses or takes its WebSocket
 * upgrade must not take the Relay down. Node removes a socket's 'error' listener when it hands
 * it to an 'upgrade' listener; a refusal written to such a socket, then reset, used to raise an
 * unhandled 'error' (ECONNRESET) that ended the process and every session in it.
 *
 * The targets run in a child process from dist/, so that a crash shows as that process
 * exiting, whichever of the three upgrade paths (standalone `listen`, an embedder calling
 * `handleUpgrade`, relaycall/testing) it took.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT, TestClient, basic, rest } from './helpers.js';
import {
  RESET_MOMENTS,
  rawExchange,
  resetDuringUpgrade,
  upgradeRequest,
  type UpgradeRequest,
} from './rawHttp.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/upgradeTargets.mjs', import.meta.url));
const ORIGIN = 'https://app.example';
const REPEATS = 10;

interface Targets {
  standalone: string;
  embedded: string;
  testRelay: string;
}

let child: ChildProcess;
let targets: Targets;
let stderr = '';
let exited: number | null | undefined;

beforeAll(async () => {
  child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.on('exit', (code) => (exited = code));
  targets = await new Promise<Targets>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out) as Targets);
    });
    child.once('exit', () => reject(new Error(`the targets exited:\n${stderr}`)));
  });
}, 20_000);

afterAll(() => {
  child.kill('SIGKILL');
});

/** /healthz answers 200; when it cannot, says why the process died. */
async function expectServing(url: string) {
  const status = await fetch(`${url}/healthz`).then(
    (response) => response.status,
    async () => {
      if (exited === undefined) await new Promise((resolve) => child.once('exit', resolve));
      throw new Error(`the Relay process died (exit ${exited}):\n${stderr}`);
    },
  );
  expect(status).toBe(200);
}

/** Every target is still up: its process runs, /healthz answers and a client can connect. */
async function expectAlive(url: string) {
  await expectServing(url);
  const response = await rest(url, 'POST', { resource: 'alice' }, basic(PROJECT));
  expect(response.status).toBe(201);
  const client = await TestClient.open(`${url.replace(/^http/, 'ws')}/api/relay/ws`, {
    origin: ORIGIN,
  });
  await client.call('relay.connect', {
    project: PROJECT.id,
    token: (response.json as { jwt_token: string }).jwt_token,
  });
  await client.close();
}

async function resetRepeatedly(url: string, request: UpgradeRequest, localAddress?: string) {
  const text = upgradeRequest(request);
  const answers = new Set<string>();
  for (let i = 0; i < REPEATS; i++) {
    for (const moment of RESET_MOMENTS) {
      const answer = await resetDuringUpgrade(url, text, moment, localAddress);
      answers.add(answer.split('\r\n')[0] ?? '');
    }
  }
  await expectServing(url);
  return answers;
}

/** A socket that completed the upgrade from `localAddress` and holds its place, unauthenticated. */
function hold(url: string, localAddress: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/relay/ws`, {
    origin: ORIGIN,
    localAddress,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe.each(['standalone', 'embedded', 'testRelay'] as const)(
  'connections reset during an upgrade (%s)',
  (name) => {
    it('survives resets at a refused origin (403), a malformed handshake (400) and an accepted upgrade', async () => {
      const url = targets[name];
      const refused = await resetRepeatedly(url, { origin: 'https://evil.example' });
      expect([...refused].filter(Boolean)).toEqual(['HTTP/1.1 403 Forbidden']);
      await resetRepeatedly(url, { origin: ORIGIN, key: 'nope' });
      await resetRepeatedly(url, { origin: ORIGIN });
      await expectAlive(url);
    });

    it('survives resets at an unknown path (404)', async () => {
      if (name === 'embedded') return; // the embedder's own paths are the embedder's
      const url = targets[name];
      const answers = await resetRepeatedly(url, { path: '/elsewhere', origin: ORIGIN });
      expect([...answers].filter(Boolean)).toEqual(['HTTP/1.1 404 Not Found']);
      await expectAlive(url);
    });

    it('survives resets at the per-address (429) and global (503) unauthenticated caps', async () => {
      const url = targets[name];
      // The targets allow 3 unauthenticated sockets, 1 per address.
      const held = [
        await hold(url, '127.0.0.2'),
        await hold(url, '127.0.0.3'),
        await hold(url, '127.0.0.4'),
      ];
      try {
        const sameAddress = await resetRepeatedly(url, { origin: ORIGIN }, '127.0.0.2');
        expect([...sameAddress].filter(Boolean)).toEqual(['HTTP/1.1 429 Too Many Requests']);
        const full = await resetRepeatedly(url, { origin: ORIGIN }, '127.0.0.5');
        expect([...full].filter(Boolean)).toEqual(['HTTP/1.1 503 Service Unavailable']);
        expect(
          await rawExchange(url, upgradeRequest({ origin: ORIGIN }), { localAddress: '127.0.0.5' }),
        ).toMatch(/^HTTP\/1.1 503 [^]*"code":"service_unavailable"/);
      } finally {
        for (const ws of held) ws.terminate();
      }
      await expectAlive(url);
    });
  },
);
