import type { RoomRegistry } from '../rooms/RoomRegistry.js';
import type { BoardSource } from './CallBoard.js';
import { describeRoom } from './describeRoom.js';

/** The rooms and 1:1 calls of this node's engine, as the call board lists them. */
export function roomsOnBoard(registry: RoomRegistry): BoardSource {
  return {
    describe(id) {
      const room = registry.find(id);
      return room && { projectId: room.projectId, record: describeRoom(room) };
    },
    list(projectId) {
      const records = [];
      for (const room of registry.all()) {
        if (room.projectId === projectId) records.push(describeRoom(room));
      }
      return records;
    },
  };
}
