import type { Redis } from 'ioredis';
import type { RelayLimits } from '../../protocol/index.js';
import type { Clock } from '../clock.js';

/** How a Cluster member is built (connectCluster builds it from a ClusterConfig). */
export interface ClusterOptions {
  /** Connections to Redis: `pub` for commands and publishing, `sub` for this node's channel. */
  pub: Redis;
  sub: Redis;
  /** Key and channel prefix. Default: 'relaycall:'. */
  prefix?: string;
  /** This node's id. Default: a random UUID (a restarted node is a new node). */
  nodeId?: string;
  /** How long a dead node's sessions stay listed, in ms. Default: 15000. */
  presenceTtlMs?: number;
  /** How long a node waits for another's answer, in ms (real time). Default: 2000. */
  requestTimeoutMs?: number;
  /**
   * The Relay's clock: it paces the sweep for dead nodes and dates their last signs of life
   * (the resume grace after a node died). Default: the system clock. The liveness keys
   * expire in Redis's time, so they are refreshed on real time whatever the clock.
   */
  clock?: Clock;
  /** The Relay's resume buffer limits (the same on every node). Default: DEFAULT_LIMITS. */
  limits?: Pick<RelayLimits, 'resumeBufferMessages' | 'resumeBufferBytes'>;
  /**
   * Told of each Redis command that failed in the background (a presence or record write, a
   * publish), which nothing waits for: the Relay logs them. Default: none (ignored).
   */
  onError?: (error: unknown) => void;
}
