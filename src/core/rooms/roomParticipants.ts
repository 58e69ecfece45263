import { ErrorCodes, RelayError, SFU_PEER, type Participant } from '../../protocol/index.js';
import { hears, isInitiator, participantSnapshot, peersWith, type RoomDraft } from './roomDraft.js';

// The participants of a joined room, and this client's peers with them (see roomReducer).

/** An audio level (RMS in [0, 1], smoothed) from which a participant counts as speaking. */
export const SPEAKING_LEVEL = 0.04;
/** Peer signals held while rejoining, per room, at most (the oldest are dropped). */
const MAX_HELD_SIGNALS = 256;

/**
 * A participant arrived or changed (`room.joined`, `room.updated`): upserted by id. It gets a
 * peer once joined (not while it rings); an id that is someone else's now gets a new one.
 */
export function upsertParticipant(d: RoomDraft, name: string, p: Participant): void {
  const room = d.room(name);
  const internal = d.internal(name);
  if (!room || !internal) return;
  const before = room.participants[p.id];
  if (p.id === room.participantId) {
    if (before) d.putParticipant(name, p.id, participantSnapshot(p, room, p.id, before));
    return;
  }
  const replaced = before !== undefined && before.resource !== p.resource;
  const peers = { ...internal.peers };
  if (peers[p.id] !== undefined && peers[p.id] !== p.resource) {
    // The id is someone else's now: the old peer goes.
    delete peers[p.id];
    d.emit({ type: 'destroyPeer', name, participantId: p.id });
  }
  const received = replaced ? undefined : internal.supervisorStreams[p.id];
  d.putParticipant(
    name,
    p.id,
    participantSnapshot(p, room, room.participantId, replaced ? undefined : before, received),
  );
  // sfu rooms: a supervisor this participant does not hear is not received (the media server
  // would refuse it); one it no longer hears is let go.
  const receives = room.media !== 'sfu' || hears(room.participantId, p);
  if (!receives && peers[p.id] !== undefined) {
    delete peers[p.id];
    d.emit({ type: 'destroyPeer', name, participantId: p.id });
    forgetSupervisorStream(d, name, p.id);
  }
  if (
    receives &&
    peersWith(p.state) &&
    !peers[p.id] &&
    internal.phase === 'in' &&
    room.participantId
  ) {
    peers[p.id] = p.resource;
    d.emit({
      type: 'createPeer',
      name,
      participantId: p.id,
      initiator: isInitiator(room.participantId, p.id),
    });
  }
  d.patchInternal(name, { peers, ghosts: internal.ghosts.filter((id) => id !== p.id) });
}

export function removeParticipant(d: RoomDraft, name: string, id: string): void {
  const room = d.room(name);
  const internal = d.internal(name);
  if (!room || !internal) return;
  if (internal.peers[id] !== undefined) {
    const peers = { ...internal.peers };
    delete peers[id];
    d.patchInternal(name, { peers });
    d.emit({ type: 'destroyPeer', name, participantId: id });
  }
  d.patchInternal(name, { ghosts: internal.ghosts.filter((ghost) => ghost !== id) });
  if (internal.qualities[id]) {
    const qualities = { ...internal.qualities };
    delete qualities[id];
    d.patchInternal(name, { qualities });
  }
  forgetSupervisorStream(d, name, id);
  d.putParticipant(name, id, undefined);
  if (room.activeSpeakerId === id) d.patchRoom(name, { activeSpeakerId: null });
}

/**
 * A participant's media arrived. A supervisor's is kept aside, and shown only while this
 * participant hears it (it is never played otherwise).
 */
export function peerStream(d: RoomDraft, name: string, id: string, stream: MediaStream): void {
  const room = d.room(name);
  const internal = d.internal(name);
  const participant = room?.participants[id];
  if (!room || !internal || !participant) return;
  if (!participant.assist) {
    d.patchParticipant(name, id, { stream });
    return;
  }
  d.patchInternal(name, { supervisorStreams: { ...internal.supervisorStreams, [id]: stream } });
  d.patchParticipant(name, id, { stream: hears(room.participantId, participant) ? stream : null });
}

function forgetSupervisorStream(d: RoomDraft, name: string, id: string): void {
  const internal = d.internal(name);
  if (!internal || !internal.supervisorStreams[id]) return;
  const supervisorStreams = { ...internal.supervisorStreams };
  delete supervisorStreams[id];
  d.patchInternal(name, { supervisorStreams });
}

export function peerSignal(d: RoomDraft, name: string, to: string, signal: unknown): void {
  const room = d.room(name);
  const internal = d.internal(name);
  if (!room || !internal || internal.phase === 'out') return;
  if (room.media === 'sfu') {
    // To the media server (SFU_PEER) or about receiving a participant, who may have left (an
    // unsubscribe): the session knows its subscriptions. Rejoining, they are stale: the
    // session starts over after the join.
    if (internal.phase === 'in' && room.id) {
      d.request(name, { method: 'room.signal', params: { roomId: room.id, to, signal } });
    }
    return;
  }
  if (internal.peers[to] === undefined) return;
  if (internal.rejoining || !room.id) {
    const held = [...internal.heldSignals, { to, signal }].slice(-MAX_HELD_SIGNALS);
    d.patchInternal(name, { heldSignals: held });
    return;
  }
  d.request(name, { method: 'room.signal', params: { roomId: room.id, to, signal } });
}

/**
 * A peer closed by itself (ICE failure, the other side's peer gone). One that had connected
 * is made again while its participant is in the room: the other side may have restarted.
 */
export function peerClosed(d: RoomDraft, name: string, id: string): void {
  const room = d.room(name);
  const internal = d.internal(name);
  if (room?.media === 'sfu' && id === SFU_PEER && internal?.phase === 'in') {
    // Our upload to the media server failed or was refused: say so rather than look fine.
    d.patchRoom(name, {
      error: new RelayError(
        ErrorCodes.callFailed,
        'Your camera and microphone no longer reach the media server, so the others cannot see or hear you. Leave the room and join it again.',
      ),
    });
    return;
  }
  if (!room || !internal || internal.peers[id] === undefined) return;
  const participant = room.participants[id];
  if (internal.ghosts.includes(id)) {
    removeParticipant(d, name, id);
    return;
  }
  d.patchParticipant(name, id, {
    connected: false,
    reconnecting: false,
    stream: null,
    screenStream: null,
  });
  forgetSupervisorStream(d, name, id);
  const again =
    participant?.connected === true &&
    peersWith(participant.state) &&
    internal.phase === 'in' &&
    room.participantId !== null;
  const peers = { ...internal.peers };
  if (again) peers[id] = participant.resource;
  else delete peers[id];
  d.patchInternal(name, { peers });
  if (again) {
    d.emit({
      type: 'createPeer',
      name,
      participantId: id,
      initiator: isInitiator(room.participantId!, id),
    });
  }
}

/**
 * Who speaks: every participant at or above SPEAKING_LEVEL. The active speaker is the loudest
 * other participant speaking, and stays until another one speaks (or it leaves).
 */
export function audioLevels(d: RoomDraft, name: string, levels: Readonly<Record<string, number>>) {
  const room = d.room(name);
  if (!room || (room.state !== 'joined' && room.state !== 'reconnecting')) return;
  if (room.media === 'sfu') return; // the media server tells (`talking`)
  let loudest: { id: string; level: number } | null = null;
  for (const p of Object.values(room.participants)) {
    const level = levels[p.id] ?? 0;
    const speaking = level >= SPEAKING_LEVEL;
    if (speaking !== p.speaking) d.patchParticipant(name, p.id, { speaking });
    // A supervisor is never the active speaker (its tile is not shown).
    if (speaking && !p.isLocal && !p.assist && (!loudest || level > loudest.level)) {
      loudest = { id: p.id, level };
    }
  }
  if (loudest && loudest.id !== room.activeSpeakerId) {
    d.patchRoom(name, { activeSpeakerId: loudest.id });
  }
}

/**
 * The media server heard a participant start or stop talking (`room.talking`, sfu rooms). The
 * active speaker is the other participant who last started, until another one starts.
 */
export function talking(d: RoomDraft, name: string, id: string, speaking: boolean): void {
  const room = d.room(name);
  if (!room || (room.state !== 'joined' && room.state !== 'reconnecting')) return;
  const participant = room.participants[id];
  if (!participant) return;
  if (participant.speaking !== speaking) d.patchParticipant(name, id, { speaking });
  if (speaking && !participant.isLocal && !participant.assist && room.activeSpeakerId !== id) {
    d.patchRoom(name, { activeSpeakerId: id });
  }
}
