/**
 * `npm run screenshot`: docs/images/phone-call.png, the Phone story during a call. Starts
 * Storybook as `npm start` does, opens the Phone story in two Chromium tabs (alice and bob),
 * places the call, waits for live video both ways, and photographs alice's tab. Run it inside
 * scripts/loopback.sh (the npm script does), like every WebRTC test.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright';
import {
  chromiumArgs,
  chromiumPath,
  freePort,
  liveRemoteVideo,
  openPhone,
  placeCall,
  repo,
  startStorybook,
} from './phone-call.mjs';

const output = join(repo, 'docs/images/phone-call.png');

const storybook = await startStorybook(await freePort());
let browser;
try {
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  const problems = [];
  const alice = await openPhone(context, storybook.url, 'alice', 'bob', problems);
  const bob = await openPhone(context, storybook.url, 'bob', 'alice', problems);
  await placeCall(alice, bob);
  await liveRemoteVideo(bob);
  await liveRemoteVideo(alice);
  // Let the call timer pass its first second.
  await alice.locator('.relaycall-dialer__timer', { hasText: '0:02' }).waitFor({ timeout: 10_000 });
  await mkdir(join(repo, 'docs/images'), { recursive: true });
  const phone = alice.locator('.story-phone');
  const box = await phone.boundingBox();
  if (!box) throw new Error('The Phone story did not render.');
  const margin = 16;
  await alice.screenshot({
    path: output,
    clip: {
      x: Math.max(0, box.x - margin),
      y: Math.max(0, box.y - margin),
      width: box.width + 2 * margin,
      height: box.height + 2 * margin,
    },
  });
  if (problems.length > 0) console.warn(`Page problems:\n${problems.join('\n')}`);
  console.log(`Wrote ${output}`);
} finally {
  await browser?.close();
  await storybook.stop();
}
