import type { Redis } from 'ioredis';
import { ErrorCodes, RelayError } from '../../protocol/index.js';
import { systemClock, type Clock } from '../clock.js';
import { optionalPeerError } from '../store/optionalPeerError.js';
import type { Telemetry } from '../Telemetry.js';
import { Cluster, type ClusterOptions } from './Cluster.js';

/** Running as one of several Relay nodes that share a Redis. */
export interface ClusterConfig {
  /** The Redis every node uses: `redis://[[user]:password@]host[:port][/db]`. */
  url: string;
  /** This node's id. Default: a random UUID (a restarted node is a new node). */
  nodeId?: string;
  /** How long a stopped node's sessions stay listed for the others, in ms. Default: 15000. */
  presenceTtlMs?: number;
  /** Prefix of the keys and channels in Redis. Default: 'relaycall:'. */
  prefix?: string;
}

/** A started cluster member and the two Redis connections it owns. */
export interface ClusterConnection {
  cluster: Cluster;
  /** Whether the command connection is up (`/healthz` reports unhealthy otherwise). */
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * Opens the connections (commands and publishing; this node's channel) and builds the member,
 * on the Relay's clock (its sweep for dead nodes, and the resume grace after one died).
 */
export async function connectCluster(
  config: ClusterConfig,
  clock: Clock = systemClock,
  limits?: ClusterOptions['limits'],
  telemetry?: Telemetry,
): Promise<ClusterConnection> {
  let Client: typeof Redis;
  try {
    Client = (await import('ioredis')).Redis;
  } catch (error) {
    throw optionalPeerError(error, {
      feature: 'Running several Relay nodes',
      pkg: 'ioredis',
      major: 6,
      instead: 'run a single node',
    });
  }
  const options = {
    connectTimeout: 2_000,
    // Fail fast while Redis is away (the node reports itself unhealthy) instead of queueing.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt - 1, 10), 1_000),
  };
  // Auto-pipelining: the journal writes and publishes of one turn go to Redis in one write.
  const pub = new Client(config.url, { ...options, lazyConnect: true, enableAutoPipelining: true });
  const sub = new Client(config.url, { ...options, lazyConnect: true });
  // Without listeners ioredis prints every connection error: an outage is logged once instead,
  // with its last error, and /healthz reports it.
  let closing = false;
  watchConnection(pub, 'commands', telemetry, () => closing);
  watchConnection(sub, 'subscriber', telemetry, () => closing);
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (cause) {
    pub.disconnect();
    sub.disconnect();
    throw new RelayError(
      ErrorCodes.unavailableService,
      `Could not reach Redis at ${new URL(config.url).host} to join the other Relay nodes. ` +
        'Check the URL and that Redis is running.',
      { cause },
    );
  }
  const cluster = new Cluster({
    pub,
    sub,
    nodeId: config.nodeId,
    presenceTtlMs: config.presenceTtlMs,
    prefix: config.prefix,
    clock,
    limits,
    onError: telemetry?.clusterFailed,
  });
  return {
    cluster,
    connected: () => pub.status === 'ready' && sub.status === 'ready',
    async close() {
      closing = true;
      cluster.stop();
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

/** Logs each outage of a connection once (with its last error), and its recovery. */
function watchConnection(
  client: Redis,
  connection: 'commands' | 'subscriber',
  telemetry: Telemetry | undefined,
  closing: () => boolean,
): void {
  let lastError: string | undefined;
  let ready = false;
  let lost = false;
  client.on('error', (error: Error) => {
    lastError = error.message;
  });
  client.on('close', () => {
    if (!ready || closing()) return;
    ready = false;
    lost = true;
    telemetry?.failed('cluster.disconnected', { connection, error: lastError });
  });
  client.on('ready', () => {
    ready = true;
    lastError = undefined;
    if (lost) telemetry?.logger.info('cluster.reconnected', { connection });
    lost = false;
  });
}
