import type { Session } from './Session.js';

/**
 * Finds sessions by id, by resource and by token family. The in-process
 * router below serves one node; a shared router (Redis) takes its place when
 * several nodes serve one project.
 */
export interface SessionRouter {
  add(session: Session): void;
  remove(session: Session): void;
  /** Re-indexes a session whose family changed (re-authentication with another family). */
  changeFamily(session: Session, familyId: string): void;
  get(sessionId: string): Session | undefined;
  /** Sessions of a resource within a project (never another project's). */
  ofResource(projectId: string, resource: string): Session[];
  ofFamily(familyId: string): Session[];
  countOfProject(projectId: string): number;
  all(): IterableIterator<Session>;
  readonly size: number;
}

export class LocalSessionRouter implements SessionRouter {
  private readonly byId = new Map<string, Session>();
  private readonly byResource = new Map<string, Set<Session>>();
  private readonly byFamily = new Map<string, Set<Session>>();
  private readonly perProject = new Map<string, number>();

  add(session: Session): void {
    this.byId.set(session.id, session);
    addTo(this.byResource, resourceKey(session.projectId, session.resource), session);
    addTo(this.byFamily, session.familyId, session);
    this.perProject.set(session.projectId, this.countOfProject(session.projectId) + 1);
  }

  remove(session: Session): void {
    if (!this.byId.delete(session.id)) return;
    removeFrom(this.byResource, resourceKey(session.projectId, session.resource), session);
    removeFrom(this.byFamily, session.familyId, session);
    const count = this.countOfProject(session.projectId) - 1;
    if (count > 0) this.perProject.set(session.projectId, count);
    else this.perProject.delete(session.projectId);
  }

  changeFamily(session: Session, familyId: string): void {
    removeFrom(this.byFamily, session.familyId, session);
    session.familyId = familyId;
    addTo(this.byFamily, familyId, session);
  }

  get(sessionId: string): Session | undefined {
    return this.byId.get(sessionId);
  }

  ofResource(projectId: string, resource: string): Session[] {
    return [...(this.byResource.get(resourceKey(projectId, resource)) ?? [])];
  }

  ofFamily(familyId: string): Session[] {
    return [...(this.byFamily.get(familyId) ?? [])];
  }

  countOfProject(projectId: string): number {
    return this.perProject.get(projectId) ?? 0;
  }

  all(): IterableIterator<Session> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }
}

// JSON keeps the two parts apart whatever characters they hold, so no
// project's resource can collide with another project's.
function resourceKey(projectId: string, resource: string): string {
  return JSON.stringify([projectId, resource]);
}

function addTo<V>(map: Map<string, Set<V>>, key: string, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function removeFrom<V>(map: Map<string, Set<V>>, key: string, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
