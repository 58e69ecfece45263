import { ErrorCodes, RelayError, type RoomJoinResult } from '../../protocol/index.js';
import { newRoomSnapshot } from './newRoomSnapshot.js';
import { newRoomInternal, type RoomDraft } from './roomDraft.js';
import { roomJoined } from './roomJoined.js';
import { upsertParticipant } from './roomParticipants.js';

// This client in a room as a supervisor (`call.assist` answered with `room`): part of the room
// reducer. The supervision code asks; the room machinery carries the media like any room's.

/**
 * The Relay let this client into a room as a supervisor: the room is joined as the answer
 * says, without a `room.join` of its own. `stream`: the microphone it may send (whisper,
 * barge), else null.
 */
export function assistJoined(d: RoomDraft, result: RoomJoinResult, stream: MediaStream | null) {
  const { name } = result;
  const room = d.room(name);
  if (room && room.state !== 'left') {
    if (d.internal(name)?.assisting) assistChanged(d, result, stream);
    return; // joined by name on this client: the Relay refuses a participant's assist anyway
  }
  const attempt = (d.internal(name)?.attempt ?? 0) + 1;
  const own = result.participants.find((p) => p.id === result.participantId);
  d.putRoom(
    name,
    {
      ...newRoomSnapshot(name),
      localStream: stream,
      // As the Relay lists them, so that no room.update follows the join.
      audioMuted: own?.audioMuted ?? false,
      videoMuted: own?.videoMuted ?? false,
    },
    { ...newRoomInternal(attempt, undefined, undefined), phase: 'join', assisting: true },
  );
  roomJoined(d, name, attempt, result);
}

/** The supervisor's mode changed: its own participant (and the others) as the Relay answered. */
export function assistChanged(d: RoomDraft, result: RoomJoinResult, stream: MediaStream | null) {
  const name = d.state.names[result.roomId];
  const internal = name === undefined ? undefined : d.internal(name);
  if (name === undefined || !internal?.assisting || internal.phase !== 'in') return;
  d.patchRoom(name, { localStream: stream });
  for (const participant of result.participants) upsertParticipant(d, name, participant);
}

/** A supervisor cannot follow its room to another node or media server by joining it again. */
export function assistCannotRejoin(name: string): RelayError {
  return new RelayError(
    ErrorCodes.closed,
    `The room "${name}" moved (the Relay restarted, lost this session, or moved it to the media server), so this supervisor left it. Assist it again.`,
  );
}
