/** Memory sampling, latency percentiles and the run's summary (printed, and optionally saved). */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RunLog } from './socket.js';

const MiB = 1024 * 1024;

export const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

/** Samples the process's RSS every `intervalMs` and keeps the peak. */
export class MemorySampler {
  peak = 0;
  samples = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  start(intervalMs = 100): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    this.peak = Math.max(this.peak, rss);
    this.samples += 1;
    return rss;
  }
}

/** Collects garbage when the process runs with --expose-gc (the reliability project does). */
export async function settleMemory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    count: sorted.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? NaN),
  };
}

export function tallyJson(log: RunLog, order: readonly string[]) {
  const out: Record<string, { frames: number; sockets: number; outcomes: Record<string, number> }> =
    {};
  for (const category of order) {
    const entry = log.tally.get(category);
    if (!entry) continue;
    out[category] = {
      frames: entry.frames,
      sockets: entry.sockets,
      outcomes: Object.fromEntries([...entry.outcomes].sort((a, b) => b[1] - a[1])),
    };
  }
  return out;
}

const n = (value: number) => value.toLocaleString('en-US');

/** A plain-text table: category, frames (or requests), sockets, outcomes. */
export function table(
  log: RunLog,
  order: readonly string[],
  unit: string,
  withSockets: boolean,
): string {
  const rows: string[][] = [['category', unit, ...(withSockets ? ['sockets'] : []), 'outcomes']];
  for (const category of order) {
    const entry = log.tally.get(category);
    const outcomes = entry
      ? [...entry.outcomes]
          .sort((a, b) => b[1] - a[1])
          .map(([label, count]) => `${label} ×${n(count)}`)
          .join(', ')
      : '—';
    rows.push([
      category,
      n(entry?.frames ?? 0),
      ...(withSockets ? [n(entry?.sockets ?? 0)] : []),
      outcomes,
    ]);
  }
  const widths =
    rows[0]?.map((_, i) =>
      Math.max(...rows.map((row) => (i === row.length - 1 ? 0 : (row[i] ?? '').length))),
    ) ?? [];
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export function writeResults(path: string, results: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

/**
 * How much slower than its CPU time the thread's work ran in wall time, since construction:
 * the event loop's busy (not idle) wall time over the CPU time the thread got meanwhile. About
 * 1 with a core to spare; 2.5 when other processes leave the thread 40% of a core. Work the
 * thread burns itself (the Relay stalled on some input) is CPU time, so it does not raise it.
 */
export class Slowdown {
  private readonly loop = performance.eventLoopUtilization();
  private readonly cpu = threadCpuMs();

  measure(): number {
    const { active } = performance.eventLoopUtilization(this.loop);
    const cpu = threadCpuMs() - this.cpu;
    return cpu > 0 ? Math.max(1, active / cpu) : 1;
  }
}

/** CPU time of the calling thread in ms (Linux); else of the whole process, which is more. */
function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // After "pid (name) ", field 3 (state) comes first: utime and stime are fields 14 and 15,
    // in USER_HZ ticks (100 a second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
}
