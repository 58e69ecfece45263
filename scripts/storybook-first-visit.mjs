/**
 * How long a person waits for the first story after `npm start`: starts Storybook as `npm start`
 * does with an empty cache (nothing pre-bundled yet), opens it in headless Chromium the moment it
 * answers, and times each step until the story has rendered; then starts it again on the now warm
 * cache and times the same visit. Stories open peer connections: run it inside loopback.sh.
 *
 *   scripts/loopback.sh node scripts/storybook-first-visit.mjs [--path /story/phone--phone] [--runs 2]
 *
 * `--path`: the manager URL's path (default: none, the landing page, which opens the first entry).
 * Prints one JSON line per start, then a summary.
 */
import { parseArgs } from 'node:util';
import {
  emptyCacheDir,
  launchBrowser,
  probeContext,
  removeCacheDir,
  startProbeStorybook,
  waitForRendered,
} from './storybook-probe.mjs';

const { values } = parseArgs({
  options: {
    path: { type: 'string' },
    runs: { type: 'string', default: '1' },
    'no-warm': { type: 'boolean', default: false },
  },
});
const path = values.path ?? null;
const id = path ? path.replace(/^\/(story|docs)\//, '') : null;

/** Vite's optimizer at work: bundling at start, or dependencies found only once a page asked. */
const OPTIMIZER = /\[optimizer\]|new dependencies|optimized dependencies changed|reloading/i;

async function visit(browser, cacheDir, label) {
  const storybook = await startProbeStorybook({ cacheDir });
  const { context, log } = await probeContext(browser, { viewport: { width: 1280, height: 800 } });
  const ms = (at) => Math.round(at - storybook.readyAt);
  try {
    const page = await context.newPage();
    const url = `${storybook.url}/${path ? `?path=${path}` : ''}`;
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const managerShown = performance.now();
    const rendered = await waitForRendered(log, id, { timeoutMs: 180_000 });
    const result = {
      run: label,
      url: url.replace(storybook.url, ''),
      storybookReadyMs: storybook.readyMs,
      managerMs: ms(managerShown),
      firstRenderMs: ms(rendered.at),
      renderedEvent: `${rendered.name} ${rendered.id ?? ''}`.trim(),
      previewLoads: log.previewLoads,
      optimizerMessages: storybook
        .output()
        .split('\n')
        .filter((line) => OPTIMIZER.test(line))
        .map((line) => line.trim()),
    };
    if (id === 'phone--phone') {
      // The Phone story is ready when its Dialer is connected to the dev Relay.
      const preview = page.frameLocator('#storybook-preview-iframe');
      await preview
        .locator('.relaycall-dialer__status', { hasText: 'Ready' })
        .waitFor({ timeout: 60_000 });
      result.dialerReadyMs = ms(performance.now());
    }
    return result;
  } finally {
    await context.close();
    await storybook.stop();
  }
}

const browser = await launchBrowser();
const results = [];
try {
  for (let run = 1; run <= Number(values.runs); run += 1) {
    const cacheDir = await emptyCacheDir();
    try {
      results.push(await visit(browser, cacheDir, `cold ${run}`));
      console.log(JSON.stringify(results.at(-1)));
      if (!values['no-warm']) {
        results.push(await visit(browser, cacheDir, `warm ${run}`));
        console.log(JSON.stringify(results.at(-1)));
      }
    } finally {
      await removeCacheDir(cacheDir);
    }
  }
} finally {
  await browser.close();
}

const cell = (value, width) => String(value ?? '–').padStart(width);
console.log('\nrun      ready  manager  first render  total  preview loads  optimizer lines');
for (const r of results) {
  console.log(
    `${r.run.padEnd(8)} ${cell(r.storybookReadyMs, 5)}  ${cell(r.managerMs, 7)}  ` +
      `${cell(r.firstRenderMs, 12)}  ${cell(r.storybookReadyMs + r.firstRenderMs, 5)}  ` +
      `${cell(r.previewLoads, 13)}  ${r.optimizerMessages.length}`,
  );
}
console.log(
  'ms. ready: from starting storybook dev until it answers; manager, first render: from then ' +
    'until the Storybook UI loaded and the story rendered; total: both.',
);
