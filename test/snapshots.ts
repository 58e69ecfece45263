/**
 * Store snapshots for the tests that put calls and rooms into a client's store themselves (core
 * and React): every field at the value a new one has, and `patch` on top.
 */
import type { CallSnapshot, ParticipantSnapshot, RoomSnapshot } from 'relaycall/core';
import { newCallSnapshot } from '../src/core/calls/newCallSnapshot.js';

/** A call `id` ringing in from 'zoe', as the client puts it in its store, with `patch`. */
export const callSnapshot = (id: string, patch: Partial<CallSnapshot> = {}): CallSnapshot => ({
  ...newCallSnapshot(id, 'incoming', 'zoe', null),
  state: 'ringing',
  ...patch,
});

/** A participant `id` (its resource too, unless patched), joined and connected, not local. */
export const participantSnapshot = (
  id: string,
  patch: Partial<ParticipantSnapshot> = {},
): ParticipantSnapshot => ({
  id,
  resource: id,
  state: 'joined',
  isLocal: false,
  metadata: null,
  audioMuted: false,
  videoMuted: false,
  moderator: false,
  stream: null,
  screenStream: null,
  connected: true,
  reconnecting: false,
  speaking: false,
  assist: null,
  agent: null,
  ...patch,
});

/** The room `name`, joined (mesh), with `people`: the local one among them is this client. */
export function roomSnapshot(
  name: string,
  people: ParticipantSnapshot[],
  patch: Partial<RoomSnapshot> = {},
): RoomSnapshot {
  return {
    name,
    id: `room-${name}`,
    state: 'joined',
    participantId: people.find((p) => p.isLocal)?.id ?? null,
    participants: Object.fromEntries(people.map((p) => [p.id, p])),
    localStream: null,
    screenStream: null,
    screenShareError: null,
    audioMuted: false,
    videoMuted: false,
    activeSpeakerId: null,
    maxParticipants: 8,
    media: 'mesh',
    leftReason: null,
    error: null,
    ...patch,
  };
}
