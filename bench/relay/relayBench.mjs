/**
 * Signaling relay under load: our Relay, the PeerJS server and a bare ws forwarder (the floor),
 * each in a fresh process pinned to core 0, driven by a load generator pinned to core 1.
 */
import { fork, spawn as nodeSpawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { median, percentile, ratio, round } from '../lib/stats.mjs';

const KINDS = (process.env.BENCH_RELAY_KINDS ?? 'ours,ours-2,peerjs,floor').split(',');
const LABEL = {
  ours: 'relaycall',
  'ours-2': 'relaycall, 2 nodes',
  peerjs: 'PeerJS',
  floor: 'ws floor',
};

const PLANS = {
  quick: {
    sizes: process.env.BENCH_RELAY_SIZES?.split(',').map(Number) ?? [200, 1000],
    repeats: 1,
    burstMessages: 60_000,
    steadySeconds: 2,
  },
  full: { sizes: [200, 1000, 2000, 10_000], repeats: 3, burstMessages: 200_000, steadySeconds: 5 },
};
/** Messages a sender keeps unanswered during the burst, all sessions together. */
const BURST_IN_FLIGHT = 2_048;
const STEADY_RATE = 5_000;
const CONNECT_CONCURRENCY = 256;
const WARMUP_SESSIONS = 200;
/** Idle time before measuring memory per session: one keep-alive interval and a bit. */
const SETTLE_MS = 6_000;
/** Bound of each phase; the whole section stops by itself. */
const PHASE_TIMEOUT_MS = 120_000;

export async function run({ mode, log }) {
  const plan = PLANS[mode];
  const results = [];
  for (const sessions of plan.sizes) {
    // 10,000 sessions once: each round takes a while, and the figure that matters is "held".
    const repeats = sessions >= 10_000 ? 1 : plan.repeats;
    for (let r = 0; r < repeats; r += 1) {
      for (const kind of KINDS) {
        const result = await measure(kind, sessions, plan);
        log(
          `${LABEL[kind]} × ${sessions}: connect ${round(result.connectMs)} ms, burst ` +
            `${Math.round(result.burstRate)} msg/s, ${round(result.cpuPerMessage)} µs/msg (sys ${round(result.systemCpuPerMessage)}), ` +
            `live heap ${round(result.heapPerSession / 1024)} KB/session, ` +
            `p99 ${round(result.p99)} ms, errors ${result.errors}`,
        );
        results.push(result);
      }
    }
  }
  return render({ plan, runs: results });
}

/** The section's tables from its raw runs (also to redraw a saved bench/results/*.json). */
export function render({ plan, runs }) {
  const summary = summarize(runs, plan);
  return { name: 'relay', tables: tables(summary), results: { plan, summary, runs } };
}

async function measure(kind, sessions, plan) {
  const redis = kind === 'ours-2' ? await startRedis() : undefined;
  const server = await serverGroup(kind, redis);
  const gen = await spawn('loadgen.mjs', [], 1);
  try {
    const { port } = await server.next('ready');
    let tokens = [];
    if (kind.startsWith('ours')) {
      server.send({ type: 'tokens', count: sessions });
      ({ tokens } = await server.next('tokens'));
    }
    // Warm-up: a first round of sessions connects, calls and leaves, so code compiled once (the
    // same for every server) is not counted per session below. No traffic: a grown heap would
    // shrink back during the measurement.
    const warm = Math.min(sessions, WARMUP_SESSIONS);
    await gen.phase({
      type: 'connect',
      kind: protocolOf(kind),
      port,
      count: warm,
      tokens,
      concurrency: CONNECT_CONCURRENCY,
    });
    await gen.phase({ type: 'close' });
    const idle = await usage(server, true);
    const connect = await gen.phase({
      type: 'connect',
      kind: protocolOf(kind),
      port,
      count: sessions,
      tokens,
      concurrency: CONNECT_CONCURRENCY,
    });
    // Memory per idle session: after a keep-alive interval, once pings and acks have gone round.
    await gen.phase({ type: 'settle', ms: SETTLE_MS });
    const connected = await usage(server, true);
    const burstBefore = await usage(server, false);
    const burst = await gen.phase({
      type: 'burst',
      messages: plan.burstMessages,
      inFlight: Math.max(1, Math.ceil(BURST_IN_FLIGHT / sessions)),
      timeoutMs: PHASE_TIMEOUT_MS / 2,
    });
    const burstAfter = await usage(server, false);
    const steady = await gen.phase({
      type: 'steady',
      rate: STEADY_RATE,
      seconds: plan.steadySeconds,
      warmupSeconds: 0.5,
    });
    const steadyAfter = await usage(server, false);
    const check = await gen.phase({ type: 'check' });
    const lost = steady.sent - steady.received;
    return {
      kind,
      sessions,
      connectMs: connect.connectMs,
      connectRate: sessions / (connect.connectMs / 1000),
      callSetupMs: connect.setupMs,
      burstRate: burst.rate,
      burstDelivered: burst.delivered,
      burstTimedOut: burst.timedOut,
      cpuPerMessage: (burstAfter.cpuMicros - burstBefore.cpuMicros) / burst.delivered,
      systemCpuPerMessage: (burstAfter.systemMicros - burstBefore.systemMicros) / burst.delivered,
      heapPerSession: (connected.heapUsed - idle.heapUsed) / sessions,
      steadyCpuPerMessage: (steadyAfter.cpuMicros - burstAfter.cpuMicros) / steady.received,
      steadyRate: steady.actualRate,
      p50: percentile(steady.latencies, 50),
      p99: percentile(steady.latencies, 99),
      steadyLost: Math.max(0, lost),
      rssIdle: idle.rss,
      rssConnected: connected.rss,
      rssPeak: steadyAfter.peakRss,
      open: check.open,
      errors: check.errors + (burst.timedOut ? 1 : 0) + Math.max(0, lost),
      firstErrors: check.firstErrors,
    };
  } finally {
    await gen.phase({ type: 'close' }).catch(() => undefined);
    gen.kill();
    server.send({ type: 'stop' });
    await server.exited;
    redis?.stop();
  }
}

/**
 * The server(s) under test, as one: the single process, or for 'ours-2' two Relay nodes on one
 * Redis, both pinned to core 0 (so the pair gets the single node's CPU), their figures summed.
 */
async function serverGroup(kind, redis) {
  const options = process.env.BENCH_SERVER_NODE_OPTIONS;
  if (kind !== 'ours-2') return spawn('server.mjs', [kind], 0, options);
  const env = { BENCH_REDIS_URL: redis.url };
  const nodes = [
    await spawn('server.mjs', ['ours'], 0, options, env),
    await spawn('server.mjs', ['ours'], 0, options, env),
  ];
  const [first] = nodes;
  return {
    send(message) {
      // Tokens come from one node (they share the Redis store); the rest goes to both.
      if (message.type === 'tokens') first.send(message);
      else for (const node of nodes) node.send(message);
    },
    async next(type) {
      if (type === 'tokens') return first.next(type);
      const replies = await Promise.all(nodes.map((node) => node.next(type)));
      if (type === 'ready') return { port: replies.map((reply) => reply.port) };
      const sum = (key) => replies.reduce((total, reply) => total + reply[key], 0);
      return {
        ...replies[0],
        cpuMicros: sum('cpuMicros') + (await redis.cpuMicros()),
        systemMicros: sum('systemMicros'),
        heapUsed: sum('heapUsed'),
        rss: sum('rss'),
        peakRss: sum('peakRss'),
      };
    },
    exited: Promise.all(nodes.map((node) => node.exited)),
  };
}

/** The protocol the load generator speaks to a kind of server. */
function protocolOf(kind) {
  return kind === 'ours-2' ? 'ours' : kind;
}

/** A throwaway redis-server on a free loopback port, pinned to the servers' core. */
async function startRedis() {
  const port = await freePort();
  const child = nodeSpawn(
    'taskset',
    [
      '-c',
      '0',
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  while (!(await pong(port))) {
    if (Date.now() > deadline)
      throw new Error('redis-server did not start (apt-get install redis-server)');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ticks = () => {
    // utime + stime of the redis process, in clock ticks (100 per second on Linux).
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  };
  return {
    url: `redis://127.0.0.1:${port}/0`,
    cpuMicros: async () => ticks() * 10_000,
    stop: () => child.kill('SIGKILL'),
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function pong(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => (socket.destroy(), resolve(false)));
    socket.on('error', () => resolve(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString().startsWith('+PONG'));
    });
  });
}

async function usage(server, gc) {
  server.send({ type: 'usage', gc });
  return server.next('usage');
}

/** Forks a bench process pinned to `core` with taskset; `next(type)` awaits its next message. */
async function spawn(script, args, core, nodeOptions = '', env = {}) {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = fork(path, args, {
    execPath: 'taskset',
    execArgv: [
      '-c',
      String(core),
      process.execPath,
      '--expose-gc',
      ...nodeOptions.split(' ').filter(Boolean),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const queue = [];
  const waiters = [];
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const failure = exited.then((code) => {
    throw new Error(`${script} ${args.join(' ')} exited (${code}) during the bench`);
  });
  failure.catch(() => undefined);
  child.on('message', (message) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const receive = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift())
      : Promise.race([new Promise((resolve) => waiters.push(resolve)), failure]);
  const next = async (type) => {
    const timeout = new Promise((_, reject) =>
      setTimeout(
        () => reject(new Error(`${script}: no "${type}" within ${PHASE_TIMEOUT_MS} ms`)),
        PHASE_TIMEOUT_MS,
      ).unref(),
    );
    const message = await Promise.race([receive(), timeout]);
    if (message.type === 'error' || message.type === 'failed') {
      throw new Error(`${script}: ${message.error ?? message.message}`);
    }
    if (message.type !== type && message.type !== 'done') {
      throw new Error(`${script}: expected "${type}", got "${message.type}"`);
    }
    return message;
  };
  return {
    send: (message) => child.send(message),
    next,
    phase: async (message) => {
      child.send(message);
      return next('done');
    },
    kill: () => child.kill(),
    exited,
  };
}

function summarize(results, plan) {
  const rows = [];
  for (const sessions of plan.sizes) {
    for (const kind of KINDS) {
      const runs = results.filter((r) => r.kind === kind && r.sessions === sessions);
      if (runs.length === 0) continue;
      const pick = (key) => median(runs.map((r) => r[key]));
      rows.push({
        kind,
        sessions,
        runs: runs.length,
        connectMs: pick('connectMs'),
        connectRate: pick('connectRate'),
        burstRate: pick('burstRate'),
        cpuPerMessage: pick('cpuPerMessage'),
        steadyCpuPerMessage: pick('steadyCpuPerMessage'),
        p50: pick('p50'),
        p99: pick('p99'),
        rssIdle: pick('rssIdle'),
        rssConnected: pick('rssConnected'),
        rssPeak: Math.max(...runs.map((r) => r.rssPeak)),
        heapPerSession: pick('heapPerSession'),
        errors: runs.reduce((sum, r) => sum + r.errors, 0),
        open: Math.min(...runs.map((r) => r.open)),
      });
    }
  }
  return rows;
}

const MiB = 2 ** 20;

function tables(rows) {
  const find = (kind, sessions) => rows.find((r) => r.kind === kind && r.sessions === sessions);
  const table = {
    title: `Signaling relay: N sessions in pairs, server pinned to one core (medians of ${rows[0]?.runs ?? 1})`,
    columns: [
      'server',
      'sessions',
      'connect all (ms)',
      'connects/s',
      'burst msg/s',
      'CPU µs/msg (burst)',
      'CPU µs/msg (5k/s)',
      'p50 ms @5k/s',
      'p99 ms @5k/s',
      'RSS connected / peak (MiB)',
      'live heap KB/session',
      'errors',
    ],
    rows: rows.map((r) => [
      LABEL[r.kind],
      r.sessions,
      round(r.connectMs, 0),
      round(r.connectRate, 0),
      round(r.burstRate, 0),
      round(r.cpuPerMessage, 1),
      round(r.steadyCpuPerMessage, 1),
      round(r.p50, 2),
      round(r.p99, 2),
      `${round(r.rssConnected / MiB, 0)} / ${round(r.rssPeak / MiB, 0)}`,
      round(r.heapPerSession / 1024, 2),
      r.errors,
    ]),
    notes: [
      'relaycall: every session authenticates with a JWT (HS512), each pair places a call, every signal is a JSON-RPC request the Relay answers and sequences for resume; the per-socket rate limit and the per-address connection caps are raised (the load comes from one address).',
      'PeerJS: peer 1.0.2 with concurrent_limit raised. Floor: ws forwarding each frame, parsed only for its dst.',
      'Clients: raw ws in one process pinned to the other core; a signal is a trickle ICE candidate (253 bytes of JSON).',
      'Burst: every session sends to its partner, 2,048 messages in flight in all. 5k/s: open loop, round robin.',
      'Live heap per session: (connected − idle) ÷ N of V8 heap in use after a full GC, after a warm-up round and 6 s idle (keep-alives and acks). RSS moves with V8 heap sizing: absolutes only.',
    ],
  };
  const ratioRows = [];
  const goals = [];
  for (const sessions of [...new Set(rows.map((r) => r.sessions))]) {
    const ours = find('ours', sessions);
    const peer = find('peerjs', sessions);
    const floor = find('floor', sessions);
    if (!ours || !peer || !floor) continue;
    ratioRows.push([
      sessions,
      ratio(ours.cpuPerMessage, peer.cpuPerMessage),
      ratio(ours.burstRate, peer.burstRate),
      ratio(ours.p50, peer.p50),
      ratio(ours.p99, peer.p99),
      ratio(ours.heapPerSession, peer.heapPerSession),
      ratio(ours.connectRate, peer.connectRate),
      ratio(ours.cpuPerMessage, floor.cpuPerMessage),
      ratio(ours.burstRate, floor.burstRate),
      ratio(ours.p99, floor.p99),
    ]);
    // The goals of the Relay under load: latency and memory at least as good as PeerJS's, CPU
    // close to the floor of moving frames through Node.
    const rss = (r) => r.rssConnected - r.rssIdle;
    goals.push(
      { sessions, goal: 'p50 at 5,000 msg/s ≤ PeerJS', met: ours.p50 <= peer.p50 },
      { sessions, goal: 'p99 at 5,000 msg/s ≤ PeerJS', met: ours.p99 <= peer.p99 },
      {
        sessions,
        goal: 'live heap per idle session ≤ PeerJS',
        met: ours.heapPerSession <= peer.heapPerSession,
      },
      {
        sessions,
        goal: 'CPU per message ≤ 1.2× floor (burst)',
        met: ours.cpuPerMessage <= 1.2 * floor.cpuPerMessage,
      },
      {
        sessions,
        goal: 'burst throughput ≥ 0.85× floor',
        met: ours.burstRate >= 0.85 * floor.burstRate,
      },
      {
        sessions,
        goal: 'connect rate ≥ 0.9× PeerJS',
        met: ours.connectRate >= 0.9 * peer.connectRate,
      },
      ...(sessions >= 10_000
        ? [
            {
              sessions,
              goal: 'RSS of connected sessions ≤ 1.2× PeerJS',
              met: rss(ours) <= 1.2 * rss(peer),
            },
          ]
        : []),
      { sessions, goal: 'no errors', met: ours.errors === 0 && ours.open === sessions },
    );
  }
  const ratios = {
    title:
      'relaycall / PeerJS and relaycall / floor (lower is better for CPU, latency, memory; higher for rates)',
    columns: [
      'sessions',
      'CPU/msg ÷ PeerJS',
      'burst ÷ PeerJS',
      'p50 ÷ PeerJS',
      'p99 ÷ PeerJS',
      'heap/session ÷ PeerJS',
      'connects/s ÷ PeerJS',
      'CPU/msg ÷ floor',
      'burst ÷ floor',
      'p99 ÷ floor',
    ],
    rows: ratioRows,
  };
  const twoNodes = {
    title: 'Two relaycall nodes on Redis beside one (every pair split across the nodes)',
    columns: [
      'sessions',
      'burst msg/s',
      'burst ÷ one node',
      'CPU µs/msg',
      'CPU ÷ one node',
      'p50 ms',
      'p99 ms',
      'p50 one node',
    ],
    rows: [...new Set(rows.map((r) => r.sessions))].flatMap((sessions) => {
      const one = find('ours', sessions);
      const two = find('ours-2', sessions);
      if (!one || !two) return [];
      return [
        [
          sessions,
          round(two.burstRate, 0),
          ratio(two.burstRate, one.burstRate),
          round(two.cpuPerMessage, 1),
          ratio(two.cpuPerMessage, one.cpuPerMessage),
          round(two.p50, 2),
          round(two.p99, 2),
          round(one.p50, 2),
        ],
      ];
    }),
    notes: [
      'Both nodes and Redis pinned to core 0, as the single node is; CPU µs/msg sums both nodes and Redis.',
      'Each relayed signal crosses nodes: a Redis publish to the call owner (and its answer), and one to the other leg.',
    ],
  };
  const goalTable = {
    title: 'Goals',
    columns: ['sessions', 'goal', 'met'],
    rows: goals.map((g) => [g.sessions, g.goal, g.met ? 'yes' : 'NO']),
  };
  return [table, ratios, twoNodes, goalTable];
}
