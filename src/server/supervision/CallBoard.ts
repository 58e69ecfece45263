import type {
  CallRecord,
  CallsFilter,
  CallsListResult,
  EventParams,
} from '../../protocol/index.js';
import type { Leg } from '../rooms/Leg.js';

/** Where the board finds the calls and rooms of this node. */
export interface BoardSource {
  /** The call or room of that id on this node, with its project; undefined when gone. */
  describe(id: string): { projectId: string; record: CallRecord } | undefined;
  /** Every call and room of this node in the project. */
  list(projectId: string): CallRecord[];
}

/** Call records of the other nodes of a cluster (kept in Redis). */
export interface BoardMirror {
  /** This node's call changed or ended (it was `before`): the other nodes are told. */
  publish(projectId: string, record: CallRecord, ended: boolean, before?: CallRecord): void;
  /** The records of the project's calls on the other (live) nodes. */
  list(projectId: string): Promise<CallRecord[]>;
}

interface Watcher {
  leg: Leg;
  filter: CallsFilter;
}

/**
 * A record as last published, compared with the next field by field: every ongoing call has
 * one, and its JSON (kept to compare with before) cost more than the record, whose strings
 * the live call shares.
 */
interface Published {
  projectId: string;
  record: CallRecord;
}

/**
 * The project's ongoing calls and rooms, for supervisors (`calls.list`, `calls.watch`, and
 * `GET /api/relay/rest/calls`): this node's from its engines, the other nodes' from Redis.
 * Engines report that a call changed; the board describes it anew at the end of the turn and,
 * when its record differs from the last one, tells the watchers of its project and the other
 * nodes (`calls.updated`).
 */
export class CallBoard {
  private readonly sources: BoardSource[] = [];
  private readonly published = new Map<string, Published>();
  private readonly pending = new Set<string>();
  /** Watching sessions by leg id. */
  private readonly watchers = new Map<string, Watcher>();
  private mirror: BoardMirror | undefined;

  constructor(
    private readonly maxListed: number,
    /** Delivers `calls.updated` to a watching leg. */
    private readonly send: (leg: Leg, params: EventParams<'calls.updated'>) => void,
  ) {}

  addSource(source: BoardSource): void {
    this.sources.push(source);
  }

  /** Joins a cluster: records are shared with, and listed from, the other nodes. */
  share(mirror: BoardMirror): void {
    this.mirror = mirror;
  }

  /** A call or room changed (or ended): described again at the end of this turn. */
  changed(id: string): void {
    if (this.pending.size === 0) queueMicrotask(() => this.flush());
    this.pending.add(id);
  }

  /** Ongoing calls of the project matching the filter, oldest first. */
  async list(projectId: string, filter: CallsFilter): Promise<CallsListResult> {
    const local = this.sources.flatMap((source) => source.list(projectId));
    const remote = this.mirror ? await this.mirror.list(projectId) : [];
    const ids = new Set(local.map((record) => record.id));
    const all = local.concat(remote.filter((record) => !ids.has(record.id)));
    const calls = all.filter((record) => matches(record, filter));
    calls.sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : 1));
    const truncated = calls.length > this.maxListed;
    return { calls: truncated ? calls.slice(0, this.maxListed) : calls, truncated };
  }

  /** The leg hears of every change of the project's matching calls until unwatch(). */
  async watch(leg: Leg, filter: CallsFilter): Promise<CallsListResult> {
    this.watchers.set(leg.id, { leg, filter });
    return this.list(leg.projectId, filter);
  }

  unwatch(legId: string): void {
    this.watchers.delete(legId);
  }

  /** Another node's call changed or ended: this node's watchers are told. */
  remote(projectId: string, record: CallRecord, ended: boolean, before?: CallRecord): void {
    this.tell(projectId, record, ended, before);
  }

  /** This node's records, to be dropped from the other nodes' lists (the node is closing). */
  ownRecords(): { projectId: string; record: CallRecord }[] {
    return [...this.published.values()].map(({ projectId, record }) => ({ projectId, record }));
  }

  private flush(): void {
    const ids = [...this.pending];
    this.pending.clear();
    for (const id of ids) {
      const now = this.describe(id);
      const before = this.published.get(id);
      if (now) {
        if (before && sameJson(now.record, before.record)) continue;
        this.published.set(id, { projectId: now.projectId, record: now.record });
        this.emit(now.projectId, now.record, false, before?.record);
      } else if (before) {
        this.published.delete(id);
        this.emit(before.projectId, before.record, true);
      }
    }
  }

  private describe(id: string): { projectId: string; record: CallRecord } | undefined {
    for (const source of this.sources) {
      const found = source.describe(id);
      if (found) return found;
    }
    return undefined;
  }

  private emit(projectId: string, record: CallRecord, ended: boolean, before?: CallRecord): void {
    this.mirror?.publish(projectId, record, ended, before);
    this.tell(projectId, record, ended, before);
  }

  /**
   * Tells the watchers the call matches, or matched before this change (a call leaving a
   * watcher's filter, ringing to active say, is told once more: the watcher sees it leave).
   */
  private tell(projectId: string, record: CallRecord, ended: boolean, before?: CallRecord): void {
    for (const { leg, filter } of this.watchers.values()) {
      if (leg.projectId !== projectId) continue;
      if (!matches(record, filter) && !(before && matches(before, filter))) continue;
      this.send(leg, { call: record, ended });
    }
  }
}

/**
 * Whether two JSON values serialize alike (as JSON.stringify(a) === JSON.stringify(b) for
 * records built in one order): absent and undefined properties are the same.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((value, i) => sameJson(value, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x).filter((key) => x[key] !== undefined);
  const other = Object.keys(y).filter((key) => y[key] !== undefined);
  if (keys.length !== other.length) return false;
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i] as string;
    // Same keys in the same order, as the JSON compared before had them.
    if (key !== other[i] || !sameJson(x[key], y[key])) return false;
  }
  return true;
}

function matches(record: CallRecord, filter: CallsFilter): boolean {
  if (filter.state !== undefined && record.state !== filter.state) return false;
  if (filter.resource === undefined) return true;
  return record.participants.some((participant) => participant.resource === filter.resource);
}
