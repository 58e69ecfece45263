import type { RoomJoinResult } from '../../protocol/index.js';
import type { ParticipantSnapshot } from '../types.js';
import { hears, isInitiator, participantSnapshot, peersWith, type RoomDraft } from './roomDraft.js';

/**
 * After a rejoin (a fresh session), participants the Relay does not list yet keep their peer
 * this long, in ms: they may be rejoining too (a Relay restart drops everyone at once).
 */
export const REJOIN_GRACE_MS = 30_000;

/**
 * The Relay let this client into a room (`room.join` answered, for attempt `attempt`): the
 * participants it lists, the peers kept across a rejoin (mesh) or a media session started over
 * (sfu), the signals held meanwhile. Part of the room reducer.
 */
export function roomJoined(
  d: RoomDraft,
  name: string,
  attempt: number,
  result: RoomJoinResult,
): void {
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
  // SFU connections do not outlive the room on the Relay (nor a media server restart), unlike
  // mesh peers: after every join of an sfu room its media starts over.
  const fresh = result.media === 'sfu' || (room.media !== null && room.media !== result.media);
  const supervisorStreams = fresh ? {} : internal.supervisorStreams;
  for (const p of result.participants) {
    const before = previous[p.id];
    const kept = before?.resource === p.resource ? before : undefined;
    const media =
      fresh && kept && p.id !== ownId ? { stream: null, screenStream: null, connected: false } : {};
    const received = kept ? supervisorStreams[p.id] : undefined;
    participants[p.id] = participantSnapshot(
      p,
      local,
      ownId,
      kept && { ...kept, ...media },
      received,
    );
  }
  // Kept for those not back yet too: they may be rejoining with their ids, as we did.
  if (fresh) d.emit({ type: 'resetMedia', name, qualities: internal.qualities });
  // Reconcile the peers kept across a fresh session with who is in the room now.
  const peers = fresh ? {} : { ...internal.peers };
  const ghosts: string[] = [];
  for (const [id, resource] of fresh ? [] : Object.entries(internal.peers)) {
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
    // The media server refuses a subscription to a supervisor this participant does not hear.
    if (result.media === 'sfu' && !hears(ownId, p)) continue;
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
    media: result.media,
    activeSpeakerId:
      room.activeSpeakerId && participants[room.activeSpeakerId] ? room.activeSpeakerId : null,
    leftReason: null,
    error: null,
  });
  d.patchInternal(name, {
    phase: 'in',
    rejoining: false,
    peers,
    ghosts,
    heldSignals: [],
    retries: 0,
    supervisorStreams,
  });
  for (const { to, signal } of fresh ? [] : internal.heldSignals) {
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
