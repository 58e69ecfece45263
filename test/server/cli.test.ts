import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { basic, connectWith, rest, until, type Pair, type TestClient } from './helpers.js';

// The CLI runs from dist/: `npm test` builds before vitest.
const BIN = fileURLToPath(new URL('../../bin/relaycall.js', import.meta.url));
const SLOW = { timeout: 20_000 };

interface Cli {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Exit status once the process ended and its output was read; null when killed by a signal. */
  exited: Promise<number | null>;
  done: boolean;
}

const children: Cli[] = [];
const sockets: TestClient[] = [];
let workDir: string;

beforeEach(() => {
  workDir = mkdtempSync(join(tmpdir(), 'relaycall-cli-'));
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  for (const cli of children.splice(0)) {
    if (!cli.done) cli.child.kill('SIGKILL');
    await cli.exited;
  }
  rmSync(workDir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}, bin = BIN): Cli {
  const base = { ...process.env };
  delete base.RELAYCALL_PROJECTS;
  delete base.RELAYCALL_SECRET;
  delete base.RELAYCALL_STORE;
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: workDir,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Cli = {
    child,
    stdout: '',
    stderr: '',
    done: false,
    exited: new Promise((resolve) =>
      child.on('close', (code) => {
        run.done = true;
        resolve(code);
      }),
    ),
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (run.stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (run.stderr += chunk));
  children.push(run);
  return run;
}

/** Runs the CLI to its end. */
async function complete(args: string[], env: Record<string, string> = {}, bin = BIN) {
  const run = cli(args, env, bin);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** Resolves when stdout matches `pattern`; rejects when the process ends first. */
function waitFor(run: Cli, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const fail = () => {
      cleanup();
      reject(new Error(`exited before printing ${pattern}:\n${run.stdout}\n${run.stderr}`));
    };
    const check = () => {
      const match = pattern.exec(run.stdout);
      if (match) {
        cleanup();
        resolve(match);
      } else if (run.done) {
        fail();
      }
    };
    const cleanup = () => {
      run.child.stdout?.off('data', check);
      run.child.off('close', fail);
    };
    run.child.stdout?.on('data', check);
    run.child.once('close', fail);
    check();
  });
}

/** Starts `serve` on a free port and resolves its URL once it printed its last start-up line. */
async function serve(args: string[], env: Record<string, string> = {}) {
  const run = cli(['serve', '--port', '0', ...args], env);
  const [, url = ''] = await waitFor(run, /^Relay listening on (https?:\/\/\S+) /m);
  await waitFor(run, /^Signaling socket: wss?:\/\/\S+\/api\/relay\/ws$/m);
  return { run, url };
}

function claims(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const CREATED = /^Created project "([^"]+)" with token "([^"]+)"\.$/m;
const post = (url: string, project: { id: string; token: string }) =>
  rest(url, 'POST', { resource: 'alice' }, basic(project));

describe('relaycall serve', () => {
  it(
    'creates a project when none is given, prints it once, and serves tokens for it',
    SLOW,
    async () => {
      const { run, url } = await serve(['--store', 'memory']);
      expect(run.stdout).toContain(`Relay listening on ${url} (store: memory)`);
      const [, id = '', token = ''] = CREATED.exec(run.stdout) ?? [];
      expect(id).toMatch(/^project-[0-9a-f]{8}$/);
      expect(token.length).toBeGreaterThanOrEqual(16);
      expect(run.stdout.match(new RegExp(CREATED, 'gm'))).toHaveLength(1);
      expect(run.stdout).toContain(`curl -s -u '${id}:${token}'`);
      expect(run.stdout).toContain(`${url}/api/relay/rest/jwt`);

      const result = await complete([
        'token',
        '--url',
        url,
        '--project',
        `${id}:${token}`,
        '--resource',
        'alice',
        '--expires-in',
        '5',
        '--scopes',
        'calls:dial',
      ]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const pair = JSON.parse(result.stdout) as Pair;
      expect(pair.refresh_token).toEqual(expect.any(String));
      const payload = claims(pair.jwt_token);
      expect(payload).toMatchObject({ sub: id, resource: 'alice', scopes: ['calls:dial'] });
      expect((payload.exp as number) - (payload.iat as number)).toBe(5 * 60);
    },
  );

  it('honours --project and RELAYCALL_PROJECTS instead of creating one', SLOW, async () => {
    const flag = { id: 'flagged', token: 'flagged-token-0123456789' };
    const fromEnv = { id: 'env-one', token: 'env-one-token-0123456789' };
    const alsoEnv = { id: 'env-two', token: 'env-two-token-0123456789' };
    const { run, url } = await serve(
      ['--store', 'memory', '--project', `${flag.id}:${flag.token}`],
      {
        RELAYCALL_PROJECTS: `${fromEnv.id}:${fromEnv.token}, ${alsoEnv.id}:${alsoEnv.token}`,
      },
    );
    expect(run.stdout).not.toMatch(CREATED);
    // Tokens handed in by flag or environment are secrets: never echoed.
    for (const project of [flag, fromEnv, alsoEnv]) expect(run.stdout).not.toContain(project.token);
    expect(run.stdout).toContain(`-u '${fromEnv.id}:<project token>'`);
    for (const project of [flag, fromEnv, alsoEnv]) {
      expect((await post(url, project)).status).toBe(201);
    }
    expect((await post(url, { id: flag.id, token: fromEnv.token })).status).toBe(401);

    const refused = await complete(['token', '--url', url, '--project', `${flag.id}:wrong-token`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/project token/i);
  });

  it(
    'serves a dev project on loopback with --dev, and refuses --dev on other interfaces',
    SLOW,
    async () => {
      const { run, url } = await serve(['--dev']);
      const dev = { id: 'dev', token: 'dev-token-change-me-0123456789' };
      expect(run.stdout).toContain('(store: memory)');
      expect(run.stdout).toContain(`curl -s -u '${dev.id}:${dev.token}'`);
      expect((await post(url, dev)).status).toBe(201);
      const exposed = await complete(['serve', '--dev', '--host', '0.0.0.0', '--port', '0']);
      expect(exposed.code).toBe(2);
      expect(exposed.stderr).toMatch(/loopback/);
    },
  );

  it(
    'behind a proxy: --trust-proxy counts clients by X-Forwarded-For, --allowed-origin refuses other pages',
    SLOW,
    async () => {
      const project = { id: 'proxied', token: 'proxied-token-0123456789' };
      const { run, url } = await serve([
        '--store',
        'memory',
        '--project',
        `${project.id}:${project.token}`,
        '--trust-proxy',
        '--allowed-origin',
        'https://app.example.com',
        '--allowed-origin',
        'http://127.0.0.1:5173',
      ]);
      expect(run.stdout).toContain('X-Forwarded-For');
      expect(run.stdout).toContain('https://app.example.com, http://127.0.0.1:5173 only');
      // One client behind the proxy failing its credentials is limited; another one is not.
      const wrong = basic({ id: project.id, token: 'wrong-token-0123456789' });
      const from = (address: string) => ({ 'x-forwarded-for': address });
      let status = 0;
      for (let i = 0; i < 40 && status !== 429; i += 1) {
        status = (await rest(url, 'POST', {}, wrong, from('203.0.113.7'))).status;
      }
      expect(status).toBe(429);
      expect((await rest(url, 'POST', {}, wrong, from('203.0.113.8'))).status).toBe(401);

      const ws = url.replace(/^http/, 'ws') + '/api/relay/ws';
      const opened = (origin: string) =>
        new Promise<number>((resolve) => {
          const socket = new WebSocket(ws, { origin });
          socket.once('open', () => {
            socket.close();
            resolve(101);
          });
          socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          socket.once('error', () => resolve(-1));
        });
      expect(await opened('https://app.example.com')).toBe(101);
      expect(await opened('https://evil.example')).toBe(403);
    },
  );

  it('closes sockets with 1001 on SIGTERM and exits with status 0', SLOW, async () => {
    const project = { id: 'sig', token: 'sig-token-0123456789abcdef' };
    const { run, url } = await serve([
      '--store',
      'memory',
      '--project',
      `${project.id}:${project.token}`,
    ]);
    const pair = (await post(url, project)).json as Pair;
    const { client } = await connectWith(`${url.replace(/^http/, 'ws')}/api/relay/ws`, {
      project: project.id,
      token: pair.jwt_token,
    });
    sockets.push(client);
    run.child.kill('SIGTERM');
    expect((await client.closed).code).toBe(1001);
    expect(await run.exited).toBe(0);
    expect(run.stdout).toMatch(/^SIGTERM: closing sessions/m);
  });

  it('refuses a RELAYCALL_SECRET shorter than 64 bytes', SLOW, async () => {
    const result = await complete(['serve', '--store', 'memory', '--port', '0'], {
      RELAYCALL_SECRET: 'too-short-a-secret',
    });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toMatch(/64 bytes/);
    expect(result.stdout).not.toMatch(/Relay listening/);
  });

  it('keeps the created project in a SQLite store across restarts', SLOW, async () => {
    const store = `sqlite:${join(workDir, 'data', 'relay.sqlite')}`;
    const first = await serve(['--store', store]);
    const [, id = '', token = ''] = CREATED.exec(first.run.stdout) ?? [];
    expect(id).not.toBe('');
    first.run.child.kill('SIGTERM');
    expect(await first.run.exited).toBe(0);

    const second = await serve(['--store', store]);
    expect(second.run.stdout).toContain(`(store: ${store})`);
    expect(second.run.stdout).not.toMatch(CREATED);
    expect(second.run.stdout).not.toContain(token);
    expect((await post(second.url, { id, token })).status).toBe(201);
    expect((await post(second.url, { id, token: `${token}x` })).status).toBe(401);
  });

  it(
    'backs up a SQLite store while it serves; a Relay started on the copy knows its projects',
    SLOW,
    async () => {
      const path = join(workDir, 'relay.sqlite');
      const first = await serve(['--store', `sqlite:${path}`]);
      const [, id = '', token = ''] = CREATED.exec(first.run.stdout) ?? [];
      const copy = join(workDir, 'copy.sqlite');
      const backup = await complete(['backup', '--store', `sqlite:${path}`, '--to', copy]);
      expect(backup).toMatchObject({ code: 0, stdout: `Backed up ${path} to ${copy}.\n` });
      const again = await complete(['backup', '--store', `sqlite:${path}`, '--to', copy]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`${copy} exists. Back up to a new file`);
      first.run.child.kill('SIGTERM');
      expect(await first.run.exited).toBe(0);

      const restored = await serve(['--store', `sqlite:${copy}`]);
      expect(restored.run.stdout).not.toMatch(CREATED);
      expect((await post(restored.url, { id, token })).status).toBe(201);
    },
  );

  it(
    'serves https and wss with --tls-cert/--tls-key, and loads renewed files on SIGHUP',
    SLOW,
    async () => {
      const fixture = (name: string) =>
        fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url));
      const cert = join(workDir, 'fullchain.pem');
      const key = join(workDir, 'privkey.pem');
      copyFileSync(fixture('relay-a.crt'), cert);
      copyFileSync(fixture('relay-a.key'), key);
      const { run, url } = await serve(['--store', 'memory', '--tls-cert', cert, '--tls-key', key]);
      expect(url).toMatch(/^https:\/\//);
      expect(run.stdout).toMatch(/^Signaling socket: wss:\/\/\S+\/api\/relay\/ws$/m);
      const ca = [readFileSync(fixture('relay-a.crt')), readFileSync(fixture('relay-b.crt'))];
      const shown = () =>
        new Promise<string>((resolve, reject) => {
          const socket = tlsConnect(
            { host: '127.0.0.1', port: Number(new URL(url).port), ca },
            () => {
              resolve(socket.getPeerCertificate().subject.CN ?? '');
              socket.end();
            },
          );
          socket.on('error', reject);
        });
      expect(await shown()).toBe('relaycall test a');

      copyFileSync(fixture('relay-b.crt'), cert);
      copyFileSync(fixture('relay-b.key'), key);
      run.child.kill('SIGHUP');
      await waitFor(run, /^SIGHUP: TLS certificate and key loaded again\.$/m);
      expect(await shown()).toBe('relaycall test b');

      writeFileSync(key, 'not a key');
      run.child.kill('SIGHUP');
      await until('the bad key reported', async () =>
        run.stderr.includes('kept the current certificate'),
      );
      expect(await shown()).toBe('relaycall test b');
    },
  );

  it(
    'names the stored projects on restart, and sets a new token given by --project',
    SLOW,
    async () => {
      const store = `sqlite:${join(workDir, 'relay.sqlite')}`;
      const stop = async (run: Cli) => {
        run.child.kill('SIGTERM');
        expect(await run.exited).toBe(0);
      };
      const first = await serve(['--store', store]);
      const [, id = '', token = ''] = CREATED.exec(first.run.stdout) ?? [];
      await stop(first.run);

      // No project given: the ids are printed, with how to set a token; no token, no hash.
      const second = await serve(['--store', store]);
      expect(second.run.stdout).toContain(`Projects in the store: ${id}. `);
      expect(second.run.stdout).toMatch(/stored hashed and cannot be shown/);
      expect(second.run.stdout).toContain('restart with --project ID:NEWTOKEN');
      expect(second.run.stdout).toContain(`curl -s -u '${id}:<project token>'`);
      expect(second.run.stdout).not.toContain(token);
      expect(second.run.stdout).not.toMatch(/[0-9a-f]{32}/);
      await stop(second.run);

      // Following that advice replaces the lost token; a project given means no listing.
      const renewed = { id, token: 'renewed-token-0123456789' };
      const extra = { id: 'extra', token: 'extra-token-0123456789' };
      const third = await serve([
        '--store',
        store,
        '--project',
        `${id}:${renewed.token}`,
        '--project',
        `${extra.id}:${extra.token}`,
      ]);
      expect(third.run.stdout).not.toMatch(/Projects in the store/);
      expect((await post(third.url, renewed)).status).toBe(201);
      expect((await post(third.url, { id, token })).status).toBe(401);
      await stop(third.run);

      const fourth = await serve(['--store', store]);
      expect(fourth.run.stdout).toMatch(
        new RegExp(`^Projects in the store: (${id}, extra|extra, ${id})\\. `, 'm'),
      );
      for (const secret of [token, renewed.token, extra.token]) {
        expect(fourth.run.stdout).not.toContain(secret);
      }
    },
  );

  it('says the port is taken and to pick another with --port, with status 1', SLOW, async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const result = await complete(['serve', '--store', 'memory', '--port', String(port)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `Port ${port} on 127.0.0.1 is already in use: pick another with --port ` +
          '(--port 0 picks a free one).\n',
      );
      expect(result.stdout).not.toMatch(/Relay listening/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('usage errors', () => {
  it.each([
    ['an unknown command', ['launch']],
    ['an unknown serve flag', ['serve', '--store', 'memory', '--bogus']],
    ['an unknown token flag', ['token', '--url', 'http://127.0.0.1:1', '--nope', 'x']],
    ['token without --project', ['token', '--url', 'http://127.0.0.1:1']],
    ['a bad --port', ['serve', '--store', 'memory', '--port', 'eighty']],
    ['an --allowed-origin with a path', ['serve', '--allowed-origin', 'https://a.example/app']],
    ['--tls-cert without --tls-key', ['serve', '--store', 'memory', '--tls-cert', 'cert.pem']],
    ['an unreadable --tls-cert', ['serve', '--tls-cert', 'none.pem', '--tls-key', 'none.key']],
    ['backup without --to', ['backup', '--store', 'sqlite:relay.sqlite']],
    ['backup of a Redis store', ['backup', '--store', 'redis://127.0.0.1:1', '--to', 'x']],
  ])('exit with status 2 and print usage for %s', SLOW, async (_name, args) => {
    const result = await complete(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage:');
    expect(result.stderr).toContain('relaycall serve');
    expect(result.stdout).toBe('');
  });

  it.each(['--help', '-h', 'serve --help', 'token --help', 'token -h'])(
    'prints usage with status 0 for relaycall %s',
    SLOW,
    async (line) => {
      const result = await complete(line.split(' '));
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage:');
      expect(result.stdout).toContain('relaycall token');
      expect(result.stdout).not.toMatch(/Relay listening/);
      expect(result.stderr).toBe('');
    },
  );

  it(
    'refuses SIP trunks without Janus, unreadable or wrong, with status 2 and the fix',
    SLOW,
    async () => {
      const janus = ['--janus', 'ws://127.0.0.1:1', '--janus-secret', 'x'.repeat(32)];
      const file = join(workDir, 'trunks.json');
      writeFileSync(
        file,
        JSON.stringify({ acme: { proxy: 'sip:10.77.0.2', numbers: ['5551234'] } }),
      );
      const serve = ['serve', '--store', 'memory'];
      const alone = await complete([...serve, '--sip-trunks', file]);
      expect(alone.stderr).toContain('--sip-trunks needs --janus');
      const missing = await complete([
        ...serve,
        ...janus,
        '--sip-trunks',
        join(workDir, 'none.json'),
      ]);
      expect(missing.stderr).toContain('Give a JSON file of trunks by project id.');
      const wrong = await complete([...serve, ...janus, '--sip-trunks', file]);
      expect(wrong.stderr).toContain(
        'SIP trunk of project "acme": number "5551234" must be an E.164',
      );
      for (const result of [alone, missing, wrong]) {
        expect(result.code).toBe(2);
        expect(result.stdout).toBe('');
      }
    },
  );

  it.each(['not-a-url', 'ftp://127.0.0.1:1', '127.0.0.1:8080'])(
    'refuses token --url %s with status 2, saying what --url expects',
    SLOW,
    async (url) => {
      const result = await complete(['token', '--url', url, '--project', 'p:token-0123456789ab']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `--url must be the Relay's http:// or https:// URL, like http://127.0.0.1:8080, ` +
          `not "${url}".`,
      );
      expect(result.stderr).toContain('Usage:');
      expect(result.stdout).toBe('');
    },
  );
});

describe('relaycall serve: logs and metrics', () => {
  it(
    'writes start-up and events as JSON lines, and serves /metrics with the bearer token',
    SLOW,
    async () => {
      const metricsToken = 'metrics-token-0123456789abcdef';
      const run = cli(
        ['serve', '--port', '0', '--store', 'memory', '--log-format', 'json', '--metrics'],
        { RELAYCALL_METRICS_TOKEN: metricsToken },
      );
      const [line = ''] = await waitFor(run, /^\{.*"event":"relay\.started".*\}$/m);
      const started = JSON.parse(line) as { url: string; metrics: string; store: string };
      expect(started).toMatchObject({ store: 'memory', metrics: `${started.url}/metrics` });
      const events = () =>
        run.stdout
          .trim()
          .split('\n')
          .map((text) => (JSON.parse(text) as { event: string }).event);
      expect(events()).toEqual(['project.created', 'relay.started']);

      expect((await fetch(started.metrics)).status).toBe(401);
      const scraped = await fetch(started.metrics, {
        headers: { authorization: `Bearer ${metricsToken}` },
      });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/^relaycall_sessions 0$/m);

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(events()).toEqual([
        'project.created',
        'relay.started',
        'rest.refused',
        'relay.stopping',
      ]);
      expect(run.stderr).toBe('');
    },
  );

  it(
    'refuses a bad --log-format or metrics token with status 2, saying what to do',
    SLOW,
    async () => {
      const format = await complete(['serve', '--log-format', 'xml']);
      expect(format.stderr).toContain('--log-format must be "text" or "json", not "xml".');
      const token = 'metrics-token-0123456789abcdef';
      const unused = await complete(['serve'], { RELAYCALL_METRICS_TOKEN: token });
      expect(unused.stderr).toContain('RELAYCALL_METRICS_TOKEN is set but --metrics is not');
      const short = await complete(['serve', '--metrics'], { RELAYCALL_METRICS_TOKEN: 'short' });
      expect(short.stderr).toContain('at least 16 characters');
      for (const result of [format, unused, short]) {
        expect(result.code).toBe(2);
        expect(result.stderr).not.toContain(token);
      }
    },
  );
});

describe('before a build', () => {
  /** bin/relaycall.js copied into an empty package: no dist/, and src/ only in a checkout. */
  function unbuilt(checkout: boolean): string {
    const root = join(workDir, checkout ? 'checkout' : 'installed');
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(BIN, join(root, 'bin', 'relaycall.js'));
    if (checkout) {
      mkdirSync(join(root, 'src', 'server'), { recursive: true });
      writeFileSync(join(root, 'src', 'server', 'cli.ts'), '');
    }
    return join(root, 'bin', 'relaycall.js');
  }

  it.each(['--help', 'serve --help', 'token --help'])(
    'says to run npm run build for relaycall %s, in one line with status 1',
    SLOW,
    async (line) => {
      const result = await complete(line.split(' '), {}, unbuilt(true));
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        /^relaycall cannot start, \S+cli\.js is missing: run `npm run build` in \S+ and try again\.\n$/,
      );
    },
  );

  it('says an installed package without dist/ is broken and to reinstall it', SLOW, async () => {
    const result = await complete(['serve', '--help'], {}, unbuilt(false));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^The relaycall package is broken, \S+cli\.js is missing: reinstall it \(`npm install relaycall`\)\.\n$/,
    );
  });
});
