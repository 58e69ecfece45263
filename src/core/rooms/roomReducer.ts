import type { RelayError, RoomJoinResult } from '../../protocol/index.js';
import type { ParticipantSnapshot, RoomLeftReason } from '../types.js';
import type { RoomAction, RoomResult, RoomServerEvent, RoomsState } from './roomActions.js';
import {
  RoomDraft,
  isInitiator,
  newRoomInternal,
  participantSnapshot,
  peersWith,
} from './roomDraft.js';
import { newRoomSnapshot } from './newRoomSnapshot.js';
import {
  audioLevels,
  peerClosed,
  peerSignal,
  removeParticipant,
  upsertParticipant,
} from './roomParticipants.js';

/**
 * After a rejoin (a fresh session), participants the Relay does not list yet keep their peer
 * this long, in ms: they may be rejoining too (a Relay restart drops everyone at once).
 */
export const REJOIN_GRACE_MS = 30_000;

/**
 * The rooms of a client as a pure function: `(state, action) → { state, effects }`. Actions are
 * the app's, the Relay's, the peers' and the media's; effects are data the RoomManager carries
 * out (requests, peers, media, timers). No I/O here; unchanged rooms keep their identity.
 */
export function roomReducer(state: RoomsState, action: RoomAction): RoomResult {
  const draft = new RoomDraft(state);
  apply(draft, action);
  return { state: draft.state, effects: draft.effects };
}

function apply(d: RoomDraft, action: RoomAction): void {
  switch (action.type) {
    case 'join':
      return join(d, action.name, action.metadata, action.refused);
    case 'leave': {
      const room = d.room(action.name);
      if (room && room.state !== 'left') close(d, action.name, 'left', null, true);
      return;
    }
    case 'dismiss': {
      const room = d.room(action.name);
      if (room && room.state !== 'left') close(d, action.name, 'left', null, true);
      // Its attempt stays known: a join answered after this is left at once.
      if (room) d.putRoom(action.name, undefined, d.internal(action.name));
      return;
    }
    case 'decline':
      d.putEntry('roomInvites', action.roomId, undefined);
      d.request(null, { method: 'room.decline', params: { roomId: action.roomId } });
      return;
    case 'ended':
      if (d.room(action.name)?.id === action.roomId) close(d, action.name, 'ended', null, false);
      return;
    case 'setMuted':
      return setMuted(d, action.name, action.kind, action.muted);
    case 'mediaReady':
      return mediaReady(d, action.name, action.attempt, action.stream);
    case 'mediaFailed':
    case 'joinFailed': {
      const internal = d.internal(action.name);
      const phase = action.type === 'mediaFailed' ? 'media' : 'join';
      if (internal?.attempt !== action.attempt || internal.phase !== phase) return;
      close(d, action.name, 'failed', action.error, false);
      return;
    }
    case 'joined':
      return joined(d, action.name, action.attempt, action.result);
    case 'connectionLost':
      for (const [name, room] of Object.entries(d.state.rooms)) {
        if (room.state === 'joined') d.patchRoom(name, { state: 'reconnecting' });
      }
      return;
    case 'connected':
      return connected(d, action.resumed);
    case 'event':
      return onEvent(d, action.event);
    case 'peerSignal':
      return peerSignal(d, action.name, action.participantId, action.signal);
    case 'peerStream':
      d.patchParticipant(action.name, action.participantId, { stream: action.stream });
      return;
    case 'peerConnected':
      d.patchParticipant(action.name, action.participantId, { connected: true });
      return;
    case 'peerClosed':
      return peerClosed(d, action.name, action.participantId);
    case 'audioLevels':
      return audioLevels(d, action.name, action.levels);
    case 'rejoinGraceOver': {
      const internal = d.internal(action.name);
      if (internal?.attempt !== action.attempt) return;
      for (const id of internal.ghosts) removeParticipant(d, action.name, id);
      return;
    }
  }
}

function join(d: RoomDraft, name: string, metadata: unknown, refused?: RelayError): void {
  const room = d.room(name);
  if (room && room.state !== 'left') return; // joining or in it already
  const attempt = (d.internal(name)?.attempt ?? 0) + 1;
  d.putRoom(name, newRoomSnapshot(name), newRoomInternal(attempt, metadata));
  for (const invite of Object.values(d.state.roomInvites)) {
    if (invite.name === name) d.putEntry('roomInvites', invite.roomId, undefined);
  }
  if (refused) close(d, name, 'failed', refused, false);
  else d.emit({ type: 'acquireMedia', name, attempt });
}

function mediaReady(d: RoomDraft, name: string, attempt: number, stream: MediaStream | null) {
  const room = d.room(name);
  const internal = d.internal(name);
  if (!room || internal?.attempt !== attempt || internal.phase !== 'media') return;
  const has = (kind: string) => stream?.getTracks().some((track) => track.kind === kind) ?? false;
  // Without a track of a kind, this participant shows as muted for it.
  const audioMuted = room.audioMuted || !has('audio');
  const videoMuted = room.videoMuted || !has('video');
  d.patchRoom(name, { localStream: stream, audioMuted, videoMuted });
  d.patchInternal(name, { phase: 'join' });
  d.emit(
    { type: 'setTrackEnabled', name, kind: 'audio', enabled: !audioMuted },
    { type: 'setTrackEnabled', name, kind: 'video', enabled: !videoMuted },
  );
  sendJoin(d, name, null);
}

/** Asks for `room.join` for the room's current attempt (`participantId`: the one to take again). */
function sendJoin(d: RoomDraft, name: string, participantId: string | null): void {
  const room = d.room(name);
  const internal = d.internal(name);
  if (!room || !internal) return;
  d.emit({
    type: 'join',
    name,
    attempt: internal.attempt,
    params: {
      name,
      ...(internal.metadata === undefined ? {} : { metadata: internal.metadata }),
      ...(participantId ? { participantId } : {}),
      audioMuted: room.audioMuted,
      videoMuted: room.videoMuted,
    },
  });
}

function joined(d: RoomDraft, name: string, attempt: number, result: RoomJoinResult): void {
  const room = d.room(name);
  const internal = d.internal(name);
  if (internal?.attempt !== attempt) return;
  if (internal.phase !== 'join' || !room) {
    // Left while the Relay was letting us in: leave again, now that the room is known.
    if (!room || room.state === 'left') {
      d.request(null, { method: 'room.leave', params: { roomId: result.roomId } });
    }
    return;
  }
  const ownId = result.participantId;
  const listed = new Map(result.participants.map((p) => [p.id, p]));
  const previous = room.participants;
  const participants: Record<string, ParticipantSnapshot> = {};
  const local = { ...room, participantId: ownId };
  for (const p of result.participants) {
    const before = previous[p.id];
    participants[p.id] = participantSnapshot(
      p,
      local,
      ownId,
      before?.resource === p.resource ? before : undefined,
    );
  }
  // Reconcile the peers kept across a fresh session with who is in the room now.
  const peers = { ...internal.peers };
  const ghosts: string[] = [];
  for (const [id, resource] of Object.entries(internal.peers)) {
    const p = listed.get(id);
    if (p && p.resource === resource && id !== ownId && peersWith(p.state)) continue;
    const before = previous[id];
    if (!p && internal.rejoining && before) {
      // Not back yet: its media still flows, and it may be rejoining as we did.
      ghosts.push(id);
      participants[id] = { ...before, state: 'away' };
      continue;
    }
    delete peers[id];
    d.emit({ type: 'destroyPeer', name, participantId: id });
  }
  for (const p of result.participants) {
    if (p.id === ownId || !peersWith(p.state) || peers[p.id]) continue;
    peers[p.id] = p.resource;
    d.emit({ type: 'createPeer', name, participantId: p.id, initiator: isInitiator(ownId, p.id) });
  }
  if (room.id && room.id !== result.roomId) d.putEntry('names', room.id, undefined);
  d.putEntry('names', result.roomId, name);
  d.patchRoom(name, {
    id: result.roomId,
    state: 'joined',
    participantId: ownId,
    participants,
    maxParticipants: result.maxParticipants,
    activeSpeakerId:
      room.activeSpeakerId && participants[room.activeSpeakerId] ? room.activeSpeakerId : null,
    leftReason: null,
    error: null,
  });
  d.patchInternal(name, { phase: 'in', rejoining: false, peers, ghosts, heldSignals: [] });
  for (const { to, signal } of internal.heldSignals) {
    if (peers[to]) {
      d.request(name, { method: 'room.signal', params: { roomId: result.roomId, to, signal } });
    }
  }
  // Muted or unmuted while the join was in flight: tell the others.
  const own = listed.get(ownId);
  if (own && (own.audioMuted !== room.audioMuted || own.videoMuted !== room.videoMuted)) {
    d.request(name, {
      method: 'room.update',
      params: { roomId: result.roomId, audioMuted: room.audioMuted, videoMuted: room.videoMuted },
    });
  }
  if (ghosts.length > 0) {
    d.emit({
      type: 'schedule',
      delayMs: REJOIN_GRACE_MS,
      action: { type: 'rejoinGraceOver', name, attempt },
    });
  }
}

/**
 * This client is out of the room: its requests not sent yet are dropped, the Relay is told
 * (`tellRelay`) and the media stops.
 */
function close(
  d: RoomDraft,
  name: string,
  reason: RoomLeftReason,
  error: RelayError | null,
  tellRelay: boolean,
): void {
  const room = d.room(name);
  const internal = d.internal(name);
  if (!room || !internal) return;
  d.emit({ type: 'dropRequests', name });
  if (tellRelay && room.id && internal.phase === 'in') {
    d.request(null, { method: 'room.leave', params: { roomId: room.id } });
  }
  d.emit({ type: 'stopMedia', name });
  if (room.id) d.putEntry('names', room.id, undefined);
  d.patchRoom(name, {
    state: 'left',
    leftReason: reason,
    error,
    localStream: null,
    participants: {},
    activeSpeakerId: null,
  });
  d.patchInternal(name, { phase: 'out', rejoining: false, peers: {}, ghosts: [], heldSignals: [] });
}

function setMuted(d: RoomDraft, name: string, kind: 'audio' | 'video', muted: boolean): void {
  const room = d.room(name);
  const internal = d.internal(name);
  const key = kind === 'audio' ? 'audioMuted' : 'videoMuted';
  if (!room || !internal || room.state === 'left' || room[key] === muted) return;
  d.patchRoom(name, { [key]: muted });
  if (room.participantId) d.patchParticipant(name, room.participantId, { [key]: muted });
  d.emit({ type: 'setTrackEnabled', name, kind, enabled: !muted });
  // Joining or rejoining: the join carries the flags, or its answer is followed by an update.
  if (internal.phase === 'in' && !internal.rejoining && room.id) {
    d.request(name, { method: 'room.update', params: { roomId: room.id, [key]: muted } });
  }
}

/**
 * The Relay started a fresh session (it restarted, or the old session could not be resumed):
 * every room is joined again with the participant id it had, so the others keep their peers
 * with it. Peers are kept: media flows peer to peer, without the Relay.
 */
function connected(d: RoomDraft, resumed: boolean): void {
  for (const [name, room] of Object.entries(d.state.rooms)) {
    const internal = d.internal(name);
    if (!internal || room.state === 'left') continue;
    if (resumed) {
      if (room.state === 'reconnecting' && !internal.rejoining) {
        d.patchRoom(name, { state: 'joined' });
      }
      continue;
    }
    if (internal.phase === 'media') continue; // its join goes once the media is there
    const rejoin = internal.phase === 'in' || internal.rejoining;
    d.patchInternal(name, { attempt: internal.attempt + 1, phase: 'join', rejoining: rejoin });
    if (rejoin) d.patchRoom(name, { state: 'reconnecting' });
    sendJoin(d, name, rejoin ? room.participantId : null);
  }
}

/** Joins a room again as the participant it was (its room was lost on the Relay). */
function rejoin(d: RoomDraft, name: string): void {
  const room = d.room(name);
  const internal = d.internal(name);
  if (!room || !internal || internal.phase !== 'in') return;
  d.patchInternal(name, { attempt: internal.attempt + 1, phase: 'join', rejoining: true });
  d.patchRoom(name, { state: 'reconnecting' });
  sendJoin(d, name, room.participantId);
}

function onEvent(d: RoomDraft, event: RoomServerEvent): void {
  const { roomId } = event.params;
  const name = d.state.names[roomId];
  if (!name) {
    // Not in that room: what the Relay says of it is about our invitation into it.
    if (event.method === 'room.invited') {
      const { name: invited, by, metadata } = event.params;
      const room = d.room(invited);
      if (room && room.state !== 'left') return; // joining it already
      d.putEntry('roomInvites', roomId, { roomId, name: invited, by, metadata });
    } else if (event.method !== 'room.signal' && event.method !== 'room.muted') {
      // Answered on another device (`room.joined`), declined, unanswered, or the room ended.
      d.putEntry('roomInvites', roomId, undefined);
    }
    return;
  }
  switch (event.method) {
    case 'room.ended':
      // The Relay node holding the room went away: join it again where it is taken over, as
      // after a fresh session, keeping the peers.
      if (event.params.reason === 'disconnected') rejoin(d, name);
      else close(d, name, event.params.reason, null, false);
      return;
    case 'room.left': {
      const { participant, reason } = event.params;
      if (participant.id === d.room(name)?.participantId) close(d, name, reason, null, false);
      else removeParticipant(d, name, participant.id);
      return;
    }
    case 'room.joined':
    case 'room.updated':
      upsertParticipant(d, name, event.params.participant);
      return;
    case 'room.signal':
      if (d.internal(name)?.phase === 'in') {
        d.emit({
          type: 'signalPeer',
          name,
          participantId: event.params.from,
          signal: event.params.signal,
        });
      }
      return;
    case 'room.muted':
      // A moderator muted us: the track goes off here, and the Relay hears it from us.
      setMuted(d, name, event.params.kind, true);
      return;
    case 'room.invited':
      return; // in it already
  }
}
