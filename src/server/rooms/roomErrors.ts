import { ErrorCodes, RelayError } from '../../protocol/index.js';

/*
 * The errors of the room engine, each saying what happened and what to do. The edge turns them
 * into JSON-RPC errors through the protocol's error table.
 */

export function notInRoom(toDo: string): RelayError {
  return new RelayError(
    ErrorCodes.roomNotFound,
    'This session is not in that room (it may have ended, or the session left it or was ' +
      `removed). Join the room before trying to ${toDo}.`,
  );
}

export function noSuchRoom(): RelayError {
  return new RelayError(
    ErrorCodes.roomNotFound,
    'No such room: it may have ended. Check the room id.',
  );
}

export function noInvitation(): RelayError {
  return new RelayError(
    ErrorCodes.roomNotFound,
    'No invitation to this room is ringing on this session: it may have been answered, ' +
      'declined or ended. Check the room id.',
  );
}

export function inRoomNotInvited(): RelayError {
  return new RelayError(
    ErrorCodes.invalidState,
    'This session is in the room, not invited to it. Leave it with room.leave instead.',
  );
}

export function removedFromRoom(): RelayError {
  return new RelayError(
    ErrorCodes.forbidden,
    'This user was removed from this room by a moderator and cannot join it again while it lasts.',
  );
}

export function removedInvitee(resource: string): RelayError {
  return new RelayError(
    ErrorCodes.forbidden,
    `"${resource}" was removed from this room by a moderator and cannot be invited back while it lasts.`,
  );
}

export function notModeratorHere(action: string): RelayError {
  return new RelayError(
    ErrorCodes.forbidden,
    `Only a moderator in this room may ${action}. Join the room first.`,
  );
}

export function tooManyRoomsPerSession(max: number): RelayError {
  return new RelayError(
    ErrorCodes.limitExceeded,
    `This session is already in ${max} rooms (maxRoomsPerSession). Leave one before joining another.`,
  );
}

export function tooManyRoomsPerProject(max: number): RelayError {
  return new RelayError(
    ErrorCodes.limitExceeded,
    `This project already has ${max} rooms (maxRoomsPerProject). Join an existing room, or try ` +
      'again when one has ended.',
  );
}

export function roomFull(max: number, whatToDo: string): RelayError {
  return new RelayError(
    ErrorCodes.roomFull,
    `This room already has ${max} participants (maxRoomParticipants, counting those being ` +
      `rung): mesh rooms are kept small, as each participant sends its media to every other. ${whatToDo}`,
  );
}

export function alreadyRinging(resource: string): RelayError {
  return new RelayError(
    ErrorCodes.invalidState,
    `"${resource}" is already being rung into this room. Wait for it to join, decline or time out.`,
  );
}

export function nobodyToRing(resource: string): RelayError {
  return new RelayError(
    ErrorCodes.unavailable,
    `"${resource}" has no connected session that may join rooms (scope "rooms:join") and is not ` +
      'in this room already. Try again when they are online.',
  );
}

export function noParticipant(participantId: string): RelayError {
  return new RelayError(
    ErrorCodes.invalidState,
    `No participant "${participantId}" in this room: it left, or never was. Use the ids of the ` +
      'join result and of room.joined.',
  );
}

export function stillRinging(participantId: string, action: string): RelayError {
  return new RelayError(
    ErrorCodes.invalidState,
    `Participant "${participantId}" is being rung and has not joined yet, so you cannot ` +
      `${action} it. Wait for its room.joined with state "joined".`,
  );
}

export function signalToSelf(): RelayError {
  return new RelayError(
    ErrorCodes.invalidParams,
    'room.signal: "to" is this participant itself. Send signals to the other participants.',
  );
}

export function removeSelf(): RelayError {
  return new RelayError(
    ErrorCodes.invalidParams,
    'room.remove: a moderator cannot remove itself. Leave with room.leave instead.',
  );
}

export function peerBacklogged(): RelayError {
  return new RelayError(
    ErrorCodes.peerBacklogged,
    'That participant has not yet read the signals already sent to it, so this one was not ' +
      'forwarded. Send it again shortly.',
  );
}

export function sfuNotConfigured(): RelayError {
  return new RelayError(
    ErrorCodes.sfuUnavailable,
    'This Relay has no media server for sfu rooms. Join with media "mesh", or start the Relay ' +
      'with --janus (docs/DEPLOY.md#janus).',
  );
}

export function sfuUnavailable(): RelayError {
  return new RelayError(
    ErrorCodes.sfuUnavailable,
    "The Relay cannot reach its media server (Janus), which carries this room's media. Try " +
      'again shortly; if it lasts, the operator should check that Janus is running.',
  );
}

export function monitorSendsNothing(): RelayError {
  return new RelayError(
    ErrorCodes.invalidState,
    'A monitoring supervisor sends no media. Assist again in whisper or barge mode to speak.',
  );
}

export function notHeard(participantId: string): RelayError {
  return new RelayError(
    ErrorCodes.forbidden,
    `Participant ${participantId} is a supervisor this participant does not hear (its assist ` +
      'mode). Do not subscribe to it.',
  );
}
