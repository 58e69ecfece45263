import { newId } from '../crypto.js';
import type { RelayLimits } from '../../protocol/index.js';
import { Room, type RoomKindName } from './Room.js';
import { tooManyRoomsPerProject } from './roomErrors.js';

/** What the engine holds, for health and metrics. */
export interface RoomStats {
  rooms: number;
  /** Joined and away participants, across rooms. */
  participants: number;
  /** Participants being rung, across rooms. */
  ringing: number;
}

/**
 * The rooms of this node, calls included, by id; named rooms also by project and name, within
 * maxRoomsPerProject (calls have no name and count against maxCallsPerSession instead).
 */
export class RoomRegistry {
  private readonly byId = new Map<string, Room>();
  private readonly counts: Record<RoomKindName, number> = { room: 0, call: 0 };
  private readonly byName = new Map<string, Room>();
  private readonly perProject = new Map<string, number>();

  constructor(
    private readonly limits: RelayLimits,
    /** ms since the epoch: when rooms start. */
    private readonly now: () => number,
  ) {}

  /** Every live room and call. */
  all(): IterableIterator<Room> {
    return this.byId.values();
  }

  /** The live room or call of that id, of any kind. */
  find(roomId: string): Room | undefined {
    return this.byId.get(roomId);
  }

  /** Rooms of a kind. */
  count(kind: RoomKindName): number {
    return this.counts[kind];
  }

  /** The room of that id, when it is of that kind. */
  get(roomId: string, kind: RoomKindName): Room | undefined {
    const room = this.byId.get(roomId);
    return room?.kind === kind ? room : undefined;
  }

  named(projectId: string, name: string): Room | undefined {
    return this.byName.get(nameKey(projectId, name));
  }

  /** Whether the room is still registered (not ended). */
  holds(room: Room): boolean {
    return this.byId.get(room.id) === room;
  }

  /** A new room with a random id; limit_exceeded when the project has maxRoomsPerProject. */
  create(projectId: string, name: string): Room {
    const count = this.perProject.get(projectId) ?? 0;
    if (count >= this.limits.maxRoomsPerProject) {
      throw tooManyRoomsPerProject(this.limits.maxRoomsPerProject);
    }
    const room = new Room(newId(), projectId, name);
    room.startedAt = this.now();
    this.byId.set(room.id, room);
    this.counts.room += 1;
    this.byName.set(nameKey(projectId, name), room);
    this.perProject.set(projectId, count + 1);
    return room;
  }

  /** A new call: a room with a random id and no name. */
  createCall(projectId: string): Room {
    const room = new Room(newId(), projectId, '', 'call');
    room.startedAt = this.now();
    this.byId.set(room.id, room);
    this.counts.call += 1;
    return room;
  }

  /** Forgets a room; false when it was gone already. */
  delete(room: Room): boolean {
    if (!this.holds(room)) return false;
    this.byId.delete(room.id);
    this.counts[room.kind] -= 1;
    if (room.kind === 'call') return true;
    this.byName.delete(nameKey(room.projectId, room.name));
    const count = (this.perProject.get(room.projectId) ?? 1) - 1;
    if (count > 0) this.perProject.set(room.projectId, count);
    else this.perProject.delete(room.projectId);
    return true;
  }

  /** What the named rooms hold (calls are counted apart). */
  stats(): RoomStats {
    const stats: RoomStats = { rooms: this.counts.room, participants: 0, ringing: 0 };
    for (const room of this.byId.values()) {
      if (room.kind !== 'room') continue;
      const present = room.present().length;
      stats.participants += present;
      stats.ringing += room.size - present;
    }
    return stats;
  }
}

// JSON keeps the two parts apart whatever characters they hold (as SessionRouter's keys).
function nameKey(projectId: string, name: string): string {
  return JSON.stringify([projectId, name]);
}
