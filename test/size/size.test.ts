/**
 * Size budgets: bundles the built package (dist/) the way an app's bundler would and fails when
 * a case outgrows bench/size/budgets.json. `npm test` builds dist/ before vitest runs.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CASES,
  DIST_ENTRIES,
  checkBudgets,
  measureSizes,
  readBudgets,
  type Budgets,
  type MeasuredCase,
  type Sizes,
} from '../../bench/size/sizeBench.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

let sizes: Sizes;
let budgets: Budgets;

beforeAll(async () => {
  const missing = DIST_ENTRIES.filter((file) => !existsSync(`${root}${file}`));
  if (missing.length > 0) {
    throw new Error(
      `The size tests measure the built package, but ${missing.join(', ')} is missing: ` +
        'run `npm run build` first (npm test does).',
    );
  }
  [sizes, budgets] = await Promise.all([measureSizes(), readBudgets()]);
}, 120_000);

function measured(id: string): MeasuredCase {
  const found = sizes.cases.find((c) => c.id === id);
  if (!found) throw new Error(`no measured case '${id}'`);
  return found;
}

describe('bundle size (esbuild, minified, gzip, React external)', () => {
  it('stays within bench/size/budgets.json', () => {
    const over = checkBudgets(sizes, budgets).filter((check) => !check.ok);
    const explain = over.map((check) => {
      if (!Number.isFinite(check.budget)) {
        return `- ${check.label}: no budget in bench/size/budgets.json (or a budget for a case that no longer exists).`;
      }
      const percent = ((check.over / check.budget) * 100).toFixed(1);
      const which = check.metric === 'initialGzip' ? 'initial (page load)' : 'total (incl. lazy)';
      return (
        `- ${check.label}, ${which}: ${check.measured} B gzip, budget ${check.budget} B: ` +
        `over by ${check.over} B (${percent} %).`
      );
    });
    expect(
      over.length,
      [
        'Bundle size budget exceeded:',
        ...explain,
        'Find what grew: `node bench/size/sizeBench.mjs` prints the sizes (`npm run bench` the tables); esbuild --metafile shows',
        'the modules. Shrink it (lazy import(), a smaller dependency), or, if the growth is',
        'deliberate, run `npm run build && node bench/size/sizeBench.mjs --write-budgets` and',
        'say why in the commit.',
      ].join('\n'),
    ).toBe(0);
  });

  it('has a budget for every measured case', () => {
    for (const { id } of CASES) {
      const budget = budgets[id];
      expect(typeof budget, `bench/size/budgets.json has no entry for '${id}'`).toBe('object');
    }
  });

  it('an import of only useToken pulls no simple-peer (nor the client that loads it)', () => {
    const useToken = measured('useToken');
    const fromSimplePeer = useToken.inputs.filter((input) => input.includes('simple-peer'));
    expect(fromSimplePeer, 'simple-peer modules in the useToken-only bundle').toEqual([]);
    expect(useToken.simplePeer).toMatchObject({ initial: false, lazy: false });
    expect(useToken.createPeer, 'createPeer bundled for useToken alone').toBe(false);
    expect(useToken.lazy.files, 'lazy chunks for useToken alone').toBe(0);
  });

  it('loads simple-peer only lazily, never with the page (and the check does see it)', () => {
    // The script-tag file is the exception by design: one file, loaded whole (next test).
    for (const c of sizes.cases.filter((c) => !c.shipped)) {
      expect(c.simplePeer.initial, `${c.label}: simple-peer in the initial chunks`).toBe(false);
    }
    // The control for the useToken check: where a call can start, simple-peer is found.
    for (const id of ['full', 'core', 'providerCallTile']) {
      expect(measured(id).simplePeer.lazy, `${id}: simple-peer not found lazily`).toBe(true);
    }
  });

  it('the script-tag build is one file with simple-peer inside and no React', () => {
    const scriptTag = measured('scriptTag');
    expect(scriptTag.shipped).toBe(true);
    expect(scriptTag.lazy.files, 'files beside dist/browser/relaycall.min.js').toBe(0);
    expect(scriptTag.simplePeer.initial, 'simple-peer inside the script-tag file').toBe(true);
    expect(scriptTag.createPeer, 'createPeer inside the script-tag file').toBe(true);
    const react = scriptTag.inputs.filter((input) => /(^|\/)(react|react-dom)(\/|$)/.test(input));
    expect(react, 'React modules in the script-tag file').toEqual([]);
  });
});
