import type { BrowserCommand } from 'vitest/node';
import type { RelayLimits } from '../../src/protocol/index.js';
import {
  startJanus,
  startTestRelay,
  type TestJanus,
  type TestRelay,
} from '../../src/testing/index.js';

/**
 * Browser commands (run in Node, inside the test namespace with its veth pair) that start a real
 * Janus from Debian's package and a Relay controlling it, and kill and restart that Janus.
 */
interface Managed {
  janus: TestJanus;
  relay: TestRelay;
}

const managed = new Map<string, Managed>();
let nextId = 1;

function get(id: string): Managed {
  const found = managed.get(id);
  if (!found) throw new Error(`no Janus relay ${id}`);
  return found;
}

/** Janus (videoroom) and a Relay with `janus` set; resolves once the Relay reached Janus. */
export const startJanusRelay: BrowserCommand<
  [options?: { limits?: Partial<RelayLimits>; talkingLevel?: number }]
> = async (_, options = {}) => {
  const janus = await startJanus();
  const relay = await startTestRelay({
    limits: options.limits,
    janus: { url: janus.url, secret: janus.secret, talkingLevel: options.talkingLevel },
  });
  const id = String(nextId++);
  managed.set(id, { janus, relay });
  await untilAvailable(relay, true);
  return { id, url: relay.url, tokenUrl: relay.tokenUrl };
};

/** Kills Janus (SIGKILL, as a crash) and waits until the Relay noticed. */
export const killJanus: BrowserCommand<[id: string]> = async (_, id) => {
  const { janus, relay } = get(id);
  await janus.kill();
  await untilAvailable(relay, false);
};

/** Starts Janus again and waits until the Relay reconnected to it. */
export const restartJanus: BrowserCommand<[id: string]> = async (_, id) => {
  const { janus, relay } = get(id);
  await janus.restart();
  await untilAvailable(relay, true);
};

export const janusRelayStats: BrowserCommand<[id: string]> = async (_, id) =>
  get(id).relay.server.stats();

export const stopJanusRelay: BrowserCommand<[id: string]> = async (_, id) => {
  const found = managed.get(id);
  if (!found) return;
  managed.delete(id);
  await found.relay.close();
  await found.janus.stop();
};

async function untilAvailable(relay: TestRelay, available: boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const stats = relay.server.stats() as { sfu?: { available: boolean } };
    if (stats.sfu?.available === available) return;
    if (Date.now() > deadline) {
      throw new Error(`the Relay never saw Janus ${available ? 'up' : 'down'} within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
