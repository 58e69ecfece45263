import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  connect,
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import type { BrowserCommand } from 'vitest/node';
import type { RelayLimits } from '../../src/protocol/index.js';
import { SqliteStore } from '../../src/server/index.js';
import { startTestRelay, type TestRelay } from '../../src/testing/index.js';

/**
 * Browser commands (run in Node) that start, restart and stop Relays for a test page.
 * Each Relay keeps a SQLite store so a restart keeps its project, secret and families,
 * as a production Relay does; sessions and calls are lost, as they are in production.
 */
interface Managed {
  relay: TestRelay;
  dir: string;
  port: number;
  limits: Partial<RelayLimits> | undefined;
}

const relays = new Map<string, Managed>();
let nextId = 1;

async function launch(
  dir: string,
  port: number,
  project?: TestRelay['project'],
  limits?: Partial<RelayLimits>,
) {
  return startTestRelay({
    port,
    project,
    limits,
    store: await SqliteStore.open(join(dir, 'relay.sqlite')),
  });
}

/** Starts a Relay; `limits` overrides some of DEFAULT_LIMITS (kept across restarts). */
export const startRelay: BrowserCommand<[options?: { limits?: Partial<RelayLimits> }]> = async (
  _,
  options = {},
) => {
  const dir = mkdtempSync(join(tmpdir(), 'relaycall-browser-'));
  const relay = await launch(dir, 0, undefined, options.limits);
  const id = String(nextId++);
  relays.set(id, { relay, dir, port: Number(new URL(relay.url).port), limits: options.limits });
  return { id, url: relay.url, tokenUrl: relay.tokenUrl };
};

/** Stops the Relay (sessions closed with 1001) and starts it again on the same port and store. */
export const restartRelay: BrowserCommand<[id: string, downMs?: number]> = async (
  _,
  id,
  downMs = 0,
) => {
  const managed = relays.get(id);
  if (!managed) throw new Error(`no relay ${id}`);
  await managed.relay.close();
  if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
  managed.relay = await launch(managed.dir, managed.port, managed.relay.project, managed.limits);
};

export const relayStats: BrowserCommand<[id: string]> = async (_, id) => {
  const managed = relays.get(id);
  if (!managed) throw new Error(`no relay ${id}`);
  return managed.relay.server.stats();
};

export const stopRelay: BrowserCommand<[id: string]> = async (_, id) => {
  const managed = relays.get(id);
  if (!managed) return;
  relays.delete(id);
  await managed.relay.close();
  rmSync(managed.dir, { recursive: true, force: true });
};

/**
 * Fault proxies: a loopback TCP proxy in front of a Relay whose connections a test page can cut
 * abruptly, as a network drop does (no WebSocket close frame: both ends see 1006, the server
 * detaches the session and the client resumes). Each connection is named by the `fault` query
 * parameter of its upgrade request (the Relay ignores query strings), so the page cuts exactly
 * the socket it means to.
 */
interface FaultProxy {
  server: NetServer;
  /** Live connections by name: the page's end and the Relay's end. */
  links: Map<string, [Socket, Socket]>;
}

const proxies = new Map<string, FaultProxy>();
let nextProxyId = 1;

function pipeTo(relayPort: number, links: FaultProxy['links'], page: Socket): void {
  let head = Buffer.alloc(0);
  const onHead = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const lineEnd = head.indexOf('\r\n');
    if (lineEnd < 0 && head.length < 8192) return;
    page.off('data', onHead);
    page.pause();
    const requestLine = head.subarray(0, Math.max(0, lineEnd)).toString('latin1');
    const name = /[?&]fault=([^&\s]+)/.exec(requestLine)?.[1] ?? `anonymous-${links.size}`;
    const relay = connect(relayPort, '127.0.0.1', () => {
      relay.write(head);
      page.pipe(relay);
      relay.pipe(page);
      page.resume();
    });
    links.set(name, [page, relay]);
    const drop = () => {
      if (links.get(name)?.[0] === page) links.delete(name);
      page.destroy();
      relay.destroy();
    };
    page.on('close', drop).on('error', drop);
    relay.on('close', drop).on('error', drop);
  };
  page.on('data', onHead);
}

export const startFaultProxy: BrowserCommand<[relayId: string]> = async (_, relayId) => {
  const managed = relays.get(relayId);
  if (!managed) throw new Error(`no relay ${relayId}`);
  const links: FaultProxy['links'] = new Map();
  const server = createNetServer((page) => pipeTo(managed.port, links, page));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const id = String(nextProxyId++);
  proxies.set(id, { server, links });
  return { id, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

/** Cuts the named connection at once (TCP reset both ways); false when it is not open. */
export const cutConnection: BrowserCommand<[proxyId: string, name: string]> = async (
  _,
  proxyId,
  name,
) => {
  const proxy = proxies.get(proxyId);
  const link = proxy?.links.get(name);
  if (!proxy || !link) return false;
  proxy.links.delete(name);
  for (const socket of link) socket.resetAndDestroy();
  return true;
};

export const stopFaultProxy: BrowserCommand<[proxyId: string]> = async (_, proxyId) => {
  const proxy = proxies.get(proxyId);
  if (!proxy) return;
  proxies.delete(proxyId);
  for (const link of proxy.links.values()) for (const socket of link) socket.destroy();
  await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
};

/**
 * Records reliability figures: with RELAYCALL_WRITE_RESULTS=1, merges `data` as `section` into
 * `test/reliability/results/<file>.json` (RELAYCALL_RESULTS_DIR overrides the directory). The
 * sections of one vitest run share a file; a file from an earlier run is replaced. Returns the
 * path written, or null when the switch is off.
 */
const runStartedAt = new Date().toISOString();
export const writeResults: BrowserCommand<[file: string, section: string, data: unknown]> = async (
  _,
  file,
  section,
  data,
) => {
  if (process.env.RELAYCALL_WRITE_RESULTS !== '1') return null;
  if (!/^[\w-]+$/.test(file)) throw new Error(`bad results file name ${file}`);
  const dir = resolve(
    process.env.RELAYCALL_RESULTS_DIR ??
      fileURLToPath(new URL('../reliability/results/', import.meta.url)),
  );
  const path = join(dir, `${file}.json`);
  let results: { run: string; node: string; soak: boolean; sections: Record<string, unknown> } = {
    run: runStartedAt,
    node: process.version,
    soak: process.env.RELAYCALL_SOAK === '1',
    sections: {},
  };
  try {
    const previous = JSON.parse(readFileSync(path, 'utf8')) as typeof results;
    if (previous.run === runStartedAt) results = previous;
  } catch {
    // No file yet, or not ours: start afresh.
  }
  results.sections[section] = { recordedAt: new Date().toISOString(), ...(data as object) };
  mkdirSync(dir, { recursive: true });
  // Formatted as `prettier --check .` (npm run lint) expects it.
  const options = { ...(await resolveConfig(path)), parser: 'json' };
  writeFileSync(path, await format(JSON.stringify(results), options));
  return path;
};
