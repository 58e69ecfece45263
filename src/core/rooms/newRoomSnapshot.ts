import type { RoomSnapshot } from '../types.js';

/**
 * A room being joined, before the Relay answers. Its own module: the page-load chunk uses it
 * too (rooms not loaded yet), without pulling in the room code.
 */
export function newRoomSnapshot(name: string): RoomSnapshot {
  return {
    name,
    id: null,
    state: 'joining',
    participantId: null,
    participants: {},
    localStream: null,
    screenStream: null,
    screenShareError: null,
    audioMuted: false,
    videoMuted: false,
    activeSpeakerId: null,
    maxParticipants: null,
    media: null,
    leftReason: null,
    error: null,
  };
}
