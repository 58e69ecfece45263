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

/** One session by itself, or several: most resources and token families have one. */
type OneOrMore = Session | Session[];

export class LocalSessionRouter implements SessionRouter {
  private readonly byId = new Map<string, Session>();
  /** By project, then resource: no key string kept per session. */
  private readonly byResource = new Map<string, Map<string, OneOrMore>>();
  private readonly perProject = new Map<string, number>();

  add(session: Session): void {
    this.byId.set(session.id, session);
    let resources = this.byResource.get(session.projectId);
    if (!resources)
      this.byResource.set(session.projectId, (resources = new Map<string, OneOrMore>()));
    addTo(resources, session.resource, session);
    this.perProject.set(session.projectId, this.countOfProject(session.projectId) + 1);
  }

  remove(session: Session): void {
    if (!this.byId.delete(session.id)) return;
    const resources = this.byResource.get(session.projectId);
    if (resources) {
      removeFrom(resources, session.resource, session);
      if (resources.size === 0) this.byResource.delete(session.projectId);
    }
    const count = this.countOfProject(session.projectId) - 1;
    if (count > 0) this.perProject.set(session.projectId, count);
    else this.perProject.delete(session.projectId);
  }

  changeFamily(session: Session, familyId: string): void {
    session.familyId = familyId;
  }

  get(sessionId: string): Session | undefined {
    return this.byId.get(sessionId);
  }

  ofResource(projectId: string, resource: string): Session[] {
    return listOf(this.byResource.get(projectId)?.get(resource));
  }

  /**
   * A scan, not an index: families are looked up only to revoke one (rare), and an index cost
   * every session a map entry.
   */
  ofFamily(familyId: string): Session[] {
    const found: Session[] = [];
    for (const session of this.byId.values())
      if (session.familyId === familyId) found.push(session);
    return found;
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

/** A new array of the sessions, in the order they were added. */
function listOf(entry: OneOrMore | undefined): Session[] {
  if (entry === undefined) return [];
  return Array.isArray(entry) ? entry.slice() : [entry];
}

function addTo(map: Map<string, OneOrMore>, key: string, session: Session): void {
  const entry = map.get(key);
  if (entry === undefined) map.set(key, session);
  else if (!Array.isArray(entry)) {
    if (entry !== session) map.set(key, [entry, session]);
    // Copies of the exact size: a pushed-to array reserves room for 17.
  } else if (!entry.includes(session)) map.set(key, entry.concat(session));
}

function removeFrom(map: Map<string, OneOrMore>, key: string, session: Session): void {
  const entry = map.get(key);
  if (entry === session) map.delete(key);
  else if (Array.isArray(entry)) {
    const at = entry.indexOf(session);
    if (at < 0) return;
    const rest = entry.slice(0, at).concat(entry.slice(at + 1));
    map.set(key, rest.length === 1 ? (rest[0] as Session) : rest);
  }
}
