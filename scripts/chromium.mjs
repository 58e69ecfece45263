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
