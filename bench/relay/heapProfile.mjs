/**
 * What an idle session holds in the Relay: heap snapshots of the server (from dist/) before and
 * after N sessions connect in pairs and place calls, as the relay bench does, diffed by object
 * kind. `node bench/relay/heapProfile.mjs [N=1000] [ours|peerjs]` (inside scripts/loopback.sh).
 * Prints the kinds that grew, as bytes and objects per session.
 */
import { fork } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 1000);
const KIND = process.argv[3] ?? 'ours';
const RETAINERS = process.argv.includes('--retainers');
/** How many retainers up each object is keyed by (RETAIN_DEPTH, default 1). */
const DEPTH = Number(process.env.RETAIN_DEPTH ?? 1);
const WARMUP_SESSIONS = 200;
const SETTLE_MS = 6_000;

function child(script, args) {
  const proc = fork(fileURLToPath(new URL(`./${script}`, import.meta.url)), args, {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue = [];
  const waiters = [];
  proc.on('message', (message) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const next = async () => {
    const message = queue.length > 0 ? queue.shift() : await new Promise((r) => waiters.push(r));
    if (message.type === 'error' || message.type === 'failed') {
      throw new Error(`${script}: ${message.message ?? message.error}`);
    }
    return message;
  };
  return { proc, next, send: (message) => proc.send(message) };
}

/** Self size and count per object kind (type and constructor or string kind). */
function summarize(path) {
  const snapshot = JSON.parse(readFileSync(path, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const { nodes, strings, edges } = snapshot;
  const kinds = new Map();
  // With --retainers, each object is keyed by what holds it too (first retainer, by edge name).
  const retainer = new Map();
  if (RETAINERS) {
    const edgeFields = snapshot.snapshot.meta.edge_fields;
    const edgeTypes = snapshot.snapshot.meta.edge_types[0];
    const edgeWidth = edgeFields.length;
    const countAt = fields.indexOf('edge_count');
    let e = 0;
    for (let i = 0; i < nodes.length; i += width) {
      const from = `${types[nodes[i + typeAt]]}:${strings[nodes[i + nameAt]].slice(0, 30)}`;
      for (let k = 0; k < nodes[i + countAt]; k += 1, e += edgeWidth) {
        const edgeType = edgeTypes[edges[e]];
        if (edgeType === 'weak' || edgeType === 'shortcut') continue;
        const nameOrIndex = edges[e + 1];
        const edgeName =
          edgeType === 'element' || edgeType === 'hidden' ? '[]' : strings[nameOrIndex];
        const to = edges[e + 2];
        if (!retainer.has(to)) retainer.set(to, [i, `${from}.${edgeName}`]);
      }
    }
  }
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    let name = strings[nodes[i + nameAt]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
      name = '(string)';
    } else if (type === 'number' || type === 'hidden' || type === 'code') {
      name = name.length > 60 ? `${name.slice(0, 60)}…` : name;
    }
    let chain = '';
    for (let at = i, depth = 0; RETAINERS && depth < DEPTH; depth += 1) {
      const held = retainer.get(at);
      if (!held) break;
      at = held[0];
      // Strings are keyed by the first object that holds them, however many strings between.
      if (/^(concatenated |sliced )?string:/.test(held[1])) {
        depth -= 1;
        continue;
      }
      chain += `  <- ${held[1]}`;
    }
    const key = `${type}: ${name}${chain}`;
    const entry = kinds.get(key) ?? { size: 0, count: 0 };
    entry.size += nodes[i + sizeAt];
    entry.count += 1;
    kinds.set(key, entry);
  }
  return kinds;
}

const server = child('server.mjs', [KIND]);
const gen = child('loadgen.mjs', []);
const { port } = await server.next();
let tokens = [];
if (KIND === 'ours') {
  server.send({ type: 'tokens', count: N });
  ({ tokens } = await server.next());
}
const phase = async (message) => {
  gen.send(message);
  return gen.next();
};
const protocol = KIND;
await phase({
  type: 'connect',
  kind: protocol,
  port,
  count: Math.min(N, WARMUP_SESSIONS),
  tokens,
  concurrency: 256,
});
await phase({ type: 'close' });
// The warm-up's sockets finish closing (the bench measures right away: see relayBench.mjs).
await phase({ type: 'settle', ms: Number(process.env.AFTER_CLOSE_MS ?? 0) });
const before = join(tmpdir(), `relay-heap-before-${process.pid}.heapsnapshot`);
const after = join(tmpdir(), `relay-heap-after-${process.pid}.heapsnapshot`);
server.send({ type: 'snapshot', path: before });
await server.next();
await phase({ type: 'connect', kind: protocol, port, count: N, tokens, concurrency: 256 });
await phase({ type: 'settle', ms: SETTLE_MS });
server.send({ type: 'snapshot', path: after });
await server.next();
server.send({ type: 'usage', gc: true });
await server.next();
server.proc.kill();
gen.proc.kill();

const a = summarize(before);
const b = summarize(after);
rmSync(before);
rmSync(after);
const rows = [];
let total = 0;
for (const [key, entry] of b) {
  const base = a.get(key) ?? { size: 0, count: 0 };
  const size = entry.size - base.size;
  total += size;
  rows.push({ key, size, count: entry.count - base.count });
}
for (const [key, entry] of a) {
  if (!b.has(key)) {
    total -= entry.size;
    rows.push({ key, size: -entry.size, count: -entry.count });
  }
}
rows.sort((x, y) => y.size - x.size);
console.log(`${KIND}: ${N} sessions, ${(total / N).toFixed(0)} B/session of self size in all`);
for (const row of rows.slice(0, Number(process.env.ROWS ?? (RETAINERS ? 90 : 45)))) {
  if (Math.abs(row.size) < N * Number(process.env.MIN_BYTES ?? 4)) continue;
  console.log(
    `${(row.size / N).toFixed(1).padStart(8)} B  ${(row.count / N).toFixed(2).padStart(6)}×  ${row.key}`,
  );
}
