/**
 * Call setup through the SIP gateway, beside a browser-to-browser call: audio-only calls placed
 * by a relaycall client in Chromium, timed from just before `client.call()` to the call's state
 * `active` and to the first inbound audio RTP packet at the caller.
 *
 * - `sip`: `client.call('sip:echo@10.77.0.2:PORT')` through the Relay's SIP gateway: the Relay
 *   (this process) drives a real Janus (Debian's package, SIP plugin) that sends the INVITE to
 *   sipp (scenario uas-echo: 100, 180, 200 at once, then echoes the RTP it receives). `active`
 *   = SIP 200 received and ICE and DTLS connected with Janus; the first audio packet is the caller's own
 *   audio echoed back by sipp through Janus.
 * - `browser`: `client.call('bob')` to a second Chromium page whose client answers at once, audio
 *   only, through the same Relay. `active` = the call's data channel is open (ICE + DTLS + SCTP);
 *   the first audio packet is bob's microphone.
 *
 * Both sides run in the same process and Chromium, round-robin (the order flipping every
 * iteration), the first iteration of each a discarded warm-up. Between calls the caller hangs
 * up and waits for `ended` (and for the gateway's SIP leg, or bob's call, to be gone).
 *
 * Janus and sipp need the veth pair of scripts/loopback.sh (10.77.0.1 / 10.77.0.2).
 */
import { noteFailure } from '../lib/failures.mjs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { servePage } from '../lib/servePage.mjs';
import { percentile, ratio, round } from '../lib/stats.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

const PAGE = '<!doctype html><meta charset="utf-8"><script type="module" src="/main.js"></script>';
const MODES = {
  quick: { warmup: 1, measured: 5, timeoutMs: 90_000 },
  full: { warmup: 1, measured: 20, timeoutMs: 300_000 },
};
/** Bound on each wait inside one call (state active, first audio packet…), in ms. */
const STEP_TIMEOUT_MS = 10_000;
/** A failed call is logged, counted and left out; more than this aborts the section. */
const MAX_FAILED_CALLS = 3;
/** Pause between two calls so the previous call's teardown does not land in the next one. */
const SETTLE_MS = 100;
const SCENARIOS = ['sip', 'browser'];
const LABELS = {
  sip: 'browser → SIP (Janus SIP plugin → sipp, answers at once)',
  browser: 'browser → browser (audio only, answers at once)',
};
const SCOPES = ['calls:dial', 'calls:receive', 'calls:sip', 'calls:pstn'];
/** Milestones of the breakdown table, as the page names them, in call order. */
const MILESTONES = [
  'caller: microphone acquired',
  'peer connection created',
  'state ringing',
  'state connecting',
  'remote stream',
  'ICE connected',
  'peer connection connected (ICE+DTLS)',
  'state active',
  'first inbound audio packet',
];

export async function run({ mode = 'quick', log = console.log } = {}) {
  const plan = MODES[mode] ?? MODES.quick;
  const deadline = Date.now() + plan.timeoutMs;
  const cleanups = [];
  const bounded = (promise, label) => {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `sip bench: timed out after ${plan.timeoutMs / 1000} s (${mode} mode), during ${label}`,
            ),
          ),
        Math.max(0, deadline - Date.now()),
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  };

  let testing;
  try {
    testing = await import('../../dist/testing/index.js');
  } catch (error) {
    throw new Error('sip bench: dist/ is missing: run `npm run build` first.', { cause: error });
  }
  const { startJanus, startSipp, sippScenario, startTestRelay } = testing;
  if (!startSipp) throw new Error('sip bench: dist/ has no startSipp: run `npm run build` first.');

  try {
    const iterations = plan.warmup + plan.measured;
    const [janus, sipp] = await bounded(
      Promise.all([
        startJanus({ plugins: ['sip'] }),
        // One sipp call per SIP call placed (and a few spare for failed ones); it exits after.
        startSipp({ scenario: sippScenario('uas-echo'), calls: iterations + MAX_FAILED_CALLS + 1 }),
      ]),
      'starting Janus and sipp',
    );
    cleanups.push(
      () => janus.stop(),
      () => sipp.stop(),
    );
    const relay = await bounded(
      startTestRelay({
        project: { id: 'acme', token: randomBytes(24).toString('hex') },
        janus: { url: janus.url, secret: janus.secret },
        sip: {
          trunks: {
            acme: {
              proxy: `sip:${sipp.address}`,
              domain: 'trunk.example',
              numbers: ['+15550001111'],
              sipDomains: [sipp.address.split(':')[0]],
            },
          },
        },
      }),
      'starting the Relay',
    );
    cleanups.push(() => relay.close());
    const sipStats = () => relay.server.stats().sip;
    await bounded(
      until(() => sipStats()?.available === true, 30_000),
      'the SIP gateway coming up',
    );
    const site = await bounded(servePage(here('./page.ts'), PAGE), 'bundling and serving the page');
    cleanups.push(() => site.close());
    const browser = await bounded(
      chromium.launch({ executablePath: chromiumPath, args: chromiumArgs }),
      'launching Chromium',
    );
    cleanups.push(() => browser.close());
    log(`Relay ${relay.url}, Janus ${janus.url}, sipp ${sipp.address}, page ${site.url}`);

    const [alice, bob] = await bounded(
      Promise.all([
        relay.issueToken('alice', { scopes: SCOPES }),
        relay.issueToken('bob', { scopes: SCOPES }),
      ]),
      'issuing tokens',
    );
    const open = async (role, token) => {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', (error) => log(`${role} page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') log(`${role} page console: ${message.text()}`);
      });
      await page.goto(site.url);
      await page.waitForFunction(() => typeof globalThis.bench === 'object');
      await page.evaluate((config) => globalThis.bench.setup(config), {
        relayUrl: relay.url,
        token,
        role,
        stepTimeoutMs: STEP_TIMEOUT_MS,
      });
      return page;
    };
    const caller = await bounded(open('caller', alice), 'opening the caller page');
    const callee = await bounded(open('callee', bob), 'opening the callee page');
    const targets = { sip: `sip:echo@${sipp.address}`, browser: 'bob' };

    const samples = { sip: [], browser: [] };
    const failures = [];
    for (let i = 0; i < iterations; i += 1) {
      const order = i % 2 === 0 ? SCENARIOS : [...SCENARIOS].reverse();
      const line = [];
      for (const scenario of order) {
        const label = `call ${i + 1}/${iterations} (${scenario})`;
        const sample = await bounded(
          caller
            .evaluate((to) => globalThis.bench.run(to), targets[scenario])
            .catch((error) => ({ error })),
          label,
        );
        // The far end's side of the call is gone before the next call starts.
        const gone =
          scenario === 'sip'
            ? until(() => (sipStats()?.calls ?? 0) === 0, STEP_TIMEOUT_MS)
            : callee.waitForFunction(() => globalThis.bench.idle(), null, {
                timeout: STEP_TIMEOUT_MS,
              });
        await bounded(gone, `${label}: the far end hanging up`);
        if (sample.error) {
          noteFailure({
            failures,
            key: scenario,
            iteration: i,
            error: sample.error,
            label,
            log,
            max: MAX_FAILED_CALLS,
            bench: 'sip',
          });
          line.push(`${scenario} failed`);
        } else {
          if (i >= plan.warmup) samples[scenario].push(sample);
          line.push(
            `${scenario} active ${sample.activeMs.toFixed(0)} / audio ${sample.firstAudioMs.toFixed(0)}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      }
      log(
        `${i < plan.warmup ? 'warm-up' : `call ${i + 1 - plan.warmup}/${plan.measured}`}: ${line.join(', ')}`,
      );
    }
    await Promise.all(
      [caller, callee].map((page) => page.evaluate(() => globalThis.bench.teardown())),
    );
    return report({ mode, plan, samples, failures });
  } finally {
    for (const close of cleanups.splice(0).reverse()) {
      await close().catch((error) => log(`cleanup: ${error?.message ?? error}`));
    }
  }
}

/** Resolves once `check()` is true; rejects after `ms`. */
async function until(check, ms) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function stats(values) {
  return {
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
  };
}

const r1 = (value) => round(value, 1);

function report({ mode, plan, samples, failures }) {
  const summary = Object.fromEntries(
    SCENARIOS.map((scenario) => {
      const list = samples[scenario];
      const active = stats(list.map((s) => s.activeMs));
      const audio = stats(list.map((s) => s.firstAudioMs));
      const milestones = Object.fromEntries(
        MILESTONES.map((label) => [
          label,
          r1(percentile(list.map((s) => s.marks[label]).filter(Number.isFinite), 50)),
        ]),
      );
      return [
        scenario,
        {
          calls: list.length,
          failed: failures.filter((f) => f.key === scenario).length,
          active: mapValues(active, (v) => round(v, 2)),
          firstAudio: mapValues(audio, (v) => round(v, 2)),
          milestonesP50: milestones,
          activeSamplesMs: list.map((s) => r1(s.activeMs)),
          firstAudioSamplesMs: list.map((s) => r1(s.firstAudioMs)),
        },
      ];
    }),
  );
  const setup = `${plan.measured} calls each (+${plan.warmup} warm-up discarded), ${mode} mode`;
  const rows = [];
  for (const [measure, key] of [
    ['call() → active', 'active'],
    ['call() → first inbound audio packet', 'firstAudio'],
  ]) {
    for (const scenario of SCENARIOS) {
      const s = summary[scenario];
      rows.push([
        LABELS[scenario],
        measure,
        s.calls,
        s.failed,
        r1(s[key].p50),
        r1(s[key].p95),
        r1(s[key].min),
        r1(s[key].max),
        ratio(s[key].p50, summary.browser[key].p50),
      ]);
    }
  }
  return {
    name: 'sip',
    tables: [
      {
        title: `Call setup, browser → SIP answer vs browser → browser, audio only (ms), ${setup}`,
        columns: [
          'Call',
          'measure',
          'calls',
          'failed',
          'p50',
          'p95',
          'min',
          'max',
          'p50 ÷ browser',
        ],
        rows,
        notes: [
          'One relaycall client per headless Chromium page (fake microphone), loopback and the namespace’s veth pair only, iceServers: []; the Relay runs in the bench process, Janus (SIP plugin) and sipp (uas-echo: 100, 180 and 200 sent at once, RTP echoed back) beside it. SIP and browser calls alternate, the order flipping each iteration; 100 ms pause between calls.',
          't0: just before client.call(to, { audio: true, video: false }) (the microphone is acquired inside the timed region). active: the call’s state becomes active: for the SIP call SIP 200 received and ICE and DTLS connected with Janus, for the browser call the data channel open. first inbound audio packet: inbound-rtp audio packetsReceived > 0 in getStats of the caller’s peer connection, polled every 5 ms; for the SIP call that is the caller’s own audio echoed by sipp through Janus.',
          'failed: calls that did not get there (their error is logged and kept in the results), left out of the figures.',
        ],
      },
      {
        title: `Milestones of the caller's call (p50, ms after t0), ${setup}`,
        columns: ['Milestone', 'browser → SIP', 'browser → browser'],
        rows: MILESTONES.map((label) => [
          label,
          summary.sip.milestonesP50[label],
          summary.browser.milestonesP50[label],
        ]),
        notes: [
          'state ringing/connecting: the caller’s call state; remote stream: the remote track reached the caller; ICE connected / connected (ICE+DTLS): the first peer connection of the call reaching that state.',
        ],
      },
    ],
    results: {
      mode,
      warmup: plan.warmup,
      measured: plan.measured,
      failures,
      scenarios: summary,
    },
  };
}

function mapValues(object, fn) {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, fn(value)]));
}
