import type { Session } from '../signaling/Session.js';
import type { HandedRoom } from './ClusterRooms.js';
import type { SessionRecord } from './SessionRecords.js';

/** What a node needs from its signaling server to serve the others. */
export interface ClusterHost {
  /** This node's session by id. */
  session(sessionId: string): Session | undefined;
  /** Runs a call request of a session held by another node, on a call this node owns. */
  callRequest(
    session: Session,
    method: string,
    params: Record<string, unknown>,
  ): { result: unknown; after?: () => void };
  /** Runs `run` with legs of other nodes the room engine may ring too (see LocalLegDirectory). */
  includingLegs<T>(legs: readonly Session[], run: () => T): T;
  /** A session held elsewhere dropped, came back, or ended, for the calls this node owns. */
  legEvent(session: Session, event: 'detached' | 'resumed' | 'ended'): void;
  /** Closes this node's sessions of a revoked family. */
  revokeFamily(familyId: string): void;
  /**
   * Lets go of a session another node resumes: closes its socket, keeps its calls going
   * (this node now reaches it through that node); returns the calls it was a leg of.
   */
  handOver(sessionId: string, node: string): HandedOver | undefined;
  maxCallsPerSession: number;
  /** How long a dropped session may be resumed, in ms (its record outlives its node that long). */
  resumeGraceMs: number;
}

/** The calls of a session handed over to another node. */
export interface HandedOver {
  /** Calls the old node owns (they stay there). */
  owned: string[];
  /** Calls owned by third nodes. */
  foreign: { callId: string; owner: string }[];
  /** Rooms it is in, wherever they live (this old node included). */
  rooms?: HandedRoom[];
}

/** A session another node held, to resume here. */
export interface Adopted {
  record: SessionRecord;
  calls: { callId: string; owner: string }[];
  /** Rooms it is in, with the nodes holding them. */
  rooms?: HandedRoom[];
}
