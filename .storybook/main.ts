import { fileURLToPath } from 'node:url';
import type { StorybookConfig } from '@storybook/react-vite';
import { mergeConfig } from 'vite';
import { relaycall } from '../src/vite/index.js';

const src = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

const config: StorybookConfig = {
  framework: '@storybook/react-vite',
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-docs', '@storybook/addon-vitest'],
  core: {
    disableTelemetry: true,
    // No "what's new" fetch to storybook.js.org and no notifications about it.
    disableWhatsNewNotifications: true,
  },
  features: {
    // Storybook's own onboarding ("Get started" checklist in the sidebar, "Guide" in the menu):
    // it is about setting up Storybook, which this project has done.
    sidebarOnboardingChecklist: false,
    menuOnboardingChecklist: false,
  },
  typescript: {
    // Autodocs and controls from the components' TypeScript props and JSDoc. react-docgen (Babel)
    // reads the same props, descriptions and literal unions here as react-docgen-typescript, which
    // builds a TypeScript program on the first component request of every start: 7–18 s on a
    // 2-core machine, during which the dev server (and the Relay in it) answered nothing. The
    // table shows the types as written thanks to `typesAsWritten` in preview.ts.
    reactDocgen: 'react-docgen',
  },
  async viteFinal(viteConfig) {
    return mergeConfig(viteConfig, {
      // A real Relay (in memory, project 'dev') and the dev token endpoint on this dev server:
      // stories use <RelayProvider url={location.origin}> as an app would. Dev server only.
      plugins: [relaycall()],
      resolve: {
        // Stories import the library through its public entry, compiled from source.
        alias: [
          { find: /^relaycall$/, replacement: src('react/index.ts') },
          { find: /^relaycall\/styles\.css$/, replacement: src('react/styles.css') },
        ],
      },
      // Pre-bundled up front: discovered mid-session they reload the page and duplicate React.
      // Storybook adds its own and hands Vite the story files to scan: together they make the
      // bundling at start (in the background) the only one.
      optimizeDeps: {
        include: [
          'react',
          'react/jsx-dev-runtime',
          'react/jsx-runtime',
          'react-dom',
          'react-dom/client',
          '@tanstack/react-query',
          'zustand',
          'zustand/vanilla',
          'zustand/shallow',
          'zustand/react/shallow',
          // Imported on the first call (src/core/peer/createPeer.ts).
          'simple-peer/simplepeer.min.js',
        ],
      },
    });
  },
};

export default config;
