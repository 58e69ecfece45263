import { LocalSessionRouter } from '../signaling/SessionRouter.js';
import type { Session } from '../signaling/Session.js';
import type { Presence } from './Presence.js';

/**
 * This node's sessions, as the local router keeps them, recorded in Redis presence so the
 * other nodes can ring them; `get` also finds the sessions of other nodes that are legs of
 * this node's calls.
 */
export class ClusterRouter extends LocalSessionRouter {
  constructor(
    private readonly presence: Presence,
    private readonly remote: (sessionId: string) => Session | undefined,
    /** Told when Redis refused a presence update (the node is then unhealthy). */
    private readonly onError: (error: unknown) => void,
  ) {
    super();
  }

  override add(session: Session): void {
    super.add(session);
    this.record(session);
  }

  override remove(session: Session): void {
    super.remove(session);
    this.presence.remove(session.id).catch(this.onError);
  }

  override changeFamily(session: Session, familyId: string): void {
    super.changeFamily(session, familyId);
    this.record(session);
  }

  override get(sessionId: string): Session | undefined {
    return super.get(sessionId) ?? this.remote(sessionId);
  }

  /** Records a session's scopes (a family's: they change only with the family). */
  private record(session: Session): void {
    this.presence
      .update({
        sessionId: session.id,
        projectId: session.projectId,
        resource: session.resource,
        familyId: session.familyId,
        scopes: session.scopes,
      })
      .catch(this.onError);
  }
}
