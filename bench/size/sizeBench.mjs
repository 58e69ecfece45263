/**
 * Bundle size of relaycall as an app pays for it: the BUILT package (dist/, run `npm run build`
 * first) bundled by esbuild the way an app's bundler would (minified, ESM, code splitting,
 * tree-shaking, React external), each output chunk gzipped (level 9) on its own.
 *
 * The entries import the package by name (`relaycall`, `relaycall/core`) through a symlinked
 * node_modules/relaycall, so package.json `exports` and `sideEffects` apply as in an app.
 *
 * Initial = the entry chunk plus every chunk it imports statically (what loads with the page);
 * lazy = chunks reached only through `import()` (simple-peer's browser bundle, loaded when the
 * first call starts: src/core/peer/createPeer.ts).
 *
 * Shipped cases (`file`) are measured as published instead: the script-tag build
 * (dist/browser/relaycall.min.js, scripts/buildBrowser.mjs) is one file a page loads whole, with
 * simple-peer inside, so initial = total = that file gzipped.
 *
 * Used by `npm run bench` (run()) and by test/size/size.test.ts (measureSizes, checkBudgets).
 */
import { mkdtemp, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
const budgetsFile = fileURLToPath(new URL('./budgets.json', import.meta.url));

/** React is the app's own: never counted. */
export const EXTERNAL = ['react', 'react-dom', 'react/jsx-runtime', 'react-dom/client'];

/**
 * The measured entries. `source` is the app module esbuild bundles; `file` a built file measured
 * as shipped (no bundling).
 */
export const CASES = [
  {
    id: 'full',
    label: "relaycall (all exports: import * from 'relaycall')",
    source: "export * from 'relaycall';\n",
  },
  {
    id: 'core',
    label: "relaycall/core (all exports: import * from 'relaycall/core')",
    source: "export * from 'relaycall/core';\n",
  },
  {
    id: 'useToken',
    label: "useToken only (import { useToken } from 'relaycall')",
    source: "export { useToken } from 'relaycall';\n",
  },
  {
    id: 'providerCallTile',
    label: 'RelayProvider + useCall + VideoTile',
    source: "export { RelayProvider, useCall, VideoTile } from 'relaycall';\n",
  },
  {
    id: 'scriptTag',
    label: 'script tag: dist/browser/relaycall.min.js as shipped (IIFE, simple-peer inside)',
    file: 'dist/browser/relaycall.min.js',
  },
];

/** The built files the entries need; missing means `npm run build` has not run. */
export const DIST_ENTRIES = [
  'dist/react/index.js',
  'dist/core/index.js',
  'dist/browser/relaycall.min.js',
];

const SIMPLE_PEER = /(^|\/)node_modules\/simple-peer\//;

/**
 * Bundles each case from dist/ and measures it. Resolves
 * `{ esbuild, cases: [{ id, label, initial, lazy, total, simplePeer, inputs }] }` where
 * initial/lazy/total are `{ files, bytes, gzip }` (bytes minified, gzip level 9 per chunk,
 * summed) and simplePeer says which outputs hold code from node_modules/simple-peer
 * (`unreferenced`: a chunk written but imported by nothing, see measureCase).
 */
export async function measureSizes() {
  const missing = DIST_ENTRIES.filter((file) => !existsSync(path.join(root, file)));
  if (missing.length > 0) {
    throw new Error(
      `relaycall is not built (missing ${missing.join(', ')}): run \`npm run build\` first.`,
    );
  }
  const { version } = JSON.parse(
    await readFile(path.join(root, 'node_modules/esbuild/package.json'), 'utf8'),
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'relaycall-size-'));
  try {
    // The app's node_modules: relaycall is this repository (its package.json, its dist/).
    await mkdir(path.join(dir, 'node_modules'));
    await symlink(root, path.join(dir, 'node_modules/relaycall'), 'dir');
    const cases = [];
    for (const entry of CASES) {
      cases.push(entry.file ? await measureFile(entry) : await measureCase(dir, entry));
    }
    return { esbuild: version, cases };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureCase(dir, { id, label, source }) {
  const entryFile = path.join(dir, `${id}.js`);
  await writeFile(entryFile, source);
  const outdir = path.join(dir, `out-${id}`);
  const result = await build({
    absWorkingDir: dir,
    entryPoints: [entryFile],
    bundle: true,
    minify: true,
    treeShaking: true,
    format: 'esm',
    splitting: true,
    write: false,
    outdir,
    platform: 'browser',
    external: EXTERNAL,
    // What an app's production build sets (esbuild would too, for minified browser builds).
    define: { 'process.env.NODE_ENV': '"production"' },
    metafile: true,
    logLevel: 'silent',
  });
  if (result.errors.length > 0) {
    throw new Error(`esbuild failed for ${id}: ${result.errors.map((e) => e.text).join('; ')}`);
  }

  const rel = (file) => path.relative(dir, file).split(path.sep).join('/');
  const contents = new Map(result.outputFiles.map((file) => [rel(file.path), file.contents]));
  const outputs = result.metafile.outputs;
  const chunks = Object.keys(outputs).filter((name) => name.endsWith('.js'));
  // Chunks of import() targets carry an entryPoint too: pick the one of this case's entry.
  const entryChunk = chunks.find((name) => outputs[name].entryPoint === rel(entryFile));
  if (!entryChunk) throw new Error(`esbuild produced no entry chunk for ${id}`);

  // Initial: the entry and its static imports, transitively. Lazy: the rest of what import()
  // reaches (every chunk of a one-entry build is reachable from its entry).
  const initial = reach([entryChunk], outputs, ['import-statement']);
  const all = reach([entryChunk], outputs, ['import-statement', 'dynamic-import']);
  const lazy = [...all].filter((name) => !initial.has(name));
  // esbuild makes a chunk of every import() target before tree-shaking: when the code holding
  // the import() is shaken out (useToken alone), the chunk is still written but nothing loads it.
  const unreferenced = chunks.filter((name) => !all.has(name));

  const measure = (names) => {
    let bytes = 0;
    let gzip = 0;
    for (const name of names) {
      const code = contents.get(name);
      if (!code) throw new Error(`${id}: no contents for ${name}`);
      bytes += code.byteLength;
      gzip += gzipSync(code, { level: 9 }).byteLength;
    }
    return { files: names.length, bytes, gzip };
  };
  const withSimplePeer = (names) =>
    names.filter((name) => Object.keys(outputs[name].inputs).some((i) => SIMPLE_PEER.test(i)));

  const initialSize = measure([...initial]);
  const lazySize = measure(lazy);
  return {
    id,
    label,
    initial: initialSize,
    lazy: lazySize,
    total: {
      files: initialSize.files + lazySize.files,
      bytes: initialSize.bytes + lazySize.bytes,
      gzip: initialSize.gzip + lazySize.gzip,
    },
    /** Files no chunk of this entry imports (never downloaded); not counted in total. */
    unreferenced: { ...measure(unreferenced), names: unreferenced },
    /** Which outputs hold code from node_modules/simple-peer. */
    simplePeer: {
      initial: withSimplePeer([...initial]).length > 0,
      lazy: withSimplePeer(lazy).length > 0,
      unreferenced: withSimplePeer(unreferenced).length > 0,
    },
    /** Whether src/core/peer/createPeer.ts (the only importer of simple-peer) is bundled. */
    createPeer: [...all].some((name) =>
      Object.keys(outputs[name].inputs).some((i) => i.endsWith('dist/core/peer/createPeer.js')),
    ),
    /** Every module in the initial and lazy chunks, relative to the repository root. */
    inputs: [...new Set([...all].flatMap((name) => Object.keys(outputs[name].inputs)))]
      .map((input) => fromRoot(dir, input))
      .sort(),
  };
}

/**
 * A built file as shipped: its gzip is both initial and total (a page loads it whole); its
 * inputs are the sources its source map (`<file>.map`) lists.
 */
async function measureFile({ id, label, file }) {
  const code = await readFile(path.join(root, file));
  const map = JSON.parse(await readFile(path.join(root, `${file}.map`), 'utf8'));
  const inputs = map.sources
    .map((source) => path.relative(root, path.resolve(root, path.dirname(file), source)))
    .map((input) => input.split(path.sep).join('/'))
    .sort();
  const size = { files: 1, bytes: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength };
  const inside = inputs.some((input) => SIMPLE_PEER.test(input));
  return {
    id,
    label,
    shipped: true,
    initial: size,
    lazy: { files: 0, bytes: 0, gzip: 0 },
    total: size,
    unreferenced: { files: 0, bytes: 0, gzip: 0, names: [] },
    simplePeer: { initial: inside, lazy: false, unreferenced: false },
    createPeer: inputs.some((input) => /\/core\/peer\/createPeer\.(ts|js)$/.test(input)),
    inputs,
  };
}

/** An esbuild input path as a path in this repository (`dist/…`, `node_modules/…`). */
function fromRoot(dir, input) {
  const absolute = path.resolve(dir, input);
  if (!absolute.startsWith(root)) return `(app) ${input}`;
  return path.relative(root, absolute).split(path.sep).join('/');
}

function reach(start, outputs, kinds) {
  const seen = new Set();
  const queue = [...start];
  while (queue.length > 0) {
    const name = queue.shift();
    if (seen.has(name)) continue;
    seen.add(name);
    for (const imported of outputs[name]?.imports ?? []) {
      if (!imported.external && kinds.includes(imported.kind)) queue.push(imported.path);
    }
  }
  return seen;
}

/** budgets.json: `{ [caseId]: { initialGzip?, totalGzip? } }` in gzip bytes. */
export async function readBudgets() {
  return JSON.parse(await readFile(budgetsFile, 'utf8'));
}

/**
 * Compares measured sizes with budgets. Returns one row per budget:
 * `{ id, label, metric: 'initialGzip' | 'totalGzip', measured, budget, over, ok }`
 * (`over`: bytes above the budget, negative when under). A case without a budget, or a budget
 * without a measured case, is reported as not ok (budgets must follow the cases).
 */
export function checkBudgets(sizes, budgets) {
  const rows = [];
  for (const measured of sizes.cases) {
    const budget = budgets[measured.id];
    if (!budget) {
      rows.push({
        id: measured.id,
        label: measured.label,
        metric: 'initialGzip',
        measured: measured.initial.gzip,
        budget: NaN,
        over: NaN,
        ok: false,
      });
      continue;
    }
    for (const metric of ['initialGzip', 'totalGzip']) {
      if (budget[metric] === undefined) continue;
      const value = metric === 'initialGzip' ? measured.initial.gzip : measured.total.gzip;
      rows.push({
        id: measured.id,
        label: measured.label,
        metric,
        measured: value,
        budget: budget[metric],
        over: value - budget[metric],
        ok: value <= budget[metric],
      });
    }
  }
  for (const id of Object.keys(budgets)) {
    if (id.startsWith('$') || sizes.cases.some((c) => c.id === id)) continue;
    rows.push({
      id,
      label: id,
      metric: 'initialGzip',
      measured: NaN,
      budget: NaN,
      over: NaN,
      ok: false,
    });
  }
  return rows;
}

/** Budget for a measured gzip size: 10 % headroom, rounded up to the next 100 bytes. */
export const budgetFor = (gzip) => Math.ceil((gzip * 1.1) / 100) * 100;

/**
 * budgets.json contents for `sizes`: initial gzip for every case, total gzip where a lazy chunk
 * exists (for useToken alone total = initial).
 */
export function budgetsFrom(sizes) {
  const budgets = {
    $comment: BUDGETS_COMMENT,
  };
  for (const c of sizes.cases) {
    budgets[c.id] = { initialGzip: budgetFor(c.initial.gzip) };
    if (c.lazy.files > 0) budgets[c.id].totalGzip = budgetFor(c.total.gzip);
  }
  return budgets;
}

const BUDGETS_COMMENT =
  'Gzip bytes (level 9, per chunk, summed) of each bench/size/sizeBench.mjs case, built from dist/ ' +
  'with esbuild (React external). Set to the measured size + 10 %, rounded up to the next 100 bytes. ' +
  'test/size/size.test.ts fails when a size exceeds its budget. After a deliberate size change: ' +
  '`npm run build && node bench/size/sizeBench.mjs --write-budgets`, and say why in the commit.';

/** Sizes of the anchors' published packages, bundled like ours (November 2026), gzip, KB = 1,024 bytes. */
export const ANCHORS = [
  { name: 'SignalWire @signalwire/js 1.5.0, import { Relay }', kb: 18.3, compareWith: 'core' },
  {
    name: 'Daily react (provider + hook + video component)',
    kb: 89.7,
    compareWith: 'providerCallTile',
  },
  {
    name: 'LiveKit components (provider + hook + video)',
    kb: 164.4,
    compareWith: 'providerCallTile',
  },
  { name: '100ms react-sdk (provider + hook + video)', kb: 144.9, compareWith: 'providerCallTile' },
  { name: 'Agora react (provider + hook + video)', kb: 370.0, compareWith: 'providerCallTile' },
];

const kb = (bytes) => Math.round((bytes / 1024) * 10) / 10;

/** Bench section for bench/run.mjs. The sizes do not depend on `mode`. */
export async function run({ log = () => undefined } = {}) {
  log('bundling dist/ with esbuild (npm run build first if dist/ is stale)');
  const sizes = await measureSizes();
  const budgets = await readBudgets();
  const checks = checkBudgets(sizes, budgets);
  const budgetOf = (id, metric) => checks.find((c) => c.id === id && c.metric === metric);
  const budgetCell = (check) => {
    if (!check) return '–';
    if (!Number.isFinite(check.budget)) return 'no budget';
    const verdict = check.ok ? 'ok' : `OVER by ${check.over.toLocaleString('en-US')}`;
    return `${check.budget.toLocaleString('en-US')} ${verdict}`;
  };

  const sizeTable = {
    title: `Bundle size: esbuild ${sizes.esbuild}, minified ESM, splitting, React external, gzip -9 per chunk (bytes)`,
    columns: [
      'entry',
      'initial min',
      'initial gzip',
      'initial KB gz',
      'lazy min',
      'lazy gzip',
      'total gzip',
      'total KB gz',
      'simple-peer',
      'budget initial gzip',
      'budget total gzip',
    ],
    rows: sizes.cases.map((c) => [
      c.label,
      c.initial.bytes,
      c.initial.gzip,
      kb(c.initial.gzip),
      c.lazy.bytes,
      c.lazy.gzip,
      c.total.gzip,
      kb(c.total.gzip),
      c.shipped ? 'inside' : simplePeerCell(c.simplePeer),
      budgetCell(budgetOf(c.id, 'initialGzip')),
      budgetCell(budgetOf(c.id, 'totalGzip')),
    ]),
    notes: [
      'initial: entry chunk + statically imported chunks; lazy: chunks loaded by import() (simple-peer, on the first call).',
      'simple-peer "not loaded*": esbuild still writes the chunk of every import() target, but no chunk of this entry imports it (createPeer is tree-shaken), so it is never downloaded.',
      'Built from dist/ by package name, so package.json exports and sideEffects apply; process.env.NODE_ENV = "production".',
      'script tag: the IIFE that `npm run build` writes (scripts/buildBrowser.mjs), gzipped as shipped: one file with every lazy part and simple-peer inside.',
      'Budgets: bench/size/budgets.json (gzip bytes), checked by test/size/size.test.ts in npm test.',
    ],
  };

  const byId = new Map(sizes.cases.map((c) => [c.id, c]));
  const anchorTable = {
    title: 'Bundle size against the anchors (gzip KB, KB = 1,024 bytes)',
    columns: [
      'anchor',
      'anchor KB',
      'relaycall entry',
      'initial KB',
      'ratio',
      'incl. lazy KB',
      'ratio',
    ],
    rows: ANCHORS.map((anchor) => {
      const ours = byId.get(anchor.compareWith);
      const initial = ours ? ours.initial.gzip / 1024 : NaN;
      const total = ours ? ours.total.gzip / 1024 : NaN;
      return [
        anchor.name,
        anchor.kb,
        ours?.label ?? anchor.compareWith,
        kb(initial * 1024),
        ratioText(initial, anchor.kb),
        kb(total * 1024),
        ratioText(total, anchor.kb),
      ];
    }),
    notes: [
      "Anchor figures: each SDK's published npm package bundled the same way (minified, gzip, React external) in November 2026 on a machine like this one, not in this run.",
      'SignalWire is compared with relaycall/core (the framework-free client); the React SDKs with RelayProvider + useCall + VideoTile, React external on both sides.',
      'ratio = relaycall / anchor (below 1× is smaller).',
    ],
  };

  for (const c of sizes.cases) {
    log(
      `${c.id}: initial ${c.initial.gzip} B gzip (${c.initial.files} files), lazy ${c.lazy.gzip} B gzip`,
    );
  }
  return { name: 'size', tables: [sizeTable, anchorTable], results: { ...sizes, budgets, checks } };
}

function simplePeerCell({ initial, lazy, unreferenced }) {
  if (initial) return 'initial';
  if (lazy) return 'lazy';
  return unreferenced ? 'not loaded*' : 'no';
}

function ratioText(ours, theirs) {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return '–';
  return `${(ours / theirs).toFixed(2)}×`;
}

// `node bench/size/sizeBench.mjs [--write-budgets]`: prints the sizes; rewrites budgets.json.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await measureSizes();
  for (const c of sizes.cases) {
    console.log(`${c.id}: initial ${c.initial.gzip} B gzip, total ${c.total.gzip} B gzip`);
  }
  if (process.argv.includes('--write-budgets')) {
    await writeFile(budgetsFile, `${JSON.stringify(budgetsFrom(sizes), null, 2)}\n`);
    console.log(`wrote ${budgetsFile}`);
  }
}
