/**
 * Signaling relay under load: our Relay, the PeerJS server and a bare ws forwarder (the floor),
 * each in a fresh process pinned to core 0, driven by a load generator pinned to core 1.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, percentile, ratio, round } from '../lib/stats.mjs';

const KINDS = (process.env.BENCH_RELAY_KINDS ?? 'ours,peerjs,floor').split(',');
const LABEL = { ours: 'relaycall', peerjs: 'PeerJS', floor: 'ws floor' };

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
  const server = await spawn('server.mjs', [kind], 0, process.env.BENCH_SERVER_NODE_OPTIONS);
  const gen = await spawn('loadgen.mjs', [], 1);
  try {
    const { port } = await server.next('ready');
    let tokens = [];
    if (kind === 'ours') {
      server.send({ type: 'tokens', count: sessions });
      ({ tokens } = await server.next('tokens'));
    }
    // Warm-up: a first round of sessions connects, calls and leaves, so code compiled once (the
    // same for every server) is not counted per session below. No traffic: a grown heap would
    // shrink back during the measurement.
    const warm = Math.min(sessions, WARMUP_SESSIONS);
    await gen.phase({
      type: 'connect',
      kind,
      port,
      count: warm,
      tokens,
      concurrency: CONNECT_CONCURRENCY,
    });
    await gen.phase({ type: 'close' });
    const idle = await usage(server, true);
    const connect = await gen.phase({
      type: 'connect',
      kind,
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
  }
}

async function usage(server, gc) {
  server.send({ type: 'usage', gc });
  return server.next('usage');
}

/** Forks a bench process pinned to `core` with taskset; `next(type)` awaits its next message. */
async function spawn(script, args, core, nodeOptions = '') {
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
      'relaycall: every session authenticates with a JWT (HS512), each pair places a call, every signal is a JSON-RPC request the Relay answers and sequences for resume; the per-socket rate limit is raised.',
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
      ratio(ours.p99, peer.p99),
      ratio(ours.heapPerSession, peer.heapPerSession),
      ratio(ours.connectRate, peer.connectRate),
      ratio(ours.cpuPerMessage, floor.cpuPerMessage),
      ratio(ours.burstRate, floor.burstRate),
      ratio(ours.p99, floor.p99),
    ]);
    goals.push(
      {
        sessions,
        goal: 'CPU per message ≤ 0.5× PeerJS',
        met: ours.cpuPerMessage <= 0.5 * peer.cpuPerMessage,
      },
      { sessions, goal: 'burst throughput ≥ 2× PeerJS', met: ours.burstRate >= 2 * peer.burstRate },
      { sessions, goal: 'p99 at 5,000 msg/s ≤ PeerJS', met: ours.p99 <= peer.p99 },
      {
        sessions,
        goal: 'memory per idle session ≤ PeerJS (live heap)',
        met: ours.heapPerSession <= peer.heapPerSession,
      },
      { sessions, goal: 'no errors', met: ours.errors === 0 && ours.open === sessions },
    );
  }
  const ratios = {
    title:
      'relaycall / PeerJS and relaycall / floor (lower is better for CPU, p99, memory; higher for rates)',
    columns: [
      'sessions',
      'CPU/msg ÷ PeerJS',
      'burst ÷ PeerJS',
      'p99 ÷ PeerJS',
      'heap/session ÷ PeerJS',
      'connects/s ÷ PeerJS',
      'CPU/msg ÷ floor',
      'burst ÷ floor',
      'p99 ÷ floor',
    ],
    rows: ratioRows,
  };
  const goalTable = {
    title: 'Goals',
    columns: ['sessions', 'goal', 'met'],
    rows: goals.map((g) => [g.sessions, g.goal, g.met ? 'yes' : 'NO']),
  };
  return [table, ratios, goalTable];
}
