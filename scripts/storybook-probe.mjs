/**
 * What a person sees when they open `npm start`'s Storybook, measured in headless Chromium: the
 * preview's own events (story rendered, docs rendered, play finished or failed), every console
 * message of the manager and the preview, and every failed request. Shared by
 * scripts/storybook-first-visit.mjs (how long a cold start takes to show its first story) and
 * scripts/storybook-console.mjs (what each story prints). Stories open peer connections: run the
 * scripts inside scripts/loopback.sh.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright';
import { chromiumArgs, chromiumPath, freePort, startStorybook } from './phone-call.mjs';

/** Preview channel events worth a timestamp. */
const EVENTS = [
  'storyRendered',
  'storyFinished',
  'docsRendered',
  'storyErrored',
  'storyMissing',
  'storyThrewException',
  'playFunctionThrewException',
  'unhandledErrorsWhilePlaying',
];
const FAILED = new Set(EVENTS.slice(3));

/** A new, empty Storybook cache directory (Vite's pre-bundled dependencies live in it). */
export function emptyCacheDir() {
  return mkdtemp(join(tmpdir(), 'storybook-cache-'));
}

export const removeCacheDir = (dir) => rm(dir, { recursive: true, force: true });

/**
 * Starts Storybook as `npm start` does, with its cache in `cacheDir` (Storybook's cache follows
 * `CACHE_DIR`): an empty one gives a cold start without touching the checkout's node_modules/.cache.
 * `readyAt`: performance.now() when `storybook dev` answered.
 */
export async function startProbeStorybook({ cacheDir } = {}) {
  const saved = process.env.CACHE_DIR;
  if (cacheDir) process.env.CACHE_DIR = cacheDir;
  const started = performance.now();
  try {
    const storybook = await startStorybook(await freePort());
    return { ...storybook, readyAt: started + storybook.readyMs };
  } finally {
    if (saved === undefined) delete process.env.CACHE_DIR;
    else process.env.CACHE_DIR = saved;
  }
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
}

/**
 * A browser context that reports the preview's channel events (`events`, with performance.now()
 * times of this process), console messages and page errors (`console`), failed requests
 * (`failed`) and preview document loads (`previewLoads`), for every page and frame in it.
 */
export async function probeContext(browser, options = {}) {
  const context = await browser.newContext(options);
  const log = { events: [], console: [], failed: [], previewLoads: 0, emitter: new EventEmitter() };
  await context.exposeBinding('__probeEvent', (_source, name, id) => {
    const event = { name, id, at: performance.now() };
    log.events.push(event);
    log.emitter.emit('event', event);
  });
  await context.addInitScript((names) => {
    // Every frame: a preview iframe's window may be the one of its first about:blank document.
    let channel;
    Object.defineProperty(globalThis, '__STORYBOOK_ADDONS_CHANNEL__', {
      configurable: true,
      get: () => channel,
      set(next) {
        channel = next;
        if (!next || next.probed) return;
        next.probed = true;
        // The preview's own emits go to the manager, not to its listeners: note them on the way.
        const emit = next.emit;
        next.emit = function (name, arg, ...rest) {
          if (names.includes(name) && globalThis.location.pathname.endsWith('/iframe.html')) {
            const id = typeof arg === 'string' ? arg : (arg?.storyId ?? arg?.id ?? null);
            void globalThis.__probeEvent(name, id);
          }
          return emit.call(this, name, arg, ...rest);
        };
      },
    });
  }, EVENTS);
  context.on('page', (page) => watch(page, log));
  return { context, log };
}

function watch(page, log) {
  page.on('console', (message) => {
    const { url, lineNumber } = message.location();
    log.console.push({
      type: message.type(),
      text: message.text(),
      source: url ? `${url.replace(/^https?:\/\/[^/]+/, '')}:${lineNumber}` : '',
    });
  });
  page.on('pageerror', (error) => {
    log.console.push({ type: 'pageerror', text: error.message, source: '' });
  });
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? 'failed';
    // A navigation away cancels what the old page still loads: not something the user sees.
    if (failure === 'net::ERR_ABORTED') return;
    log.failed.push({ status: failure, url: request.url() });
  });
  page.on('response', (response) => {
    if (response.status() >= 400)
      log.failed.push({ status: response.status(), url: response.url() });
  });
  page.on('request', (request) => {
    // A document load of the preview (the first one, or a reload), not a history update.
    if (request.isNavigationRequest() && request.url().includes('/iframe.html')) {
      log.previewLoads += 1;
    }
  });
}

/**
 * Waits until the preview has rendered `id` (null: anything) or reported that it failed; returns
 * the event that ended the wait. `finished`: for a story, wait until its play function is done.
 */
export async function waitForRendered(
  log,
  id,
  { since = 0, finished = false, timeoutMs = 120_000 } = {},
) {
  const story = finished ? 'storyFinished' : 'storyRendered';
  const wanted = (event) =>
    id === null
      ? event.name === 'docsRendered' || event.name === story
      : event.id === id && event.name === (id.endsWith('--docs') ? 'docsRendered' : story);
  const done = (event) => event.at >= since && (FAILED.has(event.name) || wanted(event));
  const seen = log.events.find(done);
  if (seen) return seen;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      log.emitter.off('event', check);
      reject(new Error(`${id} did not render within ${timeoutMs} ms`));
    }, timeoutMs);
    function check(event) {
      if (!done(event)) return;
      clearTimeout(timer);
      log.emitter.off('event', check);
      resolve(event);
    }
    log.emitter.on('event', check);
  });
}

/** The entries of the story index: `{ id, type, title, name }`. */
export async function storyIndex(url) {
  const index = await (await fetch(`${url}/index.json`)).json();
  return Object.values(index.entries).map(({ id, type, title, name }) => ({
    id,
    type,
    title,
    name,
  }));
}
