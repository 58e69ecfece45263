#!/usr/bin/env node
/**
 * `npm run bench` (quick, for CI) and `npm run bench -- --full` (for docs/BENCHMARKS.md).
 * Runs each section, prints its tables with the ratios, writes bench/results/<mode>.json.
 * Options: --full | --quick, --only relay,calls,size,rooms,sip (comma-separated sections).
 *
 * Every target is loopback: run it through scripts/loopback.sh (the npm script does).
 */
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { writeReport } from './lib/report.mjs';
import { formatTable } from './lib/table.mjs';

const args = process.argv.slice(2);
const mode = args.includes('--full') ? 'full' : 'quick';
const onlyArg = args.find((arg) => arg.startsWith('--only'));
const only = onlyArg
  ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',')
  : null;

const SECTIONS = {
  relay: () => import('./relay/relayBench.mjs'),
  calls: () => import('./calls/callSetupBench.mjs'),
  size: () => import('./size/sizeBench.mjs'),
  rooms: () => import('./rooms/roomMediaBench.mjs'),
  sip: () => import('./sip/sipCallBench.mjs'),
};

const startedAt = new Date();
const report = {
  mode,
  date: startedAt.toISOString(),
  machine: machine(),
  command: `npm run bench${mode === 'full' ? ' -- --full' : ''}`,
  sections: {},
};

console.log(`relaycall bench — ${mode} mode — ${report.machine.description}`);
let failed = false;
for (const [name, load] of Object.entries(SECTIONS)) {
  if (only && !only.includes(name)) continue;
  const started = performance.now();
  try {
    const section = await (await load()).run({ mode, log: (line) => console.log(`  ${line}`) });
    for (const table of section.tables) console.log(formatTable(table));
    report.sections[name] = section;
  } catch (error) {
    failed = true;
    console.error(`\nsection ${name} failed:`, error);
    report.sections[name] = { error: String(error?.stack ?? error) };
  }
  console.log(`  (${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

console.log(
  `\nwrote ${(await writeReport(only ? await mergedWithSaved(report) : report)).join(' and ')}`,
);
process.exit(failed ? 1 : 0);

/**
 * With --only, the other sections of the saved <mode>.json are kept, each with its own date and
 * machine (`sectionDates`, `sectionMachines`), so re-measuring one section does not throw away the others.
 */
async function mergedWithSaved(fresh) {
  const file = new URL(`./results/${fresh.mode}.json`, import.meta.url);
  const saved = await readFile(file, 'utf8').then(JSON.parse, () => undefined);
  if (!saved) return fresh;
  const sectionDates = {};
  const sectionMachines = {};
  for (const name of Object.keys(saved.sections)) {
    sectionDates[name] = saved.sectionDates?.[name] ?? saved.date;
    sectionMachines[name] = saved.sectionMachines?.[name] ?? saved.machine.description;
  }
  for (const name of Object.keys(fresh.sections)) {
    sectionDates[name] = fresh.date;
    sectionMachines[name] = fresh.machine.description;
  }
  const sections = { ...saved.sections, ...fresh.sections };
  return { ...fresh, sections, sectionDates, sectionMachines };
}

function machine() {
  const cpus = os.cpus();
  return {
    description: `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.versions.node}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model,
    memoryBytes: os.totalmem(),
    node: process.versions.node,
  };
}
