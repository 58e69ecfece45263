import type { CallRecord, CallRecordParticipant } from '../../protocol/index.js';
import type { Member, Room } from '../rooms/Room.js';

/** A room or 1:1 call of this node as `calls.list` describes it. */
export function describeRoom(room: Room): CallRecord {
  const call = room.kind === 'call';
  const record: CallRecord = {
    id: room.id,
    kind: room.kind,
    media: call ? 'p2p' : room.media,
    state: call && room.answeredAt === undefined ? 'ringing' : 'active',
    startedAt: room.startedAt,
    participants: room.members().map((member) => participantOf(room, member)),
    assists: room.assists.map((entry) => ({ ...entry })),
  };
  if (!call) record.name = room.name;
  if (room.answeredAt !== undefined) record.answeredAt = room.answeredAt;
  return record;
}

function participantOf(room: Room, member: Member): CallRecordParticipant {
  const { participant, assist } = member;
  const listed: CallRecordParticipant = {
    id: participant.id,
    resource: participant.resource,
    state: participant.state,
    role: assist
      ? 'supervisor'
      : room.call?.caller === member
        ? 'caller'
        : room.call?.callee === member
          ? 'callee'
          : 'participant',
  };
  if (assist) listed.assist = assist.mode;
  return listed;
}
