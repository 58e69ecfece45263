import {
  ErrorCodes,
  type RelayError,
  type RoomMedia,
  type VideoQuality,
} from '../../protocol/index.js';
import type { RoomLeftReason } from '../types.js';
import type { RoomAction, RoomResult, RoomServerEvent, RoomsState } from './roomActions.js';
import { RoomDraft, newRoomInternal } from './roomDraft.js';
import { newRoomSnapshot } from './newRoomSnapshot.js';
import { roomJoined } from './roomJoined.js';
import { assistCannotRejoin, assistChanged, assistJoined } from './roomAssist.js';
import {
  audioLevels,
  peerClosed,
  peerSignal,
  peerStream,
  removeParticipant,
  talking,
  upsertParticipant,
} from './roomParticipants.js';

export { REJOIN_GRACE_MS } from './roomJoined.js';
/** First wait before joining again after a rejoin refused with `sfu_unavailable`, in ms; doubles. */
export const REJOIN_RETRY_BASE_MS = 1_000;
/** Longest such wait, in ms. */
export const REJOIN_RETRY_MAX_MS = 10_000;

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
      return join(d, action.name, action.metadata, action.media, action.refused);
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
    case 'setQuality':
      return setQuality(d, action.name, action.participantId, action.quality);
    case 'mediaReady':
      return mediaReady(d, action.name, action.attempt, action.stream);
    case 'mediaFailed':
    case 'joinFailed': {
      const internal = d.internal(action.name);
      const phase = action.type === 'mediaFailed' ? 'media' : 'join';
      if (internal?.attempt !== action.attempt || internal.phase !== phase) return;
      // The media server is down for a while (it ended the room): keep rejoining until it is back.
      if (internal.rejoining && action.error.code === ErrorCodes.sfuUnavailable) {
        return retryLater(d, action.name, action.error);
      }
      close(d, action.name, 'failed', action.error, false);
      return;
    }
    case 'joined':
      return roomJoined(d, action.name, action.attempt, action.result);
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
      return peerStream(d, action.name, action.participantId, action.stream);
    case 'peerConnected':
      d.patchParticipant(action.name, action.participantId, { connected: true });
      return;
    case 'peerClosed':
      return peerClosed(d, action.name, action.participantId);
    case 'peerScreen':
      d.patchParticipant(action.name, action.participantId, { screenStream: action.stream });
      return;
    case 'screenShared': {
      const own = d.room(action.name)?.participantId;
      const screenShareError = action.stream ? null : (action.error ?? null);
      d.patchRoom(action.name, { screenStream: action.stream, screenShareError });
      if (own) d.patchParticipant(action.name, own, { screenStream: action.stream });
      return;
    }
    case 'peerReconnecting':
      d.patchParticipant(action.name, action.participantId, {
        reconnecting: action.reconnecting,
      });
      return;
    case 'audioLevels':
      return audioLevels(d, action.name, action.levels);
    case 'rejoinGraceOver': {
      const internal = d.internal(action.name);
      if (internal?.attempt !== action.attempt) return;
      for (const id of internal.ghosts) removeParticipant(d, action.name, id);
      return;
    }
    case 'assistJoined':
      return assistJoined(d, action.result, action.stream);
    case 'assistChanged':
      return assistChanged(d, action.result, action.stream);
    case 'assistEnded': {
      const room = d.room(action.name);
      if (room && room.state !== 'left' && d.internal(action.name)?.assisting) {
        close(d, action.name, 'left', action.error, false);
      }
      return;
    }
    case 'retryJoin': {
      const room = d.room(action.name);
      const internal = d.internal(action.name);
      if (!room || internal?.attempt !== action.attempt) return;
      if (internal.phase !== 'join' || !internal.rejoining) return;
      d.patchInternal(action.name, { attempt: internal.attempt + 1 });
      sendJoin(d, action.name, room.participantId);
      return;
    }
  }
}

function join(
  d: RoomDraft,
  name: string,
  metadata: unknown,
  media: RoomMedia | undefined,
  refused?: RelayError,
): void {
  const room = d.room(name);
  if (room && room.state !== 'left') return; // joining or in it already
  const attempt = (d.internal(name)?.attempt ?? 0) + 1;
  d.putRoom(name, newRoomSnapshot(name), newRoomInternal(attempt, metadata, media));
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
  // A rejoin that creates the room again (the Relay lost it) creates it as it was.
  const media = room.media ?? internal.media;
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
      ...(media ? { media } : {}),
    },
  });
}

/**
 * A rejoin refused with `sfu_unavailable`: the room stays `reconnecting`, showing why, and is
 * joined again after a wait that doubles up to REJOIN_RETRY_MAX_MS.
 */
function retryLater(d: RoomDraft, name: string, error: RelayError): void {
  const internal = d.internal(name);
  if (!internal) return;
  const delayMs = Math.min(REJOIN_RETRY_MAX_MS, REJOIN_RETRY_BASE_MS * 2 ** internal.retries);
  d.patchInternal(name, { retries: Math.min(internal.retries + 1, 16) });
  d.patchRoom(name, { state: 'reconnecting', error });
  d.emit({
    type: 'schedule',
    delayMs,
    action: { type: 'retryJoin', name, attempt: internal.attempt },
  });
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
    screenStream: null,
    screenShareError: null,
    participants: {},
    activeSpeakerId: null,
  });
  d.patchInternal(name, { phase: 'out', rejoining: false, peers: {}, ghosts: [], heldSignals: [] });
}

/** Remembers the layer of a participant's video to receive, and asks for it when in the room. */
function setQuality(d: RoomDraft, name: string, id: string, quality: VideoQuality): void {
  const room = d.room(name);
  const internal = d.internal(name);
  // Mesh rooms send one full-quality stream per peer: nothing to choose.
  if (!room || !internal || room.state === 'left' || room.media === 'mesh') return;
  if (internal.qualities[id] === quality) return;
  d.patchInternal(name, { qualities: { ...internal.qualities, [id]: quality } });
  // Otherwise the next join's `resetMedia` carries it.
  if (internal.phase === 'in') d.emit({ type: 'setQuality', name, participantId: id, quality });
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
    if (internal.assisting) {
      // The Relay made the supervisor leave with its session: it may not join by name.
      close(d, name, 'disconnected', assistCannotRejoin(name), false);
      continue;
    }
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
  if (internal.assisting) {
    close(d, name, 'disconnected', assistCannotRejoin(name), true);
    return;
  }
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
    } else if (
      !['room.signal', 'room.muted', 'room.talking', 'room.media'].includes(event.method)
    ) {
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
    case 'room.talking':
      talking(d, name, event.params.participantId, event.params.talking);
      return;
    case 'room.media':
      // The room outgrew the mesh: joined again, its answer (media `sfu`) rebuilds the media.
      if (event.params.media !== d.room(name)?.media) rejoin(d, name);
      return;
    case 'room.invited':
      return; // in it already
    case 'room.message':
      return; // in-room messages: the client's messaging takes them before the rooms see them
  }
}
