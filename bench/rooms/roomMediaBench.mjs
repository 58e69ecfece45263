/**
 * Rooms, mesh vs SFU: upload bytes per participant and the Relay's CPU, for rooms of 2, 4 and 6
 * participants, each a Chromium page (its own renderer, fake 640×480 camera) with its own
 * RelayClient. Mesh rooms peer every pair; sfu rooms send each participant's media once, to a
 * real Janus (Debian's package) the Relay controls. Both run in the same process, one after the
 * other, so the figures sit side by side.
 *
 * Upload: bytes of every outbound RTP stream of a page (audio, video, every simulcast layer)
 * over the measurement window, averaged over the participants. Relay CPU: this process's CPU
 * time over the window (the Relay runs here; the bench itself only waits meanwhile), per second.
 *
 * Janus needs the veth pair of scripts/loopback.sh (it gathers no candidates on loopback).
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { servePage } from '../lib/servePage.mjs';
import { ratio, round } from '../lib/stats.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

const MODES = {
  // CI runs quick mode on a loaded 2-core machine: six pages at once did not always connect there.
  quick: { sizes: [2, 4], warmupMs: 2_000, windowMs: 3_000 },
  full: { sizes: [2, 4, 6], warmupMs: 5_000, windowMs: 10_000 },
};
const SETUP_TIMEOUT_MS = 60_000;
const PAGE = '<!doctype html><meta charset="utf-8"><script type="module" src="/main.js"></script>';

export async function run({ mode, log }) {
  const plan = MODES[mode];
  const { startJanus, startTestRelay } = await import('../../dist/testing/index.js');
  const cleanups = [];
  try {
    const janus = await startJanus();
    cleanups.push(() => janus.stop());
    const relay = await startTestRelay({ janus: { url: janus.url, secret: janus.secret } });
    cleanups.push(() => relay.close());
    await until(() => relay.server.stats().sfu?.available, 'the Relay reaching Janus');
    const site = await servePage(here('./page.ts'), PAGE);
    cleanups.push(() => site.close());
    const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    cleanups.push(() => browser.close());
    log(`Relay ${relay.url}, Janus ${janus.url}, page ${site.url}`);

    const results = [];
    for (const size of plan.sizes) {
      for (const media of ['mesh', 'sfu']) {
        const result = await measure({ browser, relay, site, size, media, plan });
        log(
          `${media} × ${size}: ${round(result.uploadKbps, 0)} kbit/s up per participant, ` +
            `Relay CPU ${round(result.relayCpuMsPerS, 1)} ms/s`,
        );
        results.push(result);
      }
    }
    return report(results, plan);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

async function measure({ browser, relay, site, size, media, plan }) {
  const room = `${media}-${size}-${Math.random().toString(36).slice(2, 8)}`;
  const contexts = [];
  try {
    const pages = [];
    for (let i = 0; i < size; i += 1) {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(site.url);
      await page.waitForFunction(() => typeof globalThis.bench === 'object');
      pages.push(page);
    }
    const tokens = await Promise.all(
      pages.map((_, i) => relay.issueToken(`p${i}`, { scopes: ['rooms:join'] })),
    );
    await Promise.all(
      pages.map((page, i) =>
        page.evaluate((config) => globalThis.bench.join(config), {
          url: relay.url,
          token: tokens[i],
          room,
          media,
        }),
      ),
    );
    await Promise.all(
      pages.map((page) =>
        page.waitForFunction(
          ([name, others]) => globalThis.bench.receives(name, others),
          [room, size - 1],
          { timeout: SETUP_TIMEOUT_MS },
        ),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, plan.warmupMs));
    const sent = () =>
      Promise.all(pages.map((page) => page.evaluate(() => globalThis.bench.bytesSent())));
    const before = await sent();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, plan.windowMs));
    const cpu = process.cpuUsage(cpuBefore);
    const seconds = (performance.now() - started) / 1000;
    const after = await sent();
    const perParticipant =
      after.reduce((sum, bytes, i) => sum + bytes - (before[i] ?? 0), 0) / size / seconds;
    return {
      size,
      media,
      uploadKbps: (perParticipant * 8) / 1000,
      relayCpuMsPerS: (cpu.user + cpu.system) / 1000 / seconds,
    };
  } finally {
    for (const context of contexts) await context.close().catch(() => undefined);
  }
}

function report(results, plan) {
  const find = (size, media) => results.find((r) => r.size === size && r.media === media);
  const rows = plan.sizes.map((size) => {
    const mesh = find(size, 'mesh');
    const sfu = find(size, 'sfu');
    return [
      size,
      round(mesh.uploadKbps, 0),
      round(sfu.uploadKbps, 0),
      ratio(sfu.uploadKbps, mesh.uploadKbps),
      round(mesh.relayCpuMsPerS, 1),
      round(sfu.relayCpuMsPerS, 1),
    ];
  });
  return {
    results,
    tables: [
      {
        title: 'Rooms: upload per participant and Relay CPU, mesh vs SFU (Janus)',
        columns: [
          'participants',
          'mesh upload kbit/s',
          'sfu upload kbit/s',
          'sfu/mesh',
          'Relay CPU mesh ms/s',
          'Relay CPU sfu ms/s',
        ],
        rows,
        notes: [
          `each participant a Chromium page, fake 640×480 camera at 30 fps; ${plan.windowMs / 1000} s window after ${plan.warmupMs / 1000} s warm-up`,
          'upload: every outbound RTP stream (audio, video, each simulcast layer); sfu publishers send simulcast, mesh peers one stream per other participant',
          'Relay CPU: the bench process (the Relay and its Janus client run in it; the bench only waits during the window)',
        ],
      },
    ],
  };
}

async function until(check, what) {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
