import type { Scope } from '../../protocol/index.js';
import { Session, type SessionLink } from '../signaling/Session.js';
import type { NodeBus } from './NodeBus.js';

/** Stands for the socket of a session held by another node: it is "attached" while known. */
const ELSEWHERE: SessionLink = {
  deliver: () => undefined,
  close: () => undefined,
  // Its own node pushes back if it must; signals are not held here.
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

  override notify(method: string, params: Record<string, unknown>): boolean {
    this.bus.send(this.node, { type: 'notify', sessionId: this.id, method, params });
    return true;
  }
}
