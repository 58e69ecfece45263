/**
 * What the browser console shows a person who opens each story of `npm start`'s Storybook:
 * starts Storybook as `npm start` does (with an empty cache of its own, as after a fresh clone),
 * opens every entry of the story index in a new headless Chromium tab, once in the Storybook UI
 * (`/?path=…`) and once on its own (`/iframe.html?id=…`, as the Phone story's docs suggest), waits
 * until it has rendered and its play function has finished, and collects every console message,
 * page error and failed request. Stories open peer connections: run it inside loopback.sh.
 *
 *   scripts/loopback.sh node scripts/storybook-console.mjs [--out report.json] [--only ID,ID] [--warm]
 *
 * Prints each story's messages and a summary of the distinct ones; `--out` writes all as JSON.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  emptyCacheDir,
  launchBrowser,
  probeContext,
  removeCacheDir,
  startProbeStorybook,
  storyIndex,
  waitForRendered,
} from './storybook-probe.mjs';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    only: { type: 'string' },
    warm: { type: 'boolean', default: false },
  },
});

/** Messages Vite's client prints on every page load, at debug level: not noise a person sees. */
const VITE_CLIENT = /^\[vite\] (connecting|connected)/;

const cacheDir = values.warm ? undefined : await emptyCacheDir();
const storybook = await startProbeStorybook({ cacheDir });
const browser = await launchBrowser();
const visits = [];
try {
  const only = values.only?.split(',');
  const entries = (await storyIndex(storybook.url)).filter(
    (entry) => !only || only.includes(entry.id),
  );
  for (const mode of ['manager', 'iframe']) {
    for (const entry of entries) {
      const viewMode = entry.type === 'docs' ? 'docs' : 'story';
      const path =
        mode === 'manager'
          ? `/?path=/${viewMode}/${entry.id}`
          : `/iframe.html?id=${entry.id}&viewMode=${viewMode}`;
      const { context, log } = await probeContext(browser, {
        viewport: { width: 1280, height: 800 },
      });
      const started = performance.now();
      let outcome;
      try {
        const page = await context.newPage();
        await page.goto(`${storybook.url}${path}`);
        const event = await waitForRendered(log, entry.id, { finished: true, timeoutMs: 90_000 });
        outcome = event.name;
        // Whatever the page still had in flight (a video starting, a last request) lands too.
        await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => undefined);
      } catch (error) {
        outcome = `not rendered: ${error.message}`;
      } finally {
        await context.close();
      }
      const visit = {
        mode,
        id: entry.id,
        path,
        outcome,
        ms: Math.round(performance.now() - started),
        console: log.console.filter((message) => !VITE_CLIENT.test(message.text)),
        failed: log.failed,
      };
      visits.push(visit);
      const count = visit.console.length + visit.failed.length;
      console.log(`${mode.padEnd(7)} ${entry.id.padEnd(48)} ${outcome} ${visit.ms} ms, ${count}`);
      for (const message of visit.console) {
        console.log(`    ${message.type}: ${message.text.split('\n')[0].slice(0, 160)}`);
      }
      for (const failure of visit.failed)
        console.log(`    request ${failure.status} ${failure.url}`);
    }
  }
  // Vite's optimizer at work: a dependency found only when a page asks for it reloads the page.
  const optimizer = storybook
    .output()
    .split('\n')
    .filter((line) =>
      /\[optimizer\]|new dependencies|optimized dependencies|reloading/i.test(line),
    );
  console.log(`Storybook's optimizer lines:\n${optimizer.join('\n') || '  (none)'}`);
} finally {
  await browser.close();
  await storybook.stop();
  if (cacheDir) await removeCacheDir(cacheDir);
}

/** One line per distinct message (numbers and random names folded), with how many visits. */
const distinct = new Map();
const fold = (text) =>
  text
    .split('\n')[0]
    .replace(/(alice|bob|nobody)-[a-z0-9]{5}/g, '$1-…')
    .replace(/\d+/g, 'N')
    .slice(0, 200);
for (const visit of visits) {
  const seen = new Set();
  for (const message of visit.console) seen.add(`${message.type}: ${fold(message.text)}`);
  for (const failure of visit.failed) {
    seen.add(`request ${failure.status} ${failure.url.replace(storybook.url, '')}`);
  }
  for (const key of seen) {
    const entry = distinct.get(key) ?? { visits: 0, modes: new Set() };
    entry.visits += 1;
    entry.modes.add(visit.mode);
    distinct.set(key, entry);
  }
}
const notRendered = visits.filter((visit) => !/^(storyFinished|docsRendered)$/.test(visit.outcome));
console.log(
  `\n${visits.length} visits, ${visits.filter((v) => v.console.length + v.failed.length === 0).length} ` +
    `without a console message or failed request; ${notRendered.length} did not render cleanly.`,
);
for (const visit of notRendered) console.log(`  ${visit.mode} ${visit.id}: ${visit.outcome}`);
console.log(`${distinct.size} distinct messages / failed requests:`);
for (const [key, { visits: count, modes }] of [...distinct].sort(
  (a, b) => b[1].visits - a[1].visits,
)) {
  console.log(`  ${String(count).padStart(3)}× [${[...modes].join(', ')}] ${key}`);
}
if (values.out) {
  await writeFile(values.out, `${JSON.stringify(visits, null, 2)}\n`);
  console.log(`Wrote ${values.out}`);
}
