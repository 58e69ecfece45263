import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createRelayServer, type ProjectCredentials } from './RelayServer.js';
import { jsonLogger, textLogger, type RelayLogger } from './RelayLogger.js';
import { createRestClient } from './RestClient.js';
import { MemoryStore } from './store/MemoryStore.js';
import { RedisStore, redactRedisUrl } from './store/RedisStore.js';
import type { RelayStore } from './store/RelayStore.js';
import { SqliteStore } from './store/SqliteStore.js';
import { assertSecretStrength } from './TokenService.js';
import { readTlsFiles } from './readTlsFiles.js';
import {
  UsageError,
  asUsage,
  parseIceServers,
  parseJanus,
  parseLogFormat,
  parseMetrics,
  parseOrigin,
  parsePort,
  parseProject,
  parseProjects,
  parseScopes,
  parseTurn,
  parseUrl,
  readSipTrunks,
} from './cliArgs.js';

const USAGE = `Usage:
  relaycall serve [--host 127.0.0.1] [--port 8080]
                  [--store memory|sqlite:PATH|redis://[:PASSWORD@]HOST:PORT/DB]
                  [--project ID:TOKEN ...] [--ice-servers JSON] [--dev]
                  [--turn-url turn:HOST:3478?transport=udp ... --turn-secret SECRET]
                  [--janus ws://127.0.0.1:8188 --janus-secret SECRET [--sip-trunks FILE]]
                  [--trust-proxy] [--allowed-origin https://app.example.com ...]
                  [--log-format text|json] [--metrics]
                  [--tls-cert FULLCHAIN.pem --tls-key PRIVKEY.pem]
  relaycall token --url URL --project ID:TOKEN [--resource NAME] [--expires-in MINUTES]
                  [--scopes calls:dial,calls:receive]
  relaycall backup --to FILE [--store sqlite:PATH]
  relaycall [serve|token|backup] --help

Environment:
  RELAYCALL_PROJECTS  "id:token,id2:token2", projects to create or update (like --project)
  RELAYCALL_SECRET    HS512 signing secret, at least 64 bytes (default: generated and kept
                      in the SQLite store)
  RELAYCALL_STORE     the store, like --store (keeps a Redis password off the command line)
  RELAYCALL_TURN_SECRET
                      TURN shared secret (coturn's static-auth-secret), like --turn-secret
  RELAYCALL_JANUS_SECRET
                      Janus token secret (token_auth_secret in janus.jcfg), like --janus-secret
  RELAYCALL_METRICS_TOKEN
                      with --metrics: the bearer token GET /metrics requires (16+ characters)

--trust-proxy: take client addresses from X-Forwarded-For (only behind your own reverse proxy,
  which must set it; docs/DEPLOY.md). --allowed-origin: only pages of these origins may open the
  signaling socket (repeat it for each; default: any origin).

--log-format: text (default) prints the start-up lines, then a line per event (sessions, calls,
  refused requests; warnings and errors on stderr); json writes every event, start-up included,
  as one JSON object per line on stdout. --metrics: Prometheus metrics at /metrics, open to
  whoever reaches the port unless RELAYCALL_METRICS_TOKEN is set (docs/DEPLOY.md#logs-and-metrics).

--tls-cert, --tls-key: serve https and wss with this certificate chain and key (PEM); send
  SIGHUP to load renewed files without a restart (docs/DEPLOY.md#one-node-in-production).

--sip-trunks FILE: a JSON file of SIP trunks by project id, e.g.
  {"acme": {"proxy": "sip:sip.example.net", "numbers": ["+15550001111"],
            "username": "acme", "password": "…", "routes": {"+15550001111": "alice"}}}
  (docs/DEPLOY.md#sip); it needs --janus with Janus's SIP plugin.

See README.md for the REST API and docs/PROTOCOL.md for the signaling protocol.`;

/** Exit status when the usage is wrong. */
const USAGE_ERROR = 2;

/** Runs the `relaycall` command line. Resolves the exit status (serve resolves on shutdown). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') return await serve(rest, env);
    if (command === 'token') return await token(rest);
    if (command === 'backup') return await backup(rest, env);
    if (command === undefined) {
      console.log(USAGE);
      return USAGE_ERROR;
    }
    if (command === '--help' || command === '-h' || command === 'help') return help();
    throw new UsageError(`Unknown command "${command}".`);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      return USAGE_ERROR;
    }
    throw error;
  }
}

/** Prints the usage to stdout: what `--help` asked for. */
function help(): number {
  console.log(USAGE);
  return 0;
}

/** The store of `serve` and `backup` when neither --store nor RELAYCALL_STORE names one. */
const DEFAULT_STORE = 'sqlite:.relaycall/relay.sqlite';

/** The file of a `sqlite:PATH` store spec; undefined for any other store. */
function sqlitePath(spec: string): string | undefined {
  return spec.startsWith('sqlite:') && spec.length > 'sqlite:'.length
    ? spec.slice('sqlite:'.length)
    : undefined;
}

/** At most this many stored project ids are printed at start. */
const LISTED_PROJECTS = 10;

/** The well-known project of `serve --dev`: for local development only. */
const DEV_PROJECT: ProjectCredentials = { id: 'dev', token: 'dev-token-change-me-0123456789' };

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8080' },
      store: { type: 'string' },
      project: { type: 'string', multiple: true, default: [] },
      'ice-servers': { type: 'string' },
      'turn-url': { type: 'string', multiple: true, default: [] },
      'turn-secret': { type: 'string' },
      janus: { type: 'string' },
      'janus-secret': { type: 'string' },
      'sip-trunks': { type: 'string' },
      'trust-proxy': { type: 'boolean', default: false },
      'allowed-origin': { type: 'string', multiple: true, default: [] },
      'log-format': { type: 'string', default: 'text' },
      metrics: { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      dev: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return help();
  const port = parsePort(values.port);
  const projects = [...parseProjects(env.RELAYCALL_PROJECTS), ...values.project.map(parseProject)];
  if (env.RELAYCALL_SECRET !== undefined) assertSecretStrength(env.RELAYCALL_SECRET);
  const iceServers = parseIceServers(values['ice-servers']);
  const turn = parseTurn(values['turn-url'], values['turn-secret'] ?? env.RELAYCALL_TURN_SECRET);
  const janus = parseJanus(values.janus, values['janus-secret'] ?? env.RELAYCALL_JANUS_SECRET);
  const sip = readSipTrunks(values['sip-trunks'], janus !== undefined);
  const allowedOrigins = values['allowed-origin'].map(parseOrigin);
  const json = parseLogFormat(values['log-format']) === 'json';
  const metrics = parseMetrics(values.metrics, env.RELAYCALL_METRICS_TOKEN);
  const logger = cliLogger(json);
  // Start-up lines are for people; as JSON, their facts go in project.created and relay.started.
  const print: (line: string) => void = json ? () => undefined : (line) => console.log(line);
  const loadTls = () => asUsage(() => readTlsFiles(values['tls-cert'], values['tls-key']));
  const tls = loadTls();
  if (values.dev && !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(values.host)) {
    throw new UsageError('--dev uses a well-known project token, so it only binds to loopback.');
  }
  const storeSpec = values.store ?? env.RELAYCALL_STORE ?? (values.dev ? 'memory' : DEFAULT_STORE);
  if (values.dev && projects.length === 0) projects.push(DEV_PROJECT);
  const store = await openStore(storeSpec, logger);

  // Tokens given by flag or environment are secrets: they are never printed. Stored projects
  // keep only a hash of theirs: their ids are printed, with how to set a new token.
  let shown: ProjectCredentials | undefined = values.dev ? projects[0] : undefined;
  const stored = projects.length === 0 ? (await store.listProjects()).map((p) => p.id) : [];
  if (projects.length === 0 && stored.length === 0) {
    shown = {
      id: `project-${randomBytes(4).toString('hex')}`,
      token: randomBytes(24).toString('base64url'),
    };
    projects.push(shown);
    print(`Created project "${shown.id}" with token "${shown.token}".`);
    print('The token is shown only now: it is stored hashed.');
    if (json) logger.info('project.created', { project: shown.id, token: shown.token });
  }
  const relay = await createRelayServer({
    store,
    secret: env.RELAYCALL_SECRET,
    projects,
    iceServers,
    turn,
    ...(janus ? { janus } : {}),
    ...(sip ? { sip } : {}),
    trustProxy: values['trust-proxy'],
    ...(allowedOrigins.length > 0 ? { allowedOrigins } : {}),
    logger,
    ...(metrics ? { metrics } : {}),
    // A Redis store means several nodes may share it: this one joins them.
    ...(/^rediss?:\/\//.test(storeSpec) ? { cluster: { url: storeSpec } } : {}),
  });
  // Listening for signals before announcing readiness: whoever reads the ready lines may
  // signal at once.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  let url: string;
  try {
    url = await relay.listen({ host: values.host, port, ...(tls ? { tls } : {}) });
  } catch (error) {
    await relay.close();
    throw listenError(error, values.host, port);
  }
  print(`Relay listening on ${url} (store: ${redactRedisUrl(storeSpec)})`);
  if (values.dev) {
    print('Development mode: a well-known project token. Never expose this Relay.');
  }
  if (stored.length > 0) {
    const listed = stored.slice(0, LISTED_PROJECTS).join(', ');
    const more = stored.length - LISTED_PROJECTS;
    print(
      `Projects in the store: ${listed}${more > 0 ? ` and ${more} more` : ''}. ` +
        'Their tokens are stored hashed and cannot be shown.',
    );
    print(
      'To set a new token for one, restart with --project ID:NEWTOKEN (at least 16 characters, ' +
        'e.g. from `openssl rand -hex 24`).',
    );
  }
  const exampleId = shown?.id ?? projects[0]?.id ?? stored[0];
  if (exampleId !== undefined) {
    const credentials = `${exampleId}:${shown ? shown.token : '<project token>'}`;
    print('Get a token for the browser user "alice":');
    print(
      `  curl -s -u '${credentials}' -H 'content-type: application/json' ` +
        `-d '{"resource":"alice"}' ${url}/api/relay/rest/jwt`,
    );
  }
  // The secret is never printed.
  if (turn) print(`TURN credentials minted per session for ${turn.urls.join(', ')}`);
  if (janus) print(`sfu rooms carried by Janus at ${janus.url}`);
  if (sip) {
    const projects = Object.keys(sip.trunks).join(', ');
    print(`SIP and phone calls through Janus's SIP plugin for: ${projects}`);
  }
  if (values['trust-proxy']) {
    print(
      'Client addresses taken from X-Forwarded-For: only your reverse proxy may reach this port.',
    );
  }
  if (allowedOrigins.length > 0) {
    print(`Signaling socket open to pages of ${allowedOrigins.join(', ')} only`);
  }
  if (metrics) {
    print(
      typeof metrics === 'object'
        ? `Metrics: ${url}/metrics (with the bearer token of RELAYCALL_METRICS_TOKEN)`
        : `Metrics: ${url}/metrics, open to anyone who reaches this port: keep it private`,
    );
  }
  print(`Signaling socket: ${url.replace(/^http/, 'ws')}/api/relay/ws`);
  if (json) {
    logger.info('relay.started', {
      url,
      signaling: `${url.replace(/^http/, 'ws')}/api/relay/ws`,
      store: redactRedisUrl(storeSpec),
      dev: values.dev,
      projects: stored.length > 0 ? stored : projects.map((project) => project.id),
      turn: turn?.urls,
      janus: janus?.url,
      sip: sip ? Object.keys(sip.trunks) : undefined,
      trustProxy: values['trust-proxy'],
      allowedOrigins,
      metrics: metrics ? `${url}/metrics` : undefined,
    });
  }
  // Renewed certificates (certbot, acme.sh) are loaded on SIGHUP; a bad pair keeps the old one.
  const reloadTls = () => {
    try {
      const renewed = loadTls();
      if (renewed) relay.setTls(renewed);
      if (json) logger.info('tls.reloaded', {});
      else console.log('SIGHUP: TLS certificate and key loaded again.');
    } catch (error) {
      if (json) logger.warn('tls.reload_failed', { error });
      else console.error(`SIGHUP: kept the current certificate. ${(error as Error).message}`);
    }
  };
  if (tls) process.on('SIGHUP', reloadTls);

  const signal = await stopped;
  print(`${signal}: closing sessions and exiting.`);
  if (json) logger.info('relay.stopping', { signal });
  process.off('SIGHUP', reloadTls);
  await relay.close();
  return 0;
}

async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      url: { type: 'string' },
      project: { type: 'string' },
      resource: { type: 'string' },
      'expires-in': { type: 'string' },
      scopes: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return help();
  if (!values.url || !values.project)
    throw new UsageError('token needs --url and --project ID:TOKEN.');
  const url = parseUrl(values.url);
  const project = parseProject(values.project);
  const client = createRestClient({ url, project: project.id, token: project.token });
  const expiresIn = values['expires-in'] === undefined ? undefined : Number(values['expires-in']);
  if (expiresIn !== undefined && !Number.isInteger(expiresIn)) {
    throw new UsageError('--expires-in must be a whole number of minutes.');
  }
  const pair = await client.createToken({
    resource: values.resource,
    expiresIn,
    scopes: values.scopes === undefined ? undefined : parseScopes(values.scopes),
  });
  console.log(
    JSON.stringify({ jwt_token: pair.jwtToken, refresh_token: pair.refreshToken }, null, 2),
  );
  return 0;
}

/** Copies a SQLite store to a new file while a Relay may be using it. */
async function backup(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      store: { type: 'string' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return help();
  const spec = values.store ?? env.RELAYCALL_STORE ?? DEFAULT_STORE;
  const path = sqlitePath(spec);
  if (path === undefined) {
    throw new UsageError(
      `backup copies a SQLite store (--store sqlite:PATH), not "${redactRedisUrl(spec)}". ` +
        'Back up Redis with its own persistence (docs/DEPLOY.md).',
    );
  }
  if (!values.to) throw new UsageError('backup needs --to FILE, a new file for the copy.');
  if (!existsSync(path)) {
    throw new UsageError(`There is no SQLite store at ${path}: give the --store the Relay uses.`);
  }
  const store = await SqliteStore.open(path);
  try {
    await store.backup(values.to);
  } finally {
    await store.close();
  }
  console.log(`Backed up ${path} to ${values.to}.`);
  return 0;
}

async function openStore(spec: string, logger = cliLogger(false)): Promise<RelayStore> {
  if (spec === 'memory') return new MemoryStore();
  const path = sqlitePath(spec);
  if (path !== undefined) return SqliteStore.open(path);
  if (/^rediss?:\/\//.test(spec)) {
    // Outages and recoveries of Redis are logged; the Relay keeps running through them.
    return RedisStore.open(spec, {
      log: (message) => logger.warn('store.connection', { message }),
    });
  }
  throw new UsageError(
    '--store must be "memory", "sqlite:PATH" or "redis://HOST:PORT/DB", ' +
      `not "${redactRedisUrl(spec)}".`,
  );
}

/** The CLI's logger: JSON lines on stdout, or text lines with warnings and errors on stderr. */
function cliLogger(json: boolean): RelayLogger {
  if (json) return jsonLogger();
  const out = textLogger();
  const err = textLogger((line) => void process.stderr.write(`${line}\n`));
  return {
    info: (event, fields) => out.info(event, fields),
    warn: (event, fields) => err.warn(event, fields),
    error: (event, fields) => err.error(event, fields),
  };
}

/** The `listen` failure, said in terms of the flags that fix it. */
function listenError(error: unknown, host: string, port: number): unknown {
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new Error(
      `Port ${port} on ${host} is already in use: pick another with --port ` +
        '(--port 0 picks a free one).',
    );
  }
  return error;
}
