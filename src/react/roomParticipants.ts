import type { ParticipantSnapshot, RoomSnapshot } from '../core/index.js';

const NONE: ParticipantSnapshot[] = [];

/**
 * The participants of `room` to show: the local one first, then the others in join order (the
 * order the client learnt of them), ringing invitees included, those that left excluded.
 */
export function listParticipants(room: RoomSnapshot | undefined): ParticipantSnapshot[] {
  if (!room) return NONE;
  const shown = Object.values(room.participants).filter((p) => p.state !== 'left');
  return [...shown.filter((p) => p.isLocal), ...shown.filter((p) => !p.isLocal)];
}

/** What a participant is called: the `name` of its metadata when it is a string, else its resource. */
export function participantName(participant: ParticipantSnapshot): string {
  const { metadata } = participant;
  if (typeof metadata === 'object' && metadata !== null && 'name' in metadata) {
    const { name } = metadata;
    if (typeof name === 'string' && name.trim() !== '') return name;
  }
  return participant.resource;
}
