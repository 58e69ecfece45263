import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, type RawData } from 'ws';

export interface StartJanusOptions {
  /** Address the WebSocket API listens on. Default '127.0.0.1'. */
  host?: string;
  /** Port of the WebSocket API; 0 picks a free one. Default 0. */
  port?: number;
  /** Janus's token_auth_secret. Default: a random one (48 hex characters). */
  secret?: string;
  /** Inclusive RTP/RTCP UDP port range. Default [20000, 20199]. */
  rtpPorts?: [number, number];
  /** Plugins to load: default ['videoroom']; 'sip' loads the SIP plugin too. */
  plugins?: ('videoroom' | 'sip')[];
  /** Janus's own log level 0-7, default 3; its output goes to janus.log in its folder. */
  logLevel?: number;
  /** Path of the janus binary. Default 'janus' on PATH (Debian: /usr/bin/janus). */
  binary?: string;
  /**
   * Address the SIP plugin uses for SIP and RTP (its `local_ip`). Default '10.77.0.1' (va of
   * scripts/loopback.sh's veth pair); '10.77.0.2' keeps them off va, e.g. while a test takes va
   * down to cut only the WebRTC side.
   */
  sipLocalIp?: string;
}

export interface TestJanus {
  /** ws URL of its WebSocket API, e.g. ws://127.0.0.1:41234 */
  readonly url: string;
  /** Its token_auth_secret: sign session tokens with it (janusToken). */
  readonly secret: string;
  /** Folder of its config and log (janus.log). */
  readonly dir: string;
  /** Kills it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again with the same config, port and secret; resolves once its API answers. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL after 3 s) and removes its folder. */
  stop(): Promise<void>;
}

/** How long Janus may take to answer "info" after its start, in ms (it takes ~50 ms idle). */
const READY_TIMEOUT_MS = 15_000;
/** How long stop() waits after SIGTERM before SIGKILL, in ms. */
const STOP_GRACE_MS = 3_000;
const DEBIAN_LIB = '/usr/lib/x86_64-linux-gnu/janus';

const PLUGIN_FILES = {
  videoroom: 'libjanus_videoroom.so',
  sip: 'libjanus_sip.so',
} as const;
/** Every plugin Debian's janus package ships, so all but the asked ones can be disabled. */
const ALL_PLUGINS = [
  'libjanus_audiobridge.so',
  'libjanus_duktape.so',
  'libjanus_echotest.so',
  'libjanus_lua.so',
  'libjanus_nosip.so',
  'libjanus_recordplay.so',
  'libjanus_sip.so',
  'libjanus_streaming.so',
  'libjanus_textroom.so',
  'libjanus_videocall.so',
  'libjanus_videoroom.so',
  'libjanus_voicemail.so',
];
const OTHER_TRANSPORTS = [
  'libjanus_http.so',
  'libjanus_mqtt.so',
  'libjanus_nanomsg.so',
  'libjanus_pfunix.so',
  'libjanus_rabbitmq.so',
];

/** Every child still running, killed if this process exits before stopping it. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A Janus left running would keep its port and RTP range busy for the next test run.
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}

/** A TCP port nobody listens on right now on `host` (the OS picks it, as for port 0). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function jcfgString(value: string): string {
  return JSON.stringify(value);
}

function writeConfig(
  dir: string,
  settings: {
    host: string;
    port: number;
    secret: string;
    rtpPorts: [number, number];
    plugins: readonly ('videoroom' | 'sip')[];
    logLevel: number;
    sipLocalIp: string;
  },
): void {
  const wanted = new Set<string>(settings.plugins.map((plugin) => PLUGIN_FILES[plugin]));
  const disabledPlugins = ALL_PLUGINS.filter((file) => !wanted.has(file));
  const janus = `# Written by relaycall/testing startJanus() for one test run.
general: {
  configs_folder = ${jcfgString(dir)}
  plugins_folder = ${jcfgString(`${DEBIAN_LIB}/plugins`)}
  transports_folder = ${jcfgString(`${DEBIAN_LIB}/transports`)}
  events_folder = ${jcfgString(`${DEBIAN_LIB}/events`)}
  loggers_folder = ${jcfgString(`${DEBIAN_LIB}/loggers`)}
  log_to_stdout = false
  log_to_file = ${jcfgString(join(dir, 'janus.log'))}
  debug_level = ${settings.logLevel}
  debug_timestamps = true
  debug_colors = false
  token_auth = true
  token_auth_secret = ${jcfgString(settings.secret)}
  session_timeout = 60
}
media: {
  rtp_port_range = "${settings.rtpPorts[0]}-${settings.rtpPorts[1]}"
}
nat: {
  full_trickle = false
  ice_ignore_list = "vmnet"
  nice_debug = false
}
plugins: {
  disable = ${jcfgString(disabledPlugins.join(','))}
}
transports: {
  disable = ${jcfgString(OTHER_TRANSPORTS.join(','))}
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
`;
  const websockets = `general: {
  json = "compact"
  ws = true
  ws_port = ${settings.port}
  ws_ip = ${jcfgString(settings.host)}
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`;
  const videoroom = `general: {
  string_ids = false
}
`;
  writeFileSync(join(dir, 'janus.jcfg'), janus);
  writeFileSync(join(dir, 'janus.transport.websockets.jcfg'), websockets);
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), videoroom);
  if (settings.plugins.includes('sip')) {
    // Loopback only, and no STUN lookup: nothing may leave the test's network namespace.
    writeFileSync(
      join(dir, 'janus.plugin.sip.jcfg'),
      `general: {
  local_ip = ${jcfgString(settings.sipLocalIp)}
  keepalive_interval = 120
  behind_nat = false
  register_ttl = 3600
  rtp_port_range = "${settings.rtpPorts[0]}-${settings.rtpPorts[1]}"
}
`,
    );
  }
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  /** Set once the child exits: its code or signal. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Why the child could not be spawned (`code` ENOENT: no such binary). */
  spawnError: NodeJS.ErrnoException | undefined;
}

function launch(binary: string, dir: string): Running {
  const child = spawn(binary, ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-o'], {
    cwd: dir,
    // Its log goes to janus.log; stdout only repeats the banner.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const running: Running = {
    child,
    exit: undefined,
    spawnError: undefined,
    exited: Promise.resolve(),
  };
  children.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  running.exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      running.spawnError = error;
      children.delete(child);
      running.exit = { code: null, signal: null };
      resolve();
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      running.exit = { code, signal };
      if (stderr) writeFileSync(join(dir, 'janus.stderr.log'), stderr);
      resolve();
    });
  });
  return running;
}

/** Resolves true when the WebSocket API at `url` answers an "info" request. */
function answersInfo(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'janus-protocol', { handshakeTimeout: 1000 });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.terminate();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 2000);
    socket.on('error', () => done(false));
    socket.on('open', () => socket.send(JSON.stringify({ janus: 'info', transaction: 'ready' })));
    socket.on('message', (data) => {
      try {
        const reply = JSON.parse(messageText(data)) as { janus?: unknown };
        done(reply.janus === 'server_info');
      } catch {
        done(false);
      }
    });
  });
}

/** A WebSocket message as text: ws gives it as a Buffer, an ArrayBuffer or a list of fragments. */
function messageText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

function logTail(dir: string, lines = 25): string {
  const parts: string[] = [];
  for (const name of ['janus.log', 'janus.stderr.log']) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8').trimEnd();
    if (text)
      parts.push(`--- last lines of ${path}:\n${text.split('\n').slice(-lines).join('\n')}`);
  }
  return parts.length > 0 ? parts.join('\n') : `(no log in ${dir})`;
}

/** Says what to do about a Janus that could not start, from what its log shows. */
function advice(dir: string, running: Running, binary: string): string {
  const error = running.spawnError;
  if (error?.code === 'ENOENT') {
    return (
      `Janus is not installed (${binary} not found): apt-get install janus ` +
      '(Debian 12 ships 1.1.2), or pass `binary` with its path.'
    );
  }
  if (error) return `Starting ${binary} failed (${error.message}): check that it can be run.`;
  const log = logTail(dir, 200);
  if (
    /Error creating vhost for Websockets|No WebSockets server started|address already in use/i.test(
      log,
    )
  ) {
    return (
      'Its WebSocket API could not listen (the port is in use, or `host` is not an address of ' +
      'this machine): pick another `port` or `host`.'
    );
  }
  if (/gathering candidates|no (usable )?interfaces?/i.test(log) || !hasNonLoopbackAddress()) {
    return (
      'Janus gathers no ICE candidates on loopback: run inside scripts/loopback.sh, which adds ' +
      'the private veth pair (va 10.77.0.1, vb 10.77.0.2).'
    );
  }
  return 'See its log below for the cause.';
}

function hasNonLoopbackAddress(): boolean {
  return Object.values(networkInterfaces()).some((addresses) =>
    (addresses ?? []).some((address) => !address.internal),
  );
}

async function waitUntilReady(url: string, dir: string, running: Running, binary: string) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (running.spawnError) {
      throw new Error(`${advice(dir, running, binary)}`);
    }
    if (running.exit) {
      const how = running.exit.signal
        ? `was killed by ${running.exit.signal}`
        : `exited with code ${String(running.exit.code)}`;
      throw new Error(
        `Janus ${how} before its WebSocket API at ${url} answered. ${advice(dir, running, binary)}\n` +
          logTail(dir),
      );
    }
    if (await answersInfo(url)) return;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  running.child.kill('SIGKILL');
  await running.exited;
  throw new Error(
    `Janus did not answer "info" at ${url} within ${READY_TIMEOUT_MS} ms. ` +
      `${advice(dir, running, binary)}\n${logTail(dir)}`,
  );
}

function check(options: StartJanusOptions): void {
  const { port, rtpPorts, logLevel, plugins, secret, host, sipLocalIp } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TypeError(`startJanus: port ${port} is not a TCP port: pass 0-65535 (0 picks one).`);
  }
  if (
    rtpPorts !== undefined &&
    (!rtpPorts.every((p) => Number.isInteger(p) && p > 0 && p <= 65535) ||
      rtpPorts[0] > rtpPorts[1])
  ) {
    throw new TypeError(
      `startJanus: rtpPorts ${JSON.stringify(rtpPorts)} is not a UDP port range: pass [min, max], ` +
        'e.g. [20000, 20199].',
    );
  }
  if (logLevel !== undefined && (!Number.isInteger(logLevel) || logLevel < 0 || logLevel > 7)) {
    throw new TypeError(`startJanus: logLevel ${logLevel} is not 0-7.`);
  }
  if (plugins !== undefined && plugins.some((plugin) => !(plugin in PLUGIN_FILES))) {
    throw new TypeError(
      `startJanus: plugins ${JSON.stringify(plugins)}: only 'videoroom' and 'sip' are supported.`,
    );
  }
  if (secret !== undefined && !/^[\x21-\x7e]+$/.test(secret)) {
    throw new TypeError(
      'startJanus: secret must be non-empty printable ASCII without spaces (it goes in janus.jcfg).',
    );
  }
  if (host !== undefined && !/^[0-9a-fA-F.:]+$/.test(host)) {
    throw new TypeError(`startJanus: host ${JSON.stringify(host)} must be an IP address.`);
  }
  if (sipLocalIp !== undefined && !/^[0-9a-fA-F.:]+$/.test(sipLocalIp)) {
    throw new TypeError(
      `startJanus: sipLocalIp ${JSON.stringify(sipLocalIp)} must be an IP address.`,
    );
  }
}

/**
 * Starts a real Janus (Debian's 1.1.2) for tests: WebSocket API only, token auth with a secret,
 * the videoroom plugin (and SIP on request), config and log in a temp folder. Resolves once its
 * API answers "info". Run it inside scripts/loopback.sh: Janus ignores loopback interfaces when
 * gathering ICE candidates, and the veth pair that script adds stays inside its namespace.
 * Call stop() when done. Node only.
 */
export async function startJanus(options: StartJanusOptions = {}): Promise<TestJanus> {
  check(options);
  const host = options.host ?? '127.0.0.1';
  const secret = options.secret ?? randomBytes(24).toString('hex');
  const binary = options.binary ?? 'janus';
  const settings = {
    host,
    secret,
    rtpPorts: options.rtpPorts ?? ([20000, 20199] as [number, number]),
    plugins: options.plugins ?? ['videoroom' as const],
    logLevel: options.logLevel ?? 3,
    sipLocalIp: options.sipLocalIp ?? '10.77.0.1',
  };
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'relaycall-janus-'));
  const hostPart = host.includes(':') ? `[${host}]` : host;
  let port = options.port ?? 0;
  let running: Running | undefined;
  // Another process may take the free port between the probe and Janus's bind: try again then.
  for (let attempt = 1; !running; attempt++) {
    const chosen = options.port || (await freePort(host));
    writeConfig(dir, { ...settings, port: chosen });
    const candidate = launch(binary, dir);
    try {
      await waitUntilReady(`ws://${hostPart}:${chosen}`, dir, candidate, binary);
      running = candidate;
      port = chosen;
    } catch (error) {
      const retry = !options.port && attempt < 3 && /in use/i.test(advice(dir, candidate, binary));
      if (!retry) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const url = `ws://${hostPart}:${port}`;

  const kill = async () => {
    if (!running) return;
    const { child, exited } = running;
    running = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  return {
    url,
    secret,
    dir,
    kill,
    async restart() {
      await kill();
      const candidate = launch(binary, dir);
      await waitUntilReady(url, dir, candidate, binary);
      running = candidate;
    },
    async stop() {
      const current = running;
      running = undefined;
      if (current && current.child.exitCode === null && current.child.signalCode === null) {
        current.child.kill('SIGTERM');
        const timer = setTimeout(() => current.child.kill('SIGKILL'), STOP_GRACE_MS);
        await current.exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
