import type { Scope } from '../../protocol/index.js';
import { Session, type SessionLink } from '../signaling/Session.js';
import type { BufferRoom } from './Backlogs.js';
import type { NodeBus } from './NodeBus.js';

/** Stands for the socket of a session held by another node: it is "attached" while known. */
const ELSEWHERE: SessionLink = {
  deliver: () => undefined,
  close: () => undefined,
  // Its own node pushes back (see Backlogs); signals are not held here.
  keepsUp: () => true,
};

/**
 * A session held by another node, as the node that owns a call sees it: the call's
 * bookkeeping works on it like on a local session, and what it is notified of travels to
 * its node over the bus, where the real session numbers it and keeps it for a resume.
 */
export class RemoteSession extends Session {
  constructor(
    init: { id: string; projectId: string; resource: string; scopes: Scope[] },
    /** The node that holds the session (it changes when the session resumes on another). */
    public node: string,
    private readonly bus: NodeBus,
  ) {
    super({ ...init, familyId: '', expiresAt: Infinity, maxBuffered: 0, maxBufferedBytes: 0 });
    this.link = ELSEWHERE;
  }

  /** Its node said it cannot take signals now (see Backlogs). */
  backlogged = false;
  /** While away: what its resume buffer takes before signals are refused, as its node said. */
  private room: BufferRoom | undefined;

  /**
   * Its node said its socket dropped (`true`), and how much room its resume buffer had left,
   * or that it came back. While away it has no link, as a detached local session: a call
   * answered meanwhile tells the other leg so, and signals stop when the room is used up.
   */
  setAway(away: boolean, room?: BufferRoom): void {
    this.link = away ? null : ELSEWHERE;
    this.room = away && room ? { ...room } : undefined;
  }

  /** Whether it takes signals: its node did not say otherwise, and, away, its buffer has room. */
  override acceptsSignal(): boolean {
    return !this.backlogged && (!this.room || (this.room.messages > 0 && this.room.bytes > 0));
  }

  override notify(method: string, params: Record<string, unknown>): boolean {
    if (this.room) {
      // As its node will keep it (seq counted at its longest).
      this.room.messages -= 1;
      this.room.bytes -= 54 + JSON.stringify(method).length + JSON.stringify(params).length;
    }
    this.bus.send(this.node, { type: 'notify', sessionId: this.id, method, params });
    return true;
  }
}
