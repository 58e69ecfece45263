/**
 * A call between two Chromium tabs on the Phone story, driven as a person would: used by the
 * Storybook test (test/storybook/phone.test.ts) and by `npm run screenshot`. Runs Storybook
 * exactly as `npm start` does (the same flags, read from package.json), on a port of its own.
 * WebRTC: run the caller inside scripts/loopback.sh (only 127.0.0.1 exists there).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../', import.meta.url));

export { chromiumArgs, chromiumPath } from './chromium.mjs';

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * The `storybook dev` arguments of `npm start` (package.json), with `port` instead of 6006.
 * Throws when the start script is not a plain `storybook dev …` command.
 */
export async function startArgs(port) {
  const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8'));
  const words = String(manifest.scripts?.start ?? '').split(/\s+/);
  if (words[0] !== 'storybook' || words[1] !== 'dev') {
    throw new Error(`npm start is not "storybook dev …": ${manifest.scripts?.start}`);
  }
  const args = words.slice(1);
  const at = args.indexOf('--port');
  if (at === -1) args.push('--port', String(port));
  else args[at + 1] = String(port);
  return [...args, '--exact-port'];
}

/**
 * Starts Storybook as `npm start` does, on `port`, and resolves once it serves the preview.
 * The binary is started directly (not through npm) so that it can be stopped by its PID.
 */
export async function startStorybook(port, { timeoutMs = 120_000 } = {}) {
  const args = await startArgs(port);
  const child = spawn(join(repo, 'node_modules/.bin/storybook'), args, {
    cwd: repo,
    env: { ...process.env, STORYBOOK_DISABLE_TELEMETRY: '1', BROWSER: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`storybook dev exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/iframe.html`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`storybook dev did not answer within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    pid: child.pid,
    args,
    readyMs: Math.round(performance.now() - started),
    output: () => output,
    /** Stops this Storybook (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The Phone story's preview URL for one tab. */
export function phoneUrl(base, resource, callee) {
  return `${base}/iframe.html?id=phone--phone&viewMode=story&args=resource:${resource};callee:${callee}`;
}

/** Opens the Phone story as `resource` in a new tab of `context`; collects page errors. */
export async function openPhone(context, base, resource, callee, problems = []) {
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`${resource}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const where = message.location().url;
      problems.push(`${resource} console: ${message.text()}${where ? ` (${where})` : ''}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.push(`${resource}: HTTP ${response.status()} ${response.url()}`);
    }
  });
  await page.goto(phoneUrl(base, resource, callee));
  return page;
}

const status = (page) => page.locator('.relaycall-dialer__status');

/** Waits until the tab's Dialer announces exactly `text`. */
export async function waitForStatus(page, text, timeout = 20_000) {
  await status(page).filter({ hasText: text }).waitFor({ timeout });
}

/** The tab's remote video element. */
export const remoteVideo = (page) => page.locator('.story-call__remote video');

/**
 * Waits until the tab's remote video shows live frames, then samples it twice `gapMs` apart:
 * `{ width, height, before, after }` with `after > before` when frames keep arriving.
 */
export async function liveRemoteVideo(page, { timeout = 20_000, gapMs = 500 } = {}) {
  const video = remoteVideo(page);
  await video.evaluate(
    (element, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no remote frames within ${ms} ms`)), ms);
        const check = () => {
          if (element.videoWidth > 0 && element.currentTime > 0 && !element.paused) {
            clearTimeout(timer);
            resolve(undefined);
          } else {
            setTimeout(check, 50);
          }
        };
        check();
      }),
    timeout,
  );
  const sample = () =>
    video.evaluate((element) => ({
      width: element.videoWidth,
      height: element.videoHeight,
      time: element.currentTime,
    }));
  const first = await sample();
  await page.waitForTimeout(gapMs);
  const second = await sample();
  return { width: second.width, height: second.height, before: first.time, after: second.time };
}

/**
 * alice calls bob from her tab, bob accepts in his; resolves once both are in the call, with
 * how long each step took.
 */
export async function placeCall(alice, bob, names = { alice: 'alice', bob: 'bob' }) {
  const timings = {};
  let mark = performance.now();
  const lap = (name) => {
    const now = performance.now();
    timings[name] = Math.round(now - mark);
    mark = now;
  };
  // The first page a fresh Storybook serves waits for Vite to pre-bundle the dependencies.
  await Promise.all([waitForStatus(alice, 'Ready', 120_000), waitForStatus(bob, 'Ready', 120_000)]);
  lap('connected');
  await alice.getByRole('button', { name: 'Call', exact: true }).click();
  await waitForStatus(bob, `Incoming call from ${names.alice}`);
  lap('ringing');
  await bob.getByRole('button', { name: 'Accept' }).click();
  await Promise.all([
    waitForStatus(alice, `In call with ${names.bob}`),
    waitForStatus(bob, `In call with ${names.alice}`),
  ]);
  lap('active');
  return timings;
}
