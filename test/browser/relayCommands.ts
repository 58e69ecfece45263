import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserCommand } from 'vitest/node';
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
}

const relays = new Map<string, Managed>();
let nextId = 1;

async function launch(dir: string, port: number, project?: TestRelay['project']) {
  return startTestRelay({
    port,
    project,
    store: await SqliteStore.open(join(dir, 'relay.sqlite')),
  });
}

export const startRelay: BrowserCommand<[]> = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaycall-browser-'));
  const relay = await launch(dir, 0);
  const id = String(nextId++);
  relays.set(id, { relay, dir, port: Number(new URL(relay.url).port) });
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
  managed.relay = await launch(managed.dir, managed.port, managed.relay.project);
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
