import { ServerEvents, type Supervisor } from '../../protocol/index.js';
import type { Room } from './Room.js';
import type { RoomNotifier } from './RoomNotifier.js';

/** The room's supervisors as `call.assisted` lists them. */
export function supervisorsOf(room: Room): Supervisor[] {
  return room.supervisors().map(({ participant, assist }) => {
    const supervisor: Supervisor = {
      participantId: participant.id,
      resource: participant.resource,
      mode: assist!.mode,
      since: assist!.since,
    };
    if (assist!.agent !== undefined) supervisor.agent = assist!.agent;
    return supervisor;
  });
}

/**
 * Tells everyone present in the room (parties and supervisors) who supervises it now, each
 * with its own participant id: `call.assisted`.
 */
export function tellAssisted(tell: RoomNotifier, room: Room): void {
  const supervisors = supervisorsOf(room);
  for (const member of room.present()) {
    tell.leg(member.legId, ServerEvents.assisted, {
      callId: room.id,
      participantId: member.participant.id,
      supervisors,
    });
  }
}
