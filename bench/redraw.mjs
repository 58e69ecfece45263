#!/usr/bin/env node
/**
 * Redraws the relay tables of a saved run from its raw measurements, after a change to how
 * they are summarized: `node bench/redraw.mjs bench/results/full.json`.
 */
import { readFile } from 'node:fs/promises';
import { writeReport } from './lib/report.mjs';
import { render } from './relay/relayBench.mjs';

const file = process.argv[2] ?? new URL('./results/full.json', import.meta.url).pathname;
const report = JSON.parse(await readFile(file, 'utf8'));
const relay = report.sections.relay;
if (!relay?.results?.runs) throw new Error(`${file} has no relay runs to redraw`);
report.sections.relay = render(relay.results);
console.log(`wrote ${(await writeReport(report)).join(' and ')}`);
