import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { storybookTest } from '@storybook/addon-vitest/vitest-plugin';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { chromiumArgs, chromiumPath } from './scripts/chromium.mjs';
import * as relayCommands from './test/browser/relayCommands.js';
import * as turnCommands from './test/browser/turnCommands.js';
import * as janusCommands from './test/browser/janusCommands.js';
import * as sipCommands from './test/browser/sipCommands.js';
import * as linkCommands from './test/browser/linkCommands.js';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import through the public entry points, compiled from source.
    alias: [
      { find: /^relaycall$/, replacement: src('react/index.ts') },
      { find: /^relaycall\/core$/, replacement: src('core/index.ts') },
      { find: /^relaycall\/server$/, replacement: src('server/index.ts') },
      { find: /^relaycall\/testing$/, replacement: src('testing/index.ts') },
      { find: /^relaycall\/vite$/, replacement: src('vite/index.ts') },
    ],
  },
  test: {
    // Every project that runs Chromium lists scripts/chromium.mjs as its first globalSetup: it
    // fails the run at once, saying what to install, when Chromium is missing.
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          // The Relay, and the core client against it (signaling only: no media in Node).
          // test/size: bundle-size budgets of the built package (issue 6; needs `npm run build`).
          include: [
            'test/server/**/*.test.ts',
            'test/core/**/*.test.ts',
            'test/vite/**/*.test.ts',
            'test/size/**/*.test.ts',
            'test/testing/**/*.test.ts',
          ],
        },
      },
      {
        extends: true,
        test: {
          // Seeded hostile input against a real Relay on the real clock (issue 5). After the
          // other projects, so its timing and memory figures are its own. `npm run soak`: 10×.
          name: 'reliability',
          environment: 'node',
          include: ['test/reliability/**/*.test.ts'],
          testTimeout: 900_000,
          execArgv: ['--expose-gc'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'jsdom',
          // The React layer against a real Relay (started in Node by globalSetup); no media.
          environment: 'jsdom',
          include: ['test/react/**/*.test.{ts,tsx}'],
          setupFiles: ['test/react/setup.ts'],
          globalSetup: 'test/react/globalSetup.ts',
        },
      },
      {
        extends: true,
        test: {
          // The packed package (npm pack of dist/) installed into test/fixture-app, built with
          // Vite's defaults, calling in Chromium. Needs `npm run build` first.
          name: 'fixture',
          environment: 'node',
          globalSetup: ['scripts/chromium.mjs'],
          include: ['test/fixture/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
      browserProject('browser', {
        include: ['test/browser/**/*.test.{ts,tsx}'],
      }),
      // Tests that take the namespace's veth link down (ICE restarts), and the six-participant
      // room (thirty encoders and decoders in one page take both cores). Every peer and Janus in
      // the namespace may use that link, so these run in a namespace of their own, one file at a
      // time: `npm test` runs them after the rest (`vitest run --project outage`).
      browserProject('outage', {
        include: ['test/outage/**/*.test.{ts,tsx}'],
        fileParallelism: false,
      }),
      {
        extends: true,
        test: {
          // `npm start`'s Storybook (started as a child process) and two Chromium tabs on the
          // Phone story calling each other.
          name: 'storybook-phone',
          environment: 'node',
          globalSetup: ['scripts/chromium.mjs'],
          include: ['test/storybook/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        // Every story in stories/ as a test (render + play function) in Chromium. The stories'
        // config (.storybook/main.ts viteFinal) mounts the dev Relay on this browser server.
        plugins: [storybookTest({ configDir: '.storybook' })],
        test: {
          name: 'storybook',
          globalSetup: ['scripts/chromium.mjs'],
          // Live stories set up real calls; a pass is ~1 s, a failure should say what it waited for.
          testTimeout: 30_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: {
                executablePath: chromiumPath,
                // Play functions click with synthetic events, which carry no user activation:
                // let videos with sound start as they do once a person has clicked in the page.
                args: [...chromiumArgs, '--autoplay-policy=no-user-gesture-required'],
              },
            }),
            instances: [{ browser: 'chromium' }],
            screenshotFailures: false,
          },
        },
      },
    ],
  },
});

/** Vitest browser mode in Debian's Chromium, with the commands that start servers in Node. */
function browserProject(
  name: string,
  test: { include: string[]; fileParallelism?: boolean },
): TestProjectInlineConfiguration {
  return {
    extends: true,
    plugins: [react()],
    // Pre-bundled up front: discovering them mid-run reloads the page and duplicates React.
    optimizeDeps: {
      include: [
        'react',
        'react/jsx-dev-runtime',
        'react-dom',
        'react-dom/client',
        '@tanstack/react-query',
        'zustand',
        'zustand/vanilla',
        'zustand/shallow',
        'zustand/react/shallow',
      ],
    },
    test: {
      name,
      ...test,
      // Each wait inside these tests has its own deadline and says what it waited for; the
      // test's limit sits above their sum so a slow, loaded machine gets those messages
      // instead of a bare timeout (browser mode's default is 15 s).
      testTimeout: 60_000,
      globalSetup: ['scripts/chromium.mjs', 'test/browser/globalSetup.ts'],
      browser: {
        enabled: true,
        headless: true,
        provider: playwright({
          launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
        }),
        instances: [{ browser: 'chromium' }],
        // Start, restart and stop Relays from a test page (they run in Node).
        commands: {
          ...relayCommands,
          ...turnCommands,
          ...janusCommands,
          ...sipCommands,
          ...linkCommands,
        },
        screenshotFailures: false,
      },
    },
  };
}
