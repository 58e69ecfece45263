import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserCommand } from 'vitest/node';
import { systemClock, type Clock } from '../../src/server/index.js';
import { startTestRelay, type TestRelay } from '../../src/testing/index.js';

/**
 * Browser commands (run in Node, so inside the loopback-only namespace with the page) that start
 * coturn from Debian's `coturn` package with a TURN REST API shared secret, and Relays that mint
 * credentials for it.
 */
interface Turn {
  child: ChildProcess;
  dir: string;
  port: number;
  secret: string;
  log: string;
}

const turns = new Map<string, Turn>();
const relays = new Map<string, TestRelay>();
let nextId = 1;

const TURNSERVER = 'turnserver';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once a STUN Binding request to 127.0.0.1:`port` over UDP is answered. */
function stunAnswers(port: number, ms = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request
    request.writeUInt16BE(0, 2);
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.once('message', (reply) => done(reply.readUInt16BE(0) === 0x0101));
    socket.once('error', () => done(false));
    socket.send(request, port, '127.0.0.1');
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts coturn on a free loopback port with `use-auth-secret` and a random shared secret, and
 * resolves its `turn:` URL once it answers STUN. Loopback peers are allowed: in the test
 * namespace the relayed addresses of both browsers are 127.0.0.1 (never do that in production).
 */
export const startTurnServer: BrowserCommand<[]> = async () => {
  if (spawnSync('sh', ['-c', `command -v ${TURNSERVER}`]).status !== 0) {
    throw new Error(
      'coturn is not installed: run `DEBIAN_FRONTEND=noninteractive apt-get install -y coturn`.',
    );
  }
  const port = await freePort();
  const secret = randomBytes(32).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'relaycall-turn-'));
  const child = spawn(
    TURNSERVER,
    [
      '-n',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=relaycall.test',
      '--no-tls',
      '--no-dtls',
      '--no-tcp-relay',
      '--allow-loopback-peers',
      '--no-multicast-peers',
      '--no-cli',
      '--no-rfc5780',
      '--fingerprint',
      '--verbose',
      '--log-file=stdout',
      '--simple-log',
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      `--userdb=${join(dir, 'turndb')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  const turn: Turn = { child, dir, port, secret, log: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (turn.log += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (turn.log += chunk));
  let exited = false;
  child.on('exit', () => {
    exited = true;
    live.delete(child);
  });
  const deadline = Date.now() + 10_000;
  while (!(await stunAnswers(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`coturn did not start on 127.0.0.1:${port}:\n${turn.log.slice(-4000)}`);
    }
  }
  const id = String(nextId++);
  turns.set(id, turn);
  return { id, url: `turn:127.0.0.1:${port}?transport=udp` };
};

/** coturn's log so far (for failure messages and to check a 401 was answered). */
export const turnServerLog: BrowserCommand<[id: string]> = async (_, id) =>
  turns.get(id)?.log ?? '';

export const stopTurnServer: BrowserCommand<[id: string]> = async (_, id) => {
  const turn = turns.get(id);
  if (!turn) return;
  turns.delete(id);
  if (turn.child.exitCode === null && turn.child.signalCode === null) {
    const exited = new Promise((resolve) => turn.child.once('exit', resolve));
    turn.child.kill('SIGTERM');
    const timer = setTimeout(() => turn.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(turn.dir, { recursive: true, force: true });
};

/** The system clock shifted by `skewMs` (timers unchanged): a Relay whose clock is off. */
function skewedClock(skewMs: number): Clock {
  return { ...systemClock, now: () => systemClock.now() + skewMs };
}

/**
 * Starts a Relay that mints credentials for TURN server `turnId`. `secret: 'wrong'` configures a
 * different secret than coturn's; `clockSkewMs` runs the Relay's clock off by that much, so a
 * negative skew larger than the JWT lifetime mints credentials already expired on coturn's
 * (real) clock, while the Relay itself still accepts its JWTs.
 */
export const startTurnRelay: BrowserCommand<
  [turnId: string, options?: { secret?: 'shared' | 'wrong'; clockSkewMs?: number }]
> = async (_, turnId, options = {}) => {
  const turn = turns.get(turnId);
  if (!turn) throw new Error(`no TURN server ${turnId}`);
  const secret = options.secret === 'wrong' ? randomBytes(32).toString('hex') : turn.secret;
  const relay = await startTestRelay({
    turn: { urls: [`turn:127.0.0.1:${turn.port}?transport=udp`], secret },
    ...(options.clockSkewMs ? { clock: skewedClock(options.clockSkewMs) } : {}),
  });
  const id = String(nextId++);
  relays.set(id, relay);
  return { id, url: relay.url, tokenUrl: relay.tokenUrl };
};

export const stopTurnRelay: BrowserCommand<[id: string]> = async (_, id) => {
  const relay = relays.get(id);
  if (!relay) return;
  relays.delete(id);
  await relay.close();
};
