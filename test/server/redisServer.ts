import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real `redis-server` (Debian's 7.0) on a free loopback port, with its data in a temp dir. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT/0`: stays the same across restarts. */
  readonly url: string;
  readonly port: number;
  /** The data directory (AOF files); kept across restarts, removed by stop(). */
  readonly dir: string;
  /** Kills the server with SIGKILL (no shutdown save) and waits until it exited. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and directory; resolves once it answers PING. */
  restart(): Promise<void>;
  /** Stops the server (if running) and removes its directory. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /**
   * Append-only file with `appendfsync always` (every write on disk before Redis answers),
   * so a killed server loses nothing. Default: false (no persistence at all).
   */
  appendOnly?: boolean;
}

const READY_TIMEOUT_MS = 10_000;

/** Throws, saying what to install, when redis-server is not on the PATH. */
export function assertRedisServerInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'These tests need a real redis-server (7.0), which is not installed: run ' +
        '`apt-get install redis-server` (Debian/Ubuntu) and try again.',
    );
  }
}

/** A TCP port nobody listens on right now (the OS picks it, as for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true when something on `port` answers PING with +PONG. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

function launch(port: number, dir: string, appendOnly: boolean): Running {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--loglevel',
    'warning',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.once('error', (error) => (output += `\nspawn failed: ${error.message}`));
  return { child, exited, output: () => output };
}

async function waitUntilReady(port: number, running: Running): Promise<void> {
  let gone = false;
  void running.exited.then(() => (gone = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gone) {
      throw new Error(`redis-server on port ${port} exited at start:\n${running.output()}`);
    }
    if (await pong(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  running.child.kill('SIGKILL');
  throw new Error(
    `redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms:\n` +
      running.output(),
  );
}

/** Starts a redis-server and resolves once it answers PING. Call stop() when done. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisServerInstalled();
  const appendOnly = options.appendOnly ?? false;
  const dir = mkdtempSync(join(tmpdir(), 'relaycall-redis-'));
  let port = 0;
  let running: Running | undefined;
  // Another process may take the free port between the probe and the start: try again then.
  for (let attempt = 1; !running; attempt++) {
    port = await freePort();
    const candidate = launch(port, dir, appendOnly);
    try {
      await waitUntilReady(port, candidate);
      running = candidate;
    } catch (error) {
      if (attempt >= 3 || !/in use/i.test(candidate.output())) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const kill = async () => {
    if (!running) return;
    const { child, exited } = running;
    running = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    dir,
    kill,
    async restart() {
      await kill();
      const candidate = launch(port, dir, appendOnly);
      await waitUntilReady(port, candidate);
      running = candidate;
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
