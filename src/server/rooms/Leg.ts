import type { Scope } from '../../protocol/index.js';
import type { IdSet } from './CompactSet.js';
import type { SessionRouter } from '../signaling/SessionRouter.js';

/**
 * How the room engine reaches a participant: today a session of this node; later a session on
 * another node, an SFU or a SIP leg. A signaling `Session` is one as it is.
 */
export interface Leg {
  /** Session id. */
  readonly id: string;
  readonly projectId: string;
  readonly resource: string;
  readonly scopes: readonly Scope[];
  /** Attached (socket up): false while detached (it may resume). */
  readonly attached: boolean;
  /** Delivers an event; false when the leg's resume buffer overflowed (the caller ends the leg). */
  notify(method: string, params: Record<string, unknown>): boolean;
  /** Whether the leg keeps up with signals (else the sender is refused with peer_backlogged). */
  acceptsSignal(): boolean;
  /** Ids of the rooms this leg is a participant of (joined or away; not those it is rung into). */
  readonly rooms: IdSet<string>;
  /** When its JWT expires, in ms since the epoch (credentials minted for it expire with it). */
  readonly expiresAt?: number;
}

/** Finds legs by id, and the legs of a resource. */
export interface LegDirectory {
  get(legId: string): Leg | undefined;
  /** Legs of a resource within a project (never another project's). */
  ofResource(projectId: string, resource: string): Leg[];
}

/**
 * The legs of this node (its sessions), and for the length of one synchronous engine call the
 * legs of other nodes a cluster looked up for it in Redis beforehand (the engine never waits:
 * presence is read first, then the engine runs with what was found).
 */
export class LocalLegDirectory implements LegDirectory {
  private elsewhere: readonly Leg[] = [];

  constructor(private readonly router: SessionRouter) {}

  get(legId: string): Leg | undefined {
    return this.router.get(legId);
  }

  ofResource(projectId: string, resource: string): Leg[] {
    const local: Leg[] = this.router.ofResource(projectId, resource);
    if (this.elsewhere.length === 0) return local;
    return local.concat(
      this.elsewhere.filter((leg) => leg.projectId === projectId && leg.resource === resource),
    );
  }

  /** Runs `run` with `legs` of other nodes found too. */
  including<T>(legs: readonly Leg[], run: () => T): T {
    this.elsewhere = legs;
    try {
      return run();
    } finally {
      this.elsewhere = [];
    }
  }
}
