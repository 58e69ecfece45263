/**
 * Call setup in Chromium: time from placing a call to the first remote video frame presented at
 * the caller, for relaycall (through the Relay), two simple-peer peers wired directly in the page
 * (the floor) and PeerJS (its server and the `peerjs` client). Goal: relaycall's p50 ≤ 1.3× the
 * floor and below PeerJS.
 *
 * The page (bench/calls/page/main.ts) is bundled with esbuild in memory and served from a
 * loopback HTTP server; the Relay runs in this process (dist/: `npm run build` first), the PeerJS
 * server in a worker thread. One Chromium page runs the three scenarios round-robin, the order
 * rotating every iteration, so drift and teardown effects fall on all three alike. The first
 * iteration of each is a warm-up (lazy loading, JIT) and is discarded.
 *
 * WebRTC must stay on loopback: run it inside scripts/loopback.sh (`npm run bench` does).
 */
import { noteFailure } from '../lib/failures.mjs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { chromium } from 'playwright';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { servePage } from '../lib/servePage.mjs';
import { percentile, ratio, round } from '../lib/stats.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

const SCENARIOS = ['relaycall', 'floor', 'peerjs'];
const MEDIA_MODES = ['in-call', 'beforehand'];
const LABELS = {
  relaycall: 'relaycall (through the Relay)',
  floor: 'floor: simple-peer, direct',
  peerjs: 'PeerJS (peer server + peerjs)',
  camera: 'reference: fake camera alone (getUserMedia → first local frame)',
};
const MEDIA_TITLES = {
  'in-call': 'media acquired in the call (as start() does)',
  beforehand: 'media acquired beforehand (signaling + WebRTC only)',
};
/** Every job of one iteration: each scenario in each media mode, and the camera reference. */
const JOBS = [
  ...MEDIA_MODES.flatMap((media) => SCENARIOS.map((scenario) => ({ scenario, media }))),
  { scenario: 'camera', media: 'in-call' },
].map((job) => ({ ...job, key: `${job.scenario}/${job.media}` }));
const MODES = {
  quick: { warmup: 1, measured: 5, timeoutMs: 120_000 },
  full: { warmup: 1, measured: 20, timeoutMs: 300_000 },
};
/** Bound on each wait inside one call (remote stream, first frame…), in ms. */
const STEP_TIMEOUT_MS = 5_000;
/** A call that fails (its error is logged and counted) is left out; more than this aborts the run. */
const MAX_FAILED_CALLS = 5;
/** Pause between two calls so the previous call's teardown does not land in the next one. */
const SETTLE_MS = 100;
const GOAL_FLOOR_RATIO = 1.3;
/** The mark every scenario sets when the remote stream reaches the caller (page/main.ts). */
const REMOTE_STREAM = 'caller: remote stream';
const CONNECTED = 'first peer connection connected (ICE+DTLS)';
/** Milestones every scenario marks alike (page/main.ts), in call order. */
const MILESTONES = [
  'caller: media acquired',
  'callee: learns of the call',
  'callee: media acquired',
  REMOTE_STREAM,
  CONNECTED,
  'caller: first remote frame',
];

export async function run({ mode = 'quick', log = console.log } = {}) {
  const plan = MODES[mode] ?? MODES.quick;
  const deadline = Date.now() + plan.timeoutMs;
  const cleanups = [];
  const cleanup = async () => {
    for (const close of cleanups.splice(0).reverse()) {
      await close().catch((error) => log(`cleanup: ${error?.message ?? error}`));
    }
  };
  const bounded = (promise, label) => {
    let timer;
    const timeout = new Promise((_, reject) => {
      const left = deadline - Date.now();
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `calls bench: timed out after ${plan.timeoutMs / 1000} s (${mode} mode), during ${label}`,
            ),
          ),
        Math.max(0, left),
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  };

  try {
    const relay = await bounded(startRelay(), 'starting the Relay');
    cleanups.push(() => relay.close());
    const peerjs = await bounded(startPeerServer(cleanups), 'starting the PeerJS server');
    const site = await bounded(
      servePage(here('./page/main.ts'), await readFile(here('./page/index.html'))),
      'bundling and serving the page',
    );
    cleanups.push(() => site.close());
    log(`Relay ${relay.url}, PeerJS server :${peerjs.port}, page ${site.url}`);

    const browser = await bounded(
      chromium.launch({ executablePath: chromiumPath, args: chromiumArgs }),
      'launching Chromium',
    );
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') log(`page console: ${message.text()}`);
    });
    await bounded(page.goto(site.url), 'loading the page');
    await bounded(
      page.waitForFunction(() => typeof globalThis.bench === 'object'),
      'the page script starting',
    );
    const [alice, bob] = await bounded(
      Promise.all([relay.issueToken('alice'), relay.issueToken('bob')]),
      'issuing tokens',
    );
    const suffix = Math.random().toString(36).slice(2, 8);
    await bounded(
      page.evaluate((config) => globalThis.bench.setup(config), {
        relayUrl: relay.url,
        tokens: { alice, bob },
        peerjs: {
          host: '127.0.0.1',
          port: peerjs.port,
          path: peerjs.path,
          key: peerjs.key,
          ids: [`caller-${suffix}`, `callee-${suffix}`],
        },
        stepTimeoutMs: STEP_TIMEOUT_MS,
      }),
      'connecting the clients in the page',
    );

    const samples = Object.fromEntries(JOBS.map((job) => [job.key, []]));
    const failures = [];
    const iterations = plan.warmup + plan.measured;
    for (let i = 0; i < iterations; i += 1) {
      const order = JOBS.map((_, k) => JOBS[(i + k) % JOBS.length]);
      const line = [];
      for (const { scenario, media, key } of order) {
        const label = `call ${i + 1}/${iterations} (${key})`;
        const sample = await bounded(
          page
            .evaluate(([name, mode]) => globalThis.bench.run(name, mode), [scenario, media])
            .catch((error) => ({ error })),
          label,
        );
        if (sample.error) {
          noteFailure({
            failures,
            key: key,
            iteration: i,
            error: sample.error,
            label,
            log,
            max: MAX_FAILED_CALLS,
            bench: 'calls',
          });
          line.push(`${key} failed`);
        } else {
          if (i >= plan.warmup) samples[key].push(sample);
          line.push(`${key} ${sample.ms.toFixed(0)}`);
        }
        await bounded(page.waitForTimeout(SETTLE_MS), 'settling between calls');
      }
      log(
        `${i < plan.warmup ? 'warm-up' : `call ${i + 1 - plan.warmup}/${plan.measured}`}: ${line.join(', ')}`,
      );
    }
    await bounded(
      page.evaluate(() => globalThis.bench.teardown()),
      'closing the clients in the page',
    );
    return report({ mode, plan, samples, failures });
  } finally {
    await cleanup();
  }
}

async function startRelay() {
  let testing;
  try {
    testing = await import('../../dist/testing/index.js');
  } catch (error) {
    throw new Error('calls bench: dist/ is missing: run `npm run build` first.', { cause: error });
  }
  return testing.startTestRelay();
}

/** Starts the PeerJS server in a worker thread (terminated by `cleanups`). */
function startPeerServer(cleanups) {
  const path = '/';
  const key = 'peerjs';
  const worker = new Worker(here('./peerServerWorker.mjs'), { workerData: { path, key } });
  cleanups.push(() => worker.terminate());
  return new Promise((resolve, reject) => {
    worker.once('message', ({ port }) => resolve({ port, path, key }));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`PeerJS server worker exited (${code})`)));
  });
}

function summarize(list) {
  const ms = list.map((sample) => sample.ms);
  const at = (label) => list.map((sample) => sample.marks[label]).filter(Number.isFinite);
  return {
    calls: ms.length,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    min: Math.min(...ms),
    max: Math.max(...ms),
    remoteStreamP50: percentile(at(REMOTE_STREAM), 50),
    connectedP50: percentile(at(CONNECTED), 50),
    samplesMs: ms.map((value) => round(value, 1)),
  };
}

/** Median (and p95) time after t0 of each event seen in the calls of a scenario, in order. */
function breakdown(list) {
  const labels = new Map();
  for (const sample of list) {
    for (const [label, at] of Object.entries(sample.marks)) {
      if (!labels.has(label)) labels.set(label, []);
      labels.get(label).push(at);
    }
  }
  return [...labels]
    .map(([event, times]) => ({
      event,
      seen: times.length,
      p50: round(percentile(times, 50), 1),
      p95: round(percentile(times, 95), 1),
    }))
    .sort((a, b) => a.p50 - b.p50);
}

function goalOf(stats, media) {
  const relaycall = stats[`relaycall/${media}`];
  const floor = stats[`floor/${media}`];
  const peerjs = stats[`peerjs/${media}`];
  const goal = {
    floorRatio: round(relaycall.p50 / floor.p50, 3),
    peerjsRatio: round(relaycall.p50 / peerjs.p50, 3),
    withinFloor: relaycall.p50 / floor.p50 <= GOAL_FLOOR_RATIO,
    belowPeerjs: relaycall.p50 < peerjs.p50,
  };
  return { ...goal, met: goal.withinFloor && goal.belowPeerjs };
}

const verdict = (ok) => (ok ? 'met' : 'NOT met');
const rounded = (value) => round(value, 1);

function report({ mode, plan, samples, failures }) {
  const stats = Object.fromEntries(
    JOBS.map((job) => [
      job.key,
      { ...summarize(samples[job.key]), failed: failures.filter((f) => f.key === job.key).length },
    ]),
  );
  const goals = Object.fromEntries(MEDIA_MODES.map((media) => [media, goalOf(stats, media)]));
  const setup = `${plan.measured} calls each (+${plan.warmup} warm-up discarded), ${mode} mode`;
  const common = [
    'One headless Chromium page (fake camera and microphone), loopback only, iceServers: [] on every RTCPeerConnection; all jobs round-robin, the order rotating each iteration; 100 ms pause between calls.',
    't0: just before alice.call() / the floor caller’s media / peer.call()’s media; t1: first requestVideoFrameCallback of the remote stream in a muted, playing <video> at the caller. Connecting to the servers is outside it.',
  ];
  const callTable = (media) => {
    const floor = stats[`floor/${media}`];
    const peerjs = stats[`peerjs/${media}`];
    const relaycall = stats[`relaycall/${media}`];
    const goal = goals[media];
    const row = (label, s) => [
      label,
      s.calls,
      s.failed,
      rounded(s.p50),
      rounded(s.p95),
      rounded(s.min),
      rounded(s.max),
      ratio(s.p50, floor.p50),
      rounded(s.remoteStreamP50),
      rounded(s.connectedP50),
    ];
    return {
      title: `Call setup in Chromium, ${MEDIA_TITLES[media]}: start to first remote video frame (ms), ${setup}`,
      columns: [
        'Scenario',
        'calls',
        'failed',
        'p50',
        'p95',
        'min',
        'max',
        'p50 ÷ floor',
        'remote track p50',
        'connected p50',
      ],
      rows: [
        ...SCENARIOS.map((name) => row(LABELS[name], stats[`${name}/${media}`])),
        ...(media === 'in-call' ? [row(LABELS.camera, stats['camera/in-call'])] : []),
      ],
      notes: [
        `Goal: relaycall p50 ÷ floor p50 = ${ratio(relaycall.p50, floor.p50)} (≤ ${GOAL_FLOOR_RATIO}×: ${verdict(goal.withinFloor)}); relaycall p50 ÷ PeerJS p50 = ${ratio(relaycall.p50, peerjs.p50)} (< 1×: ${verdict(goal.belowPeerjs)}).`,
        media === 'in-call'
          ? 'Each side acquires camera and microphone inside the timed region: the caller when it places the call, the callee when it learns of it (relaycall does both itself in call() and answer()). The camera reference row is getUserMedia to the first local frame, not a call.'
          : 'Both sides use a camera+microphone stream acquired at setup and kept running (relaycall: the localStream option), so the callee’s camera start-up is out of the way.',
        'failed: calls that did not reach a first frame (their error is logged and kept in the results), left out of the figures.',
        'remote track p50: the remote stream reached the caller (ontrack, answer applied); connected p50: the first of the call’s RTCPeerConnections reached connectionState "connected" (ICE + DTLS).',
        ...common,
      ],
    };
  };
  const milestoneTable = (media) => {
    const rows = MILESTONES.map((label) => [
      label,
      ...SCENARIOS.map((name) => {
        const times = samples[`${name}/${media}`]
          .map((sample) => sample.marks[label])
          .filter(Number.isFinite);
        return rounded(percentile(times, 50));
      }),
    ]);
    return {
      title: `Milestones, ${MEDIA_TITLES[media]} (p50, ms after t0)`,
      columns: ['Milestone', 'relaycall', 'floor', 'PeerJS'],
      rows,
      notes: [],
    };
  };
  const relaycallTable = (media) => ({
    title: `Where the time goes in relaycall, ${MEDIA_TITLES[media]} (ms after t0, first occurrence per call)`,
    columns: ['Event', 'seen in', 'p50', 'p95'],
    rows: breakdown(samples[`relaycall/${media}`]).map((r) => [r.event, r.seen, r.p50, r.p95]),
    notes: [
      'alice/bob → sent, ← received on that client’s Relay socket (JSON-RPC method, signal type).',
    ],
  });
  return {
    name: 'calls',
    tables: [
      ...MEDIA_MODES.map(callTable),
      ...MEDIA_MODES.map(milestoneTable),
      ...MEDIA_MODES.map(relaycallTable),
    ],
    results: {
      mode,
      warmup: plan.warmup,
      measured: plan.measured,
      // The issue's measure (start() acquires the media) decides; `beforehand` isolates signaling.
      goal: { ...goals['in-call'], beforehand: goals.beforehand },
      failures,
      jobs: Object.fromEntries(
        JOBS.map((job) => {
          const s = stats[job.key];
          return [
            job.key,
            {
              ...s,
              p50: round(s.p50, 2),
              p95: round(s.p95, 2),
              min: round(s.min, 2),
              max: round(s.max, 2),
              remoteStreamP50: round(s.remoteStreamP50, 2),
              connectedP50: round(s.connectedP50, 2),
              breakdown: breakdown(samples[job.key]),
            },
          ];
        }),
      ),
    },
  };
}
