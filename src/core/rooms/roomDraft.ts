import type { AssistMode, Participant, ParticipantState, RoomMedia } from '../../protocol/index.js';
import type { ParticipantSnapshot, RoomSnapshot } from '../types.js';
import type { RoomEffect, RoomInternal, RoomRequest, RoomsState } from './roomActions.js';

/**
 * The reducer's working copy: every change makes new objects along its path (copy on write), so
 * the state it started from is never touched and unchanged rooms keep their identity.
 */
export class RoomDraft {
  readonly effects: RoomEffect[] = [];

  constructor(public state: RoomsState) {}

  room(name: string): RoomSnapshot | undefined {
    return this.state.rooms[name];
  }

  internal(name: string): RoomInternal | undefined {
    return this.state.internal[name];
  }

  emit(...effects: RoomEffect[]): void {
    this.effects.push(...effects);
  }

  request(name: string | null, request: RoomRequest): void {
    this.effects.push({ type: 'request', name, request });
  }

  putRoom(name: string, room: RoomSnapshot | undefined, internal?: RoomInternal): void {
    const rooms = { ...this.state.rooms };
    const internals = { ...this.state.internal };
    if (room) rooms[name] = room;
    else delete rooms[name];
    if (internal) internals[name] = internal;
    else if (!room) delete internals[name];
    this.state = { ...this.state, rooms, internal: internals };
  }

  patchRoom(name: string, patch: Partial<RoomSnapshot>): void {
    const room = this.state.rooms[name];
    if (room)
      this.state = { ...this.state, rooms: { ...this.state.rooms, [name]: { ...room, ...patch } } };
  }

  patchInternal(name: string, patch: Partial<RoomInternal>): void {
    const internal = this.state.internal[name];
    if (!internal) return;
    this.state = {
      ...this.state,
      internal: { ...this.state.internal, [name]: { ...internal, ...patch } },
    };
  }

  /** Replaces (or with undefined removes) one participant's snapshot. */
  putParticipant(name: string, id: string, participant: ParticipantSnapshot | undefined): void {
    const room = this.state.rooms[name];
    if (!room) return;
    const participants = { ...room.participants };
    if (participant) participants[id] = participant;
    else delete participants[id];
    this.patchRoom(name, { participants });
  }

  patchParticipant(name: string, id: string, patch: Partial<ParticipantSnapshot>): void {
    const participant = this.state.rooms[name]?.participants[id];
    if (participant) this.putParticipant(name, id, { ...participant, ...patch });
  }

  putEntry<K extends 'roomInvites' | 'names'>(
    key: K,
    id: string,
    value: RoomsState[K][string] | undefined,
  ): void {
    const map = { ...this.state[key] } as Record<string, RoomsState[K][string]>;
    if (value === undefined) {
      if (!(id in map)) return;
      delete map[id];
    } else map[id] = value;
    this.state = { ...this.state, [key]: map };
  }
}

/** Participants one peers with: those in the room, connected to the Relay or not. */
export const peersWith = (state: ParticipantState) => state === 'joined' || state === 'away';

/**
 * The mesh rule: of two participants, the one with the smaller id (string order) offers, so
 * both sides agree without asking each other and no two offers cross.
 */
export const isInitiator = (ownId: string, otherId: string) => ownId < otherId;

/**
 * Whether the participant `ownId` hears `source`: anyone but a supervisor, a barging one, a
 * whispering one whose agent it is (the Relay's rule, which the media server enforces).
 */
export const hears = (
  ownId: string | null,
  source: { assist?: AssistMode | null | undefined; agent?: string | null | undefined },
) =>
  !source.assist ||
  source.assist === 'barge' ||
  (source.assist === 'whisper' && ownId !== null && source.agent === ownId);

/**
 * A participant as the Relay describes it, with what this client knows of its media. A
 * supervisor's stream is `supervisorStream` (what was received of it), shown only when heard.
 */
export function participantSnapshot(
  participant: Participant,
  room: RoomSnapshot,
  ownId: string | null,
  previous: ParticipantSnapshot | undefined,
  supervisorStream?: MediaStream,
): ParticipantSnapshot {
  const isLocal = participant.id === ownId;
  const assist = participant.assist ?? null;
  const received = assist
    ? hears(ownId, participant)
      ? (supervisorStream ?? null)
      : null
    : (previous?.stream ?? null);
  return {
    id: participant.id,
    resource: participant.resource,
    state: participant.state,
    isLocal,
    metadata: participant.metadata,
    // Our own flags are ours: the Relay's copy may lag behind a room.update in flight.
    audioMuted: isLocal ? room.audioMuted : participant.audioMuted,
    videoMuted: isLocal ? room.videoMuted : participant.videoMuted,
    moderator: participant.moderator,
    stream: isLocal ? room.localStream : received,
    screenStream: isLocal ? room.screenStream : (previous?.screenStream ?? null),
    connected: isLocal || (previous?.connected ?? false),
    reconnecting: !isLocal && (previous?.reconnecting ?? false),
    speaking: previous?.speaking ?? false,
    assist,
    agent: participant.agent ?? null,
  };
}

export function newRoomInternal(
  attempt: number,
  metadata: unknown,
  media: RoomMedia | undefined,
): RoomInternal {
  return {
    attempt,
    phase: 'media',
    metadata,
    media,
    rejoining: false,
    peers: {},
    ghosts: [],
    heldSignals: [],
    retries: 0,
    qualities: {},
    assisting: false,
    supervisorStreams: {},
  };
}
