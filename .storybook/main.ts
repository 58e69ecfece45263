import { fileURLToPath } from 'node:url';
import type { StorybookConfig } from '@storybook/react-vite';
import { mergeConfig } from 'vite';
import { relaycall } from '../src/vite/index.js';

const src = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));

const config: StorybookConfig = {
  framework: '@storybook/react-vite',
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.@(ts|tsx)'],
  addons: ['@storybook/addon-docs', '@storybook/addon-vitest'],
  core: { disableTelemetry: true },
  typescript: {
    // Autodocs and controls from the components' TypeScript props and JSDoc.
    reactDocgen: 'react-docgen-typescript',
    reactDocgenTypescriptOptions: {
      shouldExtractLiteralValuesFromEnum: true,
      shouldRemoveUndefinedFromOptional: true,
      propFilter: (prop) => !prop.parent || !/node_modules/.test(prop.parent.fileName),
    },
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
        ],
      },
    });
  },
};

export default config;
