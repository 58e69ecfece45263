/**
 * What `npm start` gives a person: Storybook on loopback with the live Relay inside it, where two
 * browser tabs on the Phone story (alice and bob) call each other with live video, and four tabs
 * on the Room story meet in one mesh room. Starts
 * Storybook with npm start's own flags (on a free port) and drives two Chromium tabs. Runs inside
 * scripts/loopback.sh like every WebRTC test.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumArgs,
  chromiumPath,
  freePort,
  liveRemoteVideo,
  openPhone,
  placeCall,
  startStorybook,
  waitForStatus,
  type RunningStorybook,
} from '../../scripts/phone-call.mjs';

let storybook: RunningStorybook | undefined;
let browser: Browser | undefined;
const timings: Record<string, number> = {};

beforeAll(async () => {
  storybook = await startStorybook(await freePort());
  timings.storybookReady = storybook.readyMs;
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await storybook?.stop();
  if (Object.keys(timings).length > 0) console.info('storybook phone timings (ms):', timings);
});

describe('npm start', () => {
  it('serves Storybook on 127.0.0.1 with the live Relay, prints its URL, and lists the stories', async () => {
    const { url, args } = storybook!;
    expect(args).toEqual(expect.arrayContaining(['dev', '--host', '127.0.0.1', '--no-open']));
    expect(storybook!.output()).toContain(`${url}/`);
    expect(storybook!.output()).toContain('relaycall: Relay mounted on this server');

    const manager = await fetch(`${url}/`);
    expect(manager.status).toBe(200);
    expect(await manager.text()).toContain('<html');
    // The Relay and its dev token endpoint answer on Storybook's own server.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const token = await fetch(`${url}/api/relaycall/dev-token?resource=alice`);
    expect(((await token.json()) as { token?: unknown }).token).toEqual(expect.any(String));

    const index = (await (await fetch(`${url}/index.json`)).json()) as {
      entries: Record<string, { type: string }>;
    };
    const ids = Object.keys(index.entries);
    const dialerStates = [
      'idle',
      'typing',
      'dialing',
      'ringing-out',
      'incoming',
      'answered',
      'active-with-keypad',
      'held',
      'held-by-remote',
      'muted',
      'ended-hangup',
      'ended-cancelled',
      'ended-declined',
      'ended-busy',
      'ended-unavailable',
      'ended-no-answer',
      'ended-answered-elsewhere',
      'ended-forbidden',
      'ended-disconnected',
      'ended-failed',
      'connection-error',
      'disconnected',
    ];
    const tiles = [
      'live-local-camera',
      'remote',
      'no-video',
      'nobody',
      'muted',
      'autoplay-blocked',
    ];
    expect(ids).toEqual(
      expect.arrayContaining([
        'phone--phone',
        'phone--live',
        'room--room',
        'room--live',
        'room--join-and-leave',
        'room--active-speaker',
        'room--full-room',
        ...dialerStates.map((state) => `components-dialer--${state}`),
        ...tiles.map((tile) => `components-videotile--${tile}`),
        'components-relayprovider--connected',
        // Docs pages from the components' JSDoc.
        'components-dialer--docs',
        'components-videotile--docs',
        'components-relayprovider--docs',
      ]),
    );
  });

  it('lets two tabs on the Phone story, alice and bob, call each other with live video', async () => {
    const { url } = storybook!;
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    // One browser window, two tabs, as a person would test it.
    const context: BrowserContext = await browser.newContext();
    const problems: string[] = [];
    const t0 = performance.now();
    const [alice, bob] = await Promise.all([
      openPhone(context, url, 'alice', 'bob', problems),
      openPhone(context, url, 'bob', 'alice', problems),
    ]);
    Object.assign(timings, await placeCall(alice, bob));
    timings.loadedToActive = Math.round(performance.now() - t0);

    // Each tab sees the other's camera: frames arrive and keep arriving.
    const t1 = performance.now();
    const bobSees = await liveRemoteVideo(bob);
    const aliceSees = await liveRemoteVideo(alice);
    timings.video = Math.round(performance.now() - t1);
    for (const seen of [bobSees, aliceSees]) {
      expect(seen.width).toBeGreaterThan(0);
      expect(seen.height).toBeGreaterThan(0);
      expect(seen.after).toBeGreaterThan(seen.before);
    }
    expect(await alice.locator('.story-call__remote figcaption').textContent()).toBe('bob');
    expect(await bob.locator('.story-call__remote figcaption').textContent()).toBe('alice');

    // alice hangs up: the call ends in both tabs.
    const t2 = performance.now();
    await alice.getByRole('button', { name: 'Hang up' }).click();
    await Promise.all([waitForStatus(alice, 'Call ended'), waitForStatus(bob, 'Call ended')]).catch(
      async (error: unknown) => {
        const said = await Promise.all(
          [alice, bob].map((page) => page.locator('.relaycall-dialer__status').textContent()),
        );
        throw new Error(`after hanging up, alice says "${said[0]}", bob "${said[1]}"`, {
          cause: error,
        });
      },
    );
    timings.ended = Math.round(performance.now() - t2);
    expect(await bob.locator('.relaycall-dialer').getAttribute('data-state')).toBe('ended');
    // Nothing may fail, the favicon included (.storybook/preview-head.html links Storybook's).
    expect(problems).toEqual([]);
    console.info(
      `phone call: bob saw ${bobSees.width}x${bobSees.height} (${bobSees.before.toFixed(2)} → ${bobSees.after.toFixed(2)} s), ` +
        `alice saw ${aliceSees.width}x${aliceSees.height}`,
    );
  }, 240_000);

  it('lets four tabs on the Room story meet in one mesh room; one leaves and the others keep going', async () => {
    const { url } = storybook!;
    browser ??= await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    const context = await browser.newContext();
    const problems: string[] = [];
    const names = ['ann', 'ben', 'cat', 'dan'];
    const tabs = await Promise.all(
      names.map(async (resource) => {
        const page = await context.newPage();
        page.on('pageerror', (error) => problems.push(`${resource}: ${error.message}`));
        await page.goto(
          `${url}/iframe.html?id=room--room&viewMode=story&args=resource:${resource}`,
        );
        await page.getByRole('button', { name: 'Join', exact: true }).click();
        return page;
      }),
    );
    const t0 = performance.now();
    // Each tab decodes the three others' cameras: frames arrive in every remote tile.
    for (const tab of tabs) await decodingRemotes(tab, 3);
    timings.roomMeshed = Math.round(performance.now() - t0);

    await tabs[0]!.getByRole('button', { name: 'Leave', exact: true }).click();
    for (const tab of tabs.slice(1)) await decodingRemotes(tab, 2);
    expect(problems).toEqual([]);
    await context.close();
  }, 240_000);
});

/**
 * Waits until the tab shows exactly `count` remote tiles whose videos advance, each sampled twice.
 * Remote tiles are the grid's tiles but the local one.
 */
async function decodingRemotes(page: Page, count: number) {
  const tiles = page.locator('.relaycall-room__tile:not([data-local])[data-state="joined"] video');
  await expect
    .poll(() => tiles.count(), { timeout: 30_000, message: `${count} remote tiles` })
    .toBe(count);
  const times = () =>
    tiles.evaluateAll((videos) =>
      (videos as HTMLVideoElement[]).map((v) => ({ w: v.videoWidth, t: v.currentTime })),
    );
  await expect
    .poll(async () => (await times()).every((v) => v.w > 0 && v.t > 0), {
      timeout: 30_000,
      message: 'every remote video has frames',
    })
    .toBe(true);
  const before = await times();
  await expect
    .poll(async () => (await times()).every((v, i) => v.t > (before[i]?.t ?? Infinity)), {
      timeout: 10_000,
      message: 'every remote video keeps advancing',
    })
    .toBe(true);
}
