/**
 * The deployments the call tests run against: one Relay node, or several nodes sharing a
 * real redis-server (store and cluster), with the legs of a call spread over the nodes.
 * Every node of a deployment runs on the same ManualClock, so ring timeouts, grace periods
 * and the cluster's sweeps move only when a test advances it.
 */
import type { RelayLimits } from 'relaycall/server';
import { RedisStore } from 'relaycall/server';
import {
  ManualClock,
  PROJECT,
  TestClient,
  startRelay,
  type Pair,
  type TestRelay,
} from './helpers.js';
import { startRedisServer, type RedisServer } from './redisServer.js';

export interface DeploymentOptions {
  limits?: Partial<RelayLimits>;
  /** Cluster only: how long a stopped node's sessions stay listed, in ms. Default: 15000. */
  presenceTtlMs?: number;
}

/** A running deployment. Leg `i` of a test is served by node `i mod nodes`. */
export interface Deployment {
  readonly clock: ManualClock;
  /** Several nodes: the Redis they share, and their keys' prefix there. */
  readonly redis?: { url: string; prefix: string };
  /** The nodes, in order (one for a single node). */
  readonly nodes: TestRelay[];
  /** The signaling URL of the node serving leg `leg`. */
  url(leg: number): string;
  /** The node serving leg `leg`. */
  node(leg: number): TestRelay;
  /** A token pair for `resource` (from the node of leg 0: every node shares the store). */
  token(resource: string, scopes?: string[]): Promise<Pair>;
  /** Opens a socket to the node of `leg` and connects it as `resource`. */
  connect(resource: string, leg: number, options?: { scopes?: string[] }): Promise<TestClient>;
  /**
   * Resumes the session of `client` (whose socket must be gone or going) through the node
   * of `leg`, from the last seq it received; resolves the new client and the connect result.
   */
  resume(
    client: TestClient,
    leg: number,
  ): Promise<{ client: TestClient; result: Record<string, unknown> }>;
  /** The session id of a client the deployment connected. */
  sessionOf(client: TestClient): string;
  /** Stops one node (as a shutdown: its sessions stay resumable elsewhere). */
  stopNode(index: number): Promise<void>;
  close(): Promise<void>;
}

export interface Topology {
  name: string;
  /** How many Relay nodes. */
  nodes: number;
  start(options?: DeploymentOptions): Promise<Deployment>;
}

/** The Redis the cluster topologies share, started on first use; see {@link stopTopologies}. */
let redis: Promise<RedisServer> | undefined;
let deployments = 0;

/**
 * Starts the Redis server the cluster deployments share (call it in beforeAll, with a long
 * timeout: starting it is not any one test's time). Deployments start it anyway if needed.
 */
export async function startTopologies(): Promise<void> {
  redis ??= startRedisServer();
  await redis;
}

/** Stops the Redis server the cluster deployments used (call it in afterAll). */
export async function stopTopologies(): Promise<void> {
  const started = redis;
  redis = undefined;
  if (started) await (await started).stop();
}

async function deploy(count: number, options: DeploymentOptions = {}): Promise<Deployment> {
  const clock = new ManualClock();
  const nodes: TestRelay[] = [];
  const clients: TestClient[] = [];
  const sessions = new Map<TestClient, { sessionId: string; jwt: string }>();
  let shared: { url: string; prefix: string } | undefined;
  try {
    if (count === 1) {
      nodes.push(await startRelay({ clock, limits: options.limits }));
    } else {
      redis ??= startRedisServer();
      const { url } = await redis;
      // A fresh key space per deployment: nothing one test leaves in Redis reaches the next.
      const prefix = `relaycall-topology-${process.pid}-${++deployments}:`;
      shared = { url, prefix };
      for (let i = 0; i < count; i++) {
        nodes.push(
          await startRelay({
            clock,
            limits: options.limits,
            store: await RedisStore.open(url, { keyPrefix: prefix }),
            cluster: { url, prefix, presenceTtlMs: options.presenceTtlMs },
          }),
        );
      }
    }
  } catch (error) {
    await Promise.allSettled(nodes.map((node) => node.close()));
    throw error;
  }
  const stopped = new Set<TestRelay>();
  const node = (leg: number) => nodes[leg % nodes.length] as TestRelay;

  async function open(leg: number, params: Record<string, unknown>) {
    const client = await TestClient.open(node(leg).wsUrl);
    clients.push(client);
    // A resumed session numbers on: its new socket starts where the old one was.
    if (typeof params.lastSeq === 'number') client.lastSeq = params.lastSeq;
    const result = await client.call('relay.connect', { project: PROJECT.id, ...params });
    sessions.set(client, { sessionId: String(result.sessionId), jwt: String(params.token) });
    return { client, result };
  }

  const deployment: Deployment = {
    clock,
    redis: shared,
    nodes,
    url: (leg) => node(leg).wsUrl,
    node,
    token: (resource, scopes) =>
      (nodes[0] as TestRelay).token({ resource, ...(scopes ? { scopes } : {}) }),
    async connect(resource, leg, { scopes } = {}) {
      const pair = await deployment.token(resource, scopes);
      return (await open(leg, { token: pair.jwt_token })).client;
    },
    async resume(client, leg) {
      const session = sessions.get(client);
      if (!session) throw new Error('resume: this client was not connected by the deployment');
      return open(leg, {
        token: session.jwt,
        sessionId: session.sessionId,
        lastSeq: client.lastSeq,
      });
    },
    sessionOf(client) {
      const session = sessions.get(client);
      if (!session) throw new Error('sessionOf: this client was not connected by the deployment');
      return session.sessionId;
    },
    async stopNode(index) {
      const stopping = nodes[index] as TestRelay;
      stopped.add(stopping);
      await stopping.relay.close();
    },
    async close() {
      for (const client of clients) client.ws.terminate();
      await Promise.all(nodes.filter((n) => !stopped.has(n)).map((n) => n.relay.close()));
    },
  };
  return deployment;
}

/**
 * One node; two nodes (legs alternate: the caller's node rings devices on both); three nodes
 * (the caller on A, the callee's devices on B, C and A).
 */
export const topologies: Topology[] = [
  { name: 'one node', nodes: 1, start: (options) => deploy(1, options) },
  { name: 'two nodes on Redis', nodes: 2, start: (options) => deploy(2, options) },
  { name: 'three nodes on Redis', nodes: 3, start: (options) => deploy(3, options) },
];
