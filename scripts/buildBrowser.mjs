/**
 * The script-tag / CDN build of relaycall/core, from the built dist/core (run after tsc by
 * `npm run build`):
 *
 * - dist/browser/relaycall.min.js: an IIFE that defines the global `RelayCall` (exactly
 *   relaycall/core's exports), for `<script src="https://unpkg.com/relaycall/dist/browser/relaycall.min.js">`;
 * - dist/browser/relaycall.esm.min.js: the same as one ES module (`relaycall/browser`), for
 *   `<script type="module">` and import maps.
 *
 * Each is one self-contained file with a source map: no splitting, so the lazy parts (rooms,
 * stats, supervision, the gateway peer, simple-peer's browser bundle) are inlined rather than
 * loaded from chunks that a CDN URL could not locate. No React, no Node built-ins (platform
 * browser fails the build on one).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const entry = path.join(root, 'dist/core/index.js');
const outdir = path.join(root, 'dist/browser');

/** The global the IIFE defines. */
export const GLOBAL_NAME = 'RelayCall';

/** What `npm run build` writes, relative to the repository root. */
export const OUTPUTS = {
  iife: 'dist/browser/relaycall.min.js',
  esm: 'dist/browser/relaycall.esm.min.js',
};

/** Builds both files; resolves their paths and sizes (minified bytes). */
export async function buildBrowser() {
  const { version, license } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const common = {
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    minify: true,
    sourcemap: true,
    // dist/ is compiled for ES2022 (tsconfig.json); keep the bundle at the same level.
    target: 'es2022',
    platform: 'browser',
    define: { 'process.env.NODE_ENV': '"production"' },
    banner: { js: `/*! relaycall ${version} | ${license} | relaycall/core for the browser */` },
    // simple-peer's licence comment stays with its code.
    legalComments: 'inline',
    logLevel: 'warning',
    metafile: true,
  };
  const results = await Promise.all([
    build({
      ...common,
      format: 'iife',
      globalName: GLOBAL_NAME,
      outfile: path.join(root, OUTPUTS.iife),
    }),
    build({ ...common, format: 'esm', outfile: path.join(root, OUTPUTS.esm) }),
  ]);
  for (const result of results) {
    const inputs = Object.keys(result.metafile.inputs);
    const forbidden = inputs.filter((input) => /node_modules\/(react|react-dom)\//.test(input));
    if (forbidden.length > 0) {
      throw new Error(
        `The browser build of relaycall/core must not contain React, but bundles ${forbidden.join(', ')}: ` +
          'an import in src/core reaches src/react; keep imports flowing protocol ← core ← react.',
      );
    }
  }
  return results.map((result) =>
    Object.entries(result.metafile.outputs)
      .filter(([file]) => file.endsWith('.js'))
      .map(([file, output]) => ({ file, bytes: output.bytes })),
  );
}

// `node scripts/buildBrowser.mjs` (npm run build runs it after tsc).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outputs = (await buildBrowser()).flat();
  for (const { file, bytes } of outputs) {
    console.log(`${path.relative(outdir, path.join(root, file))}: ${bytes} bytes minified`);
  }
}
