#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The CLI runs from the compiled dist/. In a checkout of the repository (src/ is there), dist/
// exists only after `npm run build`; an installed package ships it, so there it is broken.
const cli = new URL('../dist/server/cli.js', import.meta.url);
const checkout = existsSync(new URL('../src/server/cli.ts', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

/** Says what is missing and what to do in one sentence, then exits with status 1. */
function cannotStart(missing, fixInCheckout) {
  console.error(
    checkout
      ? `relaycall cannot start, ${missing}: run \`${fixInCheckout}\` in ${root} and try again.`
      : `The relaycall package is broken, ${missing}: reinstall it (\`npm install relaycall\`).`,
  );
  process.exit(1);
}

if (!existsSync(cli)) cannotStart(`${fileURLToPath(cli)} is missing`, 'npm run build');
let main;
try {
  ({ main } = await import(cli.href));
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  // A package missing from node_modules, or a file missing from an incomplete build.
  const fix = /^Cannot find package /.test(error.message) ? 'npm install' : 'npm run build';
  cannotStart(`as it failed to load (${error.message})`, fix);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
