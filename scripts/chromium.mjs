import { accessSync, constants } from 'node:fs';

/**
 * Debian's Chromium (never a downloaded browser), headless as root, with a fake camera and
 * microphone and nothing phoning home. WebRTC runs inside the loopback-only network namespace
 * (scripts/loopback.sh), hence the loopback flag. Shared by vitest.config.ts, the fixture test
 * and the Storybook scripts.
 */
export const chromiumPath = '/usr/bin/chromium';
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--allow-loopback-in-peer-connection',
];

/** Throws one sentence saying what to install when `chromiumPath` is not there to run. */
export function assertChromiumInstalled() {
  try {
    accessSync(chromiumPath, constants.X_OK);
  } catch (error) {
    const problem =
      error?.code === 'ENOENT'
        ? `Chromium not found at ${chromiumPath}`
        : `Chromium at ${chromiumPath} cannot be run (${error?.code ?? error})`;
    const failure = new Error(
      `${problem}: install it with \`apt-get install chromium\` (Debian), then run the tests ` +
        'again (they never download a browser).',
    );
    // The sentence says it all: no stack trace under it.
    failure.stack = failure.message;
    throw failure;
  }
}

/** Vitest globalSetup hook of the projects that run in Chromium (see vitest.config.ts). */
export { assertChromiumInstalled as setup };
