/**
 * The room logic of the client without a Relay or WebRTC: the pure reducer (actions in, state
 * and effects out), the request outbox on a ManualClock, and the RoomManager carrying out the
 * effects on a fake MediaSession and a scripted Relay.
 */
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import { RelayError, RelayRpcError, type Participant, type RelayClientState } from 'relaycall/core';
import { ManualClock } from 'relaycall/testing';
import { RequestOutbox } from '../../src/core/connection/RequestOutbox.js';
import { initialState } from '../../src/core/clientOptions.js';
import {
  initialRoomsState,
  type RoomAction,
  type RoomEffect,
  type RoomsState,
} from '../../src/core/rooms/roomActions.js';
import {
  REJOIN_GRACE_MS,
  REJOIN_RETRY_MAX_MS,
  roomReducer,
} from '../../src/core/rooms/roomReducer.js';
import { RoomManager } from '../../src/core/rooms/RoomManager.js';
import {
  MeshSession,
  type MediaSession,
  type MediaSessionOptions,
} from '../../src/core/rooms/MediaSession.js';
import type { Peer } from '../../src/core/peer/createPeer.js';

const track = (kind: string) => ({ kind, enabled: true, stop() {} }) as unknown as MediaStreamTrack;
const stream = (...kinds: string[]) => {
  const tracks = kinds.map(track);
  return { getTracks: () => tracks, getAudioTracks: () => [] } as unknown as MediaStream;
};

const participant = (id: string, resource: string, patch: Partial<Participant> = {}) =>
  ({
    id,
    resource,
    state: 'joined',
    audioMuted: false,
    videoMuted: false,
    moderator: false,
    ...patch,
  }) satisfies Participant;

/** Runs actions through the reducer, keeping the state and every effect. */
function run(state: RoomsState, ...actions: RoomAction[]) {
  const effects: RoomEffect[] = [];
  for (const action of actions) {
    const result = roomReducer(state, action);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const event = (method: string, params: Record<string, unknown>): RoomAction =>
  ({ type: 'event', event: { method, params: { seq: 1, from: null, ...params } } }) as RoomAction;

const peers = (effects: RoomEffect[]) =>
  effects.flatMap((e) =>
    e.type === 'createPeer'
      ? [`+${e.participantId}${e.initiator ? '*' : ''}`]
      : e.type === 'destroyPeer'
        ? [`-${e.participantId}`]
        : [],
  );
const requests = (effects: RoomEffect[]) =>
  effects.flatMap((e) => (e.type === 'request' ? [e.request] : []));

const local = stream('audio', 'video');

/** bob ('p-b') joins "standup" where ann ('p-a') and cat ('p-c') are. */
function joinedRoom() {
  let { state, effects } = run(initialRoomsState(), {
    type: 'join',
    name: 'standup',
    metadata: { name: 'Bob' },
  });
  expect(effects).toEqual([{ type: 'acquireMedia', name: 'standup', attempt: 1 }]);
  expect(state.rooms.standup).toMatchObject({ state: 'joining', participants: {} });
  ({ state, effects } = run(state, {
    type: 'mediaReady',
    name: 'standup',
    attempt: 1,
    stream: local,
  }));
  expect(effects).toEqual([
    { type: 'setTrackEnabled', name: 'standup', kind: 'audio', enabled: true },
    { type: 'setTrackEnabled', name: 'standup', kind: 'video', enabled: true },
    {
      type: 'join',
      name: 'standup',
      attempt: 1,
      params: { name: 'standup', metadata: { name: 'Bob' }, audioMuted: false, videoMuted: false },
    },
  ]);
  const result = {
    roomId: 'r1',
    name: 'standup',
    media: 'mesh' as const,
    participantId: 'p-b',
    participants: [participant('p-a', 'ann'), participant('p-b', 'bob'), participant('p-c', 'cat')],
    maxParticipants: 6,
  };
  ({ state, effects } = run(state, { type: 'joined', name: 'standup', attempt: 1, result }));
  return { state, effects };
}

describe('the room reducer', () => {
  it('joins, then peers with everyone: the smaller id offers', () => {
    const { state, effects } = joinedRoom();
    expect(peers(effects)).toEqual(['+p-a', '+p-c*']);
    const room = state.rooms.standup!;
    expect(room).toMatchObject({
      id: 'r1',
      state: 'joined',
      participantId: 'p-b',
      localStream: local,
      maxParticipants: 6,
    });
    expect(room.participants['p-b']).toMatchObject({
      isLocal: true,
      stream: local,
      connected: true,
    });
    expect(room.participants['p-a']).toMatchObject({
      isLocal: false,
      stream: null,
      connected: false,
    });
  });

  it('is idempotent while joining or joined', () => {
    const { state } = joinedRoom();
    const again = roomReducer(state, { type: 'join', name: 'standup', metadata: null });
    expect(again.state).toBe(state);
    expect(again.effects).toEqual([]);
  });

  it('follows the peers: streams, connection, a participant leaving destroys its peer', () => {
    let { state } = joinedRoom();
    const remote = stream('audio');
    let effects: RoomEffect[];
    ({ state, effects } = run(
      state,
      { type: 'peerStream', name: 'standup', participantId: 'p-a', stream: remote },
      { type: 'peerConnected', name: 'standup', participantId: 'p-a' },
      { type: 'peerSignal', name: 'standup', participantId: 'p-a', signal: { type: 'answer' } },
    ));
    expect(state.rooms.standup!.participants['p-a']).toMatchObject({
      stream: remote,
      connected: true,
    });
    expect(requests(effects)).toEqual([
      { method: 'room.signal', params: { roomId: 'r1', to: 'p-a', signal: { type: 'answer' } } },
    ]);
    ({ state, effects } = run(
      state,
      event('room.left', { roomId: 'r1', participant: participant('p-a', 'ann'), reason: 'left' }),
    ));
    expect(peers(effects)).toEqual(['-p-a']);
    expect(Object.keys(state.rooms.standup!.participants).sort()).toEqual(['p-b', 'p-c']);
    // Signals from the Relay go to the peer; none for a room this client is not in.
    ({ effects } = run(state, event('room.signal', { roomId: 'r1', from: 'p-c', signal: 1 })));
    expect(effects).toEqual([
      { type: 'signalPeer', name: 'standup', participantId: 'p-c', signal: 1 },
    ]);
    expect(
      run(state, event('room.signal', { roomId: 'r9', from: 'p-c', signal: 1 })).effects,
    ).toEqual([]);
  });

  it('peers with an invitee once it arrives, not while it rings', () => {
    let { state } = joinedRoom();
    let effects: RoomEffect[];
    const dan = participant('p-d', 'dan', { state: 'ringing' });
    ({ state, effects } = run(state, event('room.joined', { roomId: 'r1', participant: dan })));
    expect(peers(effects)).toEqual([]);
    expect(state.rooms.standup!.participants['p-d']?.state).toBe('ringing');
    ({ state, effects } = run(
      state,
      event('room.joined', { roomId: 'r1', participant: { ...dan, state: 'joined' } }),
    ));
    expect(peers(effects)).toEqual(['+p-d*']);
    // Away (its Relay connection dropped): the peer stays.
    ({ effects } = run(
      state,
      event('room.updated', { roomId: 'r1', participant: { ...dan, state: 'away' } }),
    ));
    expect(peers(effects)).toEqual([]);
  });

  it('leaves when removed by a moderator, without telling the Relay', () => {
    const { state: joined } = joinedRoom();
    const { state, effects } = run(
      joined,
      event('room.left', {
        roomId: 'r1',
        participant: participant('p-b', 'bob'),
        reason: 'removed',
      }),
    );
    expect(state.rooms.standup).toMatchObject({
      state: 'left',
      leftReason: 'removed',
      localStream: null,
      participants: {},
    });
    expect(effects).toEqual([
      { type: 'dropRequests', name: 'standup' },
      { type: 'stopMedia', name: 'standup' },
    ]);
    expect(state.names).toEqual({});
  });

  it('leaves when the room ends, and tells the Relay when leaving itself', () => {
    const { state: joined } = joinedRoom();
    const ended = run(joined, event('room.ended', { roomId: 'r1', reason: 'ended' }));
    expect(ended.state.rooms.standup).toMatchObject({ state: 'left', leftReason: 'ended' });
    expect(requests(ended.effects)).toEqual([]);
    const left = run(joined, { type: 'leave', name: 'standup' });
    expect(left.state.rooms.standup).toMatchObject({ state: 'left', leftReason: 'left' });
    expect(requests(left.effects)).toEqual([{ method: 'room.leave', params: { roomId: 'r1' } }]);
    expect(left.effects.map((e) => e.type)).toEqual(['dropRequests', 'request', 'stopMedia']);
    const dismissed = run(left.state, { type: 'dismiss', name: 'standup' });
    expect(dismissed.state.rooms).toEqual({});
  });

  it('leaves a room the Relay lets it into after it left while joining', () => {
    const joining = run(
      initialRoomsState(),
      { type: 'join', name: 'late', metadata: undefined },
      { type: 'mediaReady', name: 'late', attempt: 1, stream: null },
      { type: 'leave', name: 'late' },
    );
    const result = {
      roomId: 'r7',
      name: 'late',
      media: 'mesh' as const,
      participantId: 'p-z',
      participants: [participant('p-z', 'zed')],
      maxParticipants: 6,
    };
    const { state, effects } = run(joining.state, {
      type: 'joined',
      name: 'late',
      attempt: 1,
      result,
    });
    expect(state.rooms.late?.state).toBe('left');
    expect(requests(effects)).toEqual([{ method: 'room.leave', params: { roomId: 'r7' } }]);
  });

  it('turns its track off when a moderator mutes it, and tells the others', () => {
    const { state: joined } = joinedRoom();
    const { state, effects } = run(joined, event('room.muted', { roomId: 'r1', kind: 'audio' }));
    expect(effects).toEqual([
      { type: 'setTrackEnabled', name: 'standup', kind: 'audio', enabled: false },
      {
        type: 'request',
        name: 'standup',
        request: { method: 'room.update', params: { roomId: 'r1', audioMuted: true } },
      },
    ]);
    expect(state.rooms.standup).toMatchObject({ audioMuted: true });
    expect(state.rooms.standup!.participants['p-b']).toMatchObject({ audioMuted: true });
  });

  it('joins muted for the kinds it has no track of', () => {
    const { effects, state } = run(
      initialRoomsState(),
      { type: 'join', name: 'listen', metadata: undefined },
      { type: 'mediaReady', name: 'listen', attempt: 1, stream: stream('audio') },
    );
    expect(state.rooms.listen).toMatchObject({ audioMuted: false, videoMuted: true });
    expect(effects.at(-1)).toMatchObject({
      type: 'join',
      params: { name: 'listen', audioMuted: false, videoMuted: true },
    });
  });

  it('fails a join the Relay refuses, or the media', () => {
    const refused = run(
      initialRoomsState(),
      { type: 'join', name: 'x', metadata: undefined },
      { type: 'mediaReady', name: 'x', attempt: 1, stream: null },
      {
        type: 'joinFailed',
        name: 'x',
        attempt: 1,
        error: new RelayRpcError(-32012, 'room_full', 'full'),
      },
    );
    expect(refused.state.rooms.x).toMatchObject({
      state: 'left',
      leftReason: 'failed',
      error: { code: 'room_full' },
    });
    const denied = run(
      initialRoomsState(),
      { type: 'join', name: 'y', metadata: undefined },
      {
        type: 'mediaFailed',
        name: 'y',
        attempt: 1,
        error: new RelayError('media_permission_denied', 'no'),
      },
    );
    expect(denied.state.rooms.y).toMatchObject({
      state: 'left',
      error: { code: 'media_permission_denied' },
    });
  });

  it('shows reconnecting while the socket is down, and joined again on a resume', () => {
    const { state: joined } = joinedRoom();
    const down = run(joined, { type: 'connectionLost' });
    expect(down.state.rooms.standup?.state).toBe('reconnecting');
    const back = run(down.state, { type: 'connected', resumed: true });
    expect(back.state.rooms.standup?.state).toBe('joined');
    expect(back.effects).toEqual([]);
  });

  it('rejoins as the same participant after a fresh session, keeping the peers that are still there', () => {
    let { state } = joinedRoom();
    let effects: RoomEffect[];
    // ann's peer is up; dan is in the room too.
    ({ state } = run(
      state,
      { type: 'peerConnected', name: 'standup', participantId: 'p-a' },
      event('room.joined', { roomId: 'r1', participant: participant('p-d', 'dan') }),
      { type: 'connectionLost' },
    ));
    ({ state, effects } = run(state, { type: 'connected', resumed: false }));
    expect(state.rooms.standup?.state).toBe('reconnecting');
    expect(effects).toEqual([
      {
        type: 'join',
        name: 'standup',
        attempt: 2,
        params: {
          name: 'standup',
          metadata: { name: 'Bob' },
          participantId: 'p-b',
          audioMuted: false,
          videoMuted: false,
          // Should the Relay have lost the room, the rejoin creates it as it was.
          media: 'mesh',
        },
      },
    ]);
    // Our peers' signals wait for the new room id.
    ({ state, effects } = run(state, {
      type: 'peerSignal',
      name: 'standup',
      participantId: 'p-a',
      signal: 'ice',
    }));
    expect(effects).toEqual([]);
    // A stale answer to the first attempt changes nothing.
    expect(
      run(state, {
        type: 'joinFailed',
        name: 'standup',
        attempt: 1,
        error: new RelayError('connection_closed', 'x'),
      }).state,
    ).toBe(state);
    const result = {
      roomId: 'r2',
      name: 'standup',
      media: 'mesh' as const,
      participantId: 'p-b',
      // ann is back; cat's id is someone else's now; dan has not rejoined yet.
      participants: [
        participant('p-a', 'ann'),
        participant('p-b', 'bob'),
        participant('p-c', 'cy'),
      ],
      maxParticipants: 6,
    };
    ({ state, effects } = run(state, { type: 'joined', name: 'standup', attempt: 2, result }));
    expect(peers(effects)).toEqual(['-p-c', '+p-c*']);
    expect(requests(effects)).toEqual([
      { method: 'room.signal', params: { roomId: 'r2', to: 'p-a', signal: 'ice' } },
    ]);
    expect(effects).toContainEqual({
      type: 'schedule',
      delayMs: REJOIN_GRACE_MS,
      action: { type: 'rejoinGraceOver', name: 'standup', attempt: 2 },
    });
    const room = state.rooms.standup!;
    expect(room).toMatchObject({ id: 'r2', state: 'joined', participantId: 'p-b' });
    expect(room.participants['p-a']).toMatchObject({ connected: true, state: 'joined' });
    expect(room.participants['p-c']).toMatchObject({ resource: 'cy', connected: false });
    expect(room.participants['p-d']).toMatchObject({ resource: 'dan', state: 'away' });
    expect(state.names).toEqual({ r2: 'standup' });

    // dan rejoins in time: his peer is kept. Had he not, the grace would end it.
    const back = run(
      state,
      event('room.joined', { roomId: 'r2', participant: participant('p-d', 'dan') }),
    );
    expect(peers(back.effects)).toEqual([]);
    expect(
      peers(run(back.state, { type: 'rejoinGraceOver', name: 'standup', attempt: 2 }).effects),
    ).toEqual([]);
    const gone = run(state, { type: 'rejoinGraceOver', name: 'standup', attempt: 2 });
    expect(peers(gone.effects)).toEqual(['-p-d']);
    expect(gone.state.rooms.standup!.participants['p-d']).toBeUndefined();
  });

  it('makes a peer again when one that had connected closes by itself', () => {
    let { state } = joinedRoom();
    ({ state } = run(state, { type: 'peerConnected', name: 'standup', participantId: 'p-c' }));
    const closed = run(state, { type: 'peerClosed', name: 'standup', participantId: 'p-c' });
    expect(peers(closed.effects)).toEqual(['+p-c*']);
    expect(closed.state.rooms.standup!.participants['p-c']).toMatchObject({ connected: false });
    // One that never connected (no WebRTC, say) is not made again.
    const never = run(state, { type: 'peerClosed', name: 'standup', participantId: 'p-a' });
    expect(peers(never.effects)).toEqual([]);
  });

  it('shows a peer reconnecting while its ICE restarts, and not once it closed', () => {
    let { state } = joinedRoom();
    const at = (s: typeof state) => s.rooms.standup!.participants['p-c'];
    ({ state } = run(state, { type: 'peerConnected', name: 'standup', participantId: 'p-c' }));
    expect(at(state)).toMatchObject({ connected: true, reconnecting: false });
    const reconnecting = {
      type: 'peerReconnecting',
      name: 'standup',
      participantId: 'p-c',
    } as const;
    ({ state } = run(state, { ...reconnecting, reconnecting: true }));
    expect(at(state)).toMatchObject({ connected: true, reconnecting: true });
    expect(at(run(state, { ...reconnecting, reconnecting: false }).state)?.reconnecting).toBe(
      false,
    );
    const closed = run(state, { type: 'peerClosed', name: 'standup', participantId: 'p-c' });
    expect(at(closed.state)).toMatchObject({ connected: false, reconnecting: false });
  });

  it('keeps invitations until answered, declined, or over', () => {
    let { state } = run(
      initialRoomsState(),
      event('room.invited', { roomId: 'r5', name: 'retro', by: 'ann', metadata: { topic: 'q3' } }),
      event('room.invited', { roomId: 'r6', name: 'planning', by: 'cat' }),
      event('room.invited', { roomId: 'r8', name: 'lunch', by: 'dan' }),
    );
    expect(state.roomInvites.r5).toEqual({
      roomId: 'r5',
      name: 'retro',
      by: 'ann',
      metadata: { topic: 'q3' },
    });
    const declined = run(state, { type: 'decline', roomId: 'r5' });
    state = declined.state;
    expect(requests(declined.effects)).toEqual([
      { method: 'room.decline', params: { roomId: 'r5' } },
    ]);
    // Answered on another device of ours, or the room ended.
    ({ state } = run(
      state,
      event('room.joined', { roomId: 'r6', participant: participant('p-x', 'bob') }),
      event('room.ended', { roomId: 'r8', reason: 'empty' }),
    ));
    expect(state.roomInvites).toEqual({});
    // Joining by name takes the invitation.
    ({ state } = run(state, event('room.invited', { roomId: 'r9', name: 'retro', by: 'ann' })));
    ({ state } = run(state, { type: 'join', name: 'retro', metadata: undefined }));
    expect(state.roomInvites).toEqual({});
  });

  it('tells who speaks, and keeps the active speaker until another one speaks', () => {
    let { state } = joinedRoom();
    const levels = (l: Record<string, number>) =>
      ({ type: 'audioLevels', name: 'standup', levels: l }) as const;
    ({ state } = run(state, levels({ 'p-a': 0.2, 'p-b': 0.5, 'p-c': 0.1 })));
    let room = state.rooms.standup!;
    // The local participant speaks too, but the active speaker is one of the others.
    expect(room.activeSpeakerId).toBe('p-a');
    expect(Object.values(room.participants).map((p) => p.speaking)).toEqual([true, true, true]);
    ({ state } = run(state, levels({})));
    room = state.rooms.standup!;
    expect(room.activeSpeakerId).toBe('p-a');
    expect(Object.values(room.participants).some((p) => p.speaking)).toBe(false);
    // Nothing changed: the same state, so nobody re-renders.
    expect(run(state, levels({ 'p-a': 0.001 })).state).toBe(state);
    ({ state } = run(state, levels({ 'p-c': 0.3 })));
    expect(state.rooms.standup!.activeSpeakerId).toBe('p-c');
  });
});

/** bob ('p-b') joins the sfu room "townhall" where ann ('p-a') and cat ('p-c') are. */
function sfuRoom(options: { stream?: MediaStream | null; media?: 'sfu' } = {}) {
  const result = (attempt: number) =>
    ({
      type: 'joined' as const,
      name: 'townhall',
      attempt,
      result: {
        roomId: `r${attempt}`,
        name: 'townhall',
        media: 'sfu' as const,
        participantId: 'p-b',
        participants: [
          participant('p-a', 'ann'),
          participant('p-b', 'bob'),
          participant('p-c', 'cat'),
        ],
        maxParticipants: 25,
      },
    }) satisfies RoomAction;
  const joining = run(
    initialRoomsState(),
    { type: 'join', name: 'townhall', metadata: undefined, media: options.media },
    { type: 'mediaReady', name: 'townhall', attempt: 1, stream: options.stream ?? local },
  );
  const { state, effects } = run(joining.state, result(1));
  return { joining, state, effects, result };
}

const signalRequests = (effects: RoomEffect[]) =>
  requests(effects).flatMap((r) =>
    r.method === 'room.signal' ? [[r.params.to, r.params.signal]] : [],
  );

describe('the room reducer in sfu rooms', () => {
  it('asks for an sfu room, then starts its media session at once and receives everyone', () => {
    const { joining, state, effects } = sfuRoom({ media: 'sfu' });
    expect(joining.effects.at(-1)).toMatchObject({
      type: 'join',
      params: { name: 'townhall', media: 'sfu' },
    });
    expect(state.rooms.townhall).toMatchObject({ state: 'joined', media: 'sfu' });
    // The session first (it publishes even when alone), then a subscription per other.
    expect(effects.filter((e) => e.type !== 'request')).toEqual([
      { type: 'resetMedia', name: 'townhall', qualities: {} },
      { type: 'createPeer', name: 'townhall', participantId: 'p-a', initiator: false },
      { type: 'createPeer', name: 'townhall', participantId: 'p-c', initiator: true },
    ]);
    // A mesh room's session stays lazy, made with its first peer.
    expect(joinedRoom().effects.some((e) => e.type === 'resetMedia')).toBe(false);
  });

  it('lets signals to and from the media server through, and an unsubscribe after a leave', () => {
    const { state } = sfuRoom();
    let effects: RoomEffect[];
    ({ effects } = run(
      state,
      { type: 'peerSignal', name: 'townhall', participantId: '@sfu', signal: { type: 'offer' } },
      { type: 'peerSignal', name: 'townhall', participantId: 'p-a', signal: { type: 'answer' } },
    ));
    expect(signalRequests(effects)).toEqual([
      ['@sfu', { type: 'offer' }],
      ['p-a', { type: 'answer' }],
    ]);
    ({ effects } = run(state, event('room.signal', { roomId: 'r1', from: '@sfu', signal: 2 })));
    expect(effects).toEqual([
      { type: 'signalPeer', name: 'townhall', participantId: '@sfu', signal: 2 },
    ]);
    ({ effects } = run(
      state,
      event('room.left', { roomId: 'r1', participant: participant('p-a', 'ann'), reason: 'left' }),
      {
        type: 'peerSignal',
        name: 'townhall',
        participantId: 'p-a',
        signal: { type: 'unsubscribe' },
      },
    ));
    expect(peers(effects)).toEqual(['-p-a']);
    expect(signalRequests(effects)).toEqual([['p-a', { type: 'unsubscribe' }]]);
  });

  it('tells who talks from room.talking, and keeps the active speaker until another starts', () => {
    let { state } = sfuRoom();
    const talk = (participantId: string, talking: boolean) =>
      event('room.talking', { roomId: 'r1', participantId, talking });
    ({ state } = run(state, talk('p-a', true)));
    expect(state.rooms.townhall!.activeSpeakerId).toBe('p-a');
    expect(state.rooms.townhall!.participants['p-a']!.speaking).toBe(true);
    // We talk too: speaking, never the active speaker.
    ({ state } = run(state, talk('p-b', true), talk('p-a', false)));
    let room = state.rooms.townhall!;
    expect(room.activeSpeakerId).toBe('p-a');
    expect(room.participants['p-b']!.speaking).toBe(true);
    expect(room.participants['p-a']!.speaking).toBe(false);
    // Nothing changed: the same state. Web Audio levels do not count here.
    expect(run(state, talk('p-a', false)).state.rooms).toBe(state.rooms);
    expect(
      run(state, { type: 'audioLevels', name: 'townhall', levels: { 'p-c': 1 } }).state.rooms,
    ).toBe(state.rooms);
    ({ state } = run(state, talk('p-c', true)));
    room = state.rooms.townhall!;
    expect(room.activeSpeakerId).toBe('p-c');
    // An invitation into another room is not touched by its talking.
    ({ state } = run(
      state,
      event('room.invited', { roomId: 'r5', name: 'retro', by: 'ann' }),
      event('room.talking', { roomId: 'r5', participantId: 'x', talking: true }),
    ));
    expect(state.roomInvites.r5).toBeDefined();
  });

  it('joins again when a mesh room outgrows the mesh, and sets its media up the sfu way', () => {
    const joining = run(
      initialRoomsState(),
      { type: 'join', name: 'townhall', metadata: undefined },
      { type: 'mediaReady', name: 'townhall', attempt: 1, stream: local },
    );
    const mesh = {
      roomId: 'r1',
      name: 'townhall',
      media: 'mesh' as const,
      participantId: 'p-b',
      participants: [participant('p-a', 'ann'), participant('p-b', 'bob')],
      maxParticipants: 6,
    };
    let { state } = run(joining.state, {
      type: 'joined',
      name: 'townhall',
      attempt: 1,
      result: mesh,
    });
    let effects: RoomEffect[];
    ({ state, effects } = run(state, event('room.media', { roomId: 'r1', media: 'sfu' })));
    expect(state.rooms.townhall?.state).toBe('reconnecting');
    expect(effects).toMatchObject([
      { type: 'join', attempt: 2, params: { name: 'townhall', participantId: 'p-b' } },
    ]);
    const sfu = {
      ...mesh,
      media: 'sfu' as const,
      participants: [...mesh.participants, participant('p-c', 'cat')],
      maxParticipants: 25,
    };
    ({ state, effects } = run(state, {
      type: 'joined',
      name: 'townhall',
      attempt: 2,
      result: sfu,
    }));
    expect(state.rooms.townhall).toMatchObject({ state: 'joined', media: 'sfu' });
    expect(effects.map((e) => e.type)).toContain('resetMedia');
    expect(effects.filter((e) => e.type === 'createPeer')).toHaveLength(2);
  });

  it('keeps rejoining while the media server is down, with backoff, and starts its media over once back', () => {
    const { result, ...joined } = sfuRoom();
    let { state } = joined;
    let effects: RoomEffect[];
    ({ state } = run(
      state,
      { type: 'setQuality', name: 'townhall', participantId: 'p-a', quality: 'low' },
      { type: 'peerConnected', name: 'townhall', participantId: 'p-a' },
      // A choice about someone who left goes with them.
      { type: 'setQuality', name: 'townhall', participantId: 'p-c', quality: 'medium' },
      event('room.left', { roomId: 'r1', participant: participant('p-c', 'cat'), reason: 'left' }),
    ));
    // Janus went down: the Relay ends the room; the client joins it again by name.
    ({ state, effects } = run(
      state,
      event('room.ended', { roomId: 'r1', reason: 'disconnected' }),
    ));
    expect(state.rooms.townhall?.state).toBe('reconnecting');
    expect(effects).toEqual([
      {
        type: 'join',
        name: 'townhall',
        attempt: 2,
        params: {
          name: 'townhall',
          participantId: 'p-b',
          audioMuted: false,
          videoMuted: false,
          media: 'sfu',
        },
      },
    ]);
    // Signals of the connections being lost are not held for the next session.
    expect(
      run(state, { type: 'peerSignal', name: 'townhall', participantId: '@sfu', signal: 1 })
        .effects,
    ).toEqual([]);
    const down = new RelayRpcError(-32013, 'sfu_unavailable', 'The media server is down.');
    const delays: number[] = [];
    for (let attempt = 2; attempt <= 7; attempt++) {
      ({ state, effects } = run(state, {
        type: 'joinFailed',
        name: 'townhall',
        attempt,
        error: down,
      }));
      expect(state.rooms.townhall).toMatchObject({ state: 'reconnecting', error: down });
      const [scheduled] = effects;
      expect(effects).toHaveLength(1);
      expect(scheduled).toMatchObject({ type: 'schedule', action: { type: 'retryJoin', attempt } });
      delays.push((scheduled as { delayMs: number }).delayMs);
      // A stale retry does nothing; the current one joins again.
      expect(run(state, { type: 'retryJoin', name: 'townhall', attempt: 1 }).effects).toEqual([]);
      ({ state, effects } = run(state, { type: 'retryJoin', name: 'townhall', attempt }));
      expect(effects).toMatchObject([
        { type: 'join', attempt: attempt + 1, params: { participantId: 'p-b', media: 'sfu' } },
      ]);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, REJOIN_RETRY_MAX_MS]);

    // Back: joined, no error, and the media session made anew (at the chosen qualities).
    ({ state, effects } = run(state, result(8)));
    expect(state.rooms.townhall).toMatchObject({ state: 'joined', id: 'r8', error: null });
    expect(state.rooms.townhall!.participants['p-a']).toMatchObject({
      connected: false,
      stream: null,
    });
    expect(effects.filter((e) => e.type !== 'request')).toEqual([
      { type: 'resetMedia', name: 'townhall', qualities: { 'p-a': 'low' } },
      { type: 'createPeer', name: 'townhall', participantId: 'p-a', initiator: false },
      { type: 'createPeer', name: 'townhall', participantId: 'p-c', initiator: true },
    ]);
    // The backoff starts over.
    ({ state } = run(state, event('room.ended', { roomId: 'r8', reason: 'disconnected' })));
    ({ effects } = run(state, { type: 'joinFailed', name: 'townhall', attempt: 9, error: down }));
    expect(effects).toMatchObject([{ type: 'schedule', delayMs: 1_000 }]);
    // Leaving meanwhile: the retry finds nothing to do.
    const left = run(state, { type: 'leave', name: 'townhall' });
    expect(left.state.rooms.townhall?.state).toBe('left');
    expect(run(left.state, { type: 'retryJoin', name: 'townhall', attempt: 9 }).effects).toEqual(
      [],
    );
  });

  it('fails a first join refused with sfu_unavailable like any other', () => {
    const { state } = run(
      initialRoomsState(),
      { type: 'join', name: 'x', metadata: undefined, media: 'sfu' },
      { type: 'mediaReady', name: 'x', attempt: 1, stream: null },
      {
        type: 'joinFailed',
        name: 'x',
        attempt: 1,
        error: new RelayRpcError(-32013, 'sfu_unavailable', 'down'),
      },
    );
    expect(state.rooms.x).toMatchObject({
      state: 'left',
      leftReason: 'failed',
      error: { code: 'sfu_unavailable' },
    });
  });

  it('chooses qualities in sfu rooms only, and says when its upload fails', () => {
    let { state } = sfuRoom();
    const low = {
      type: 'setQuality',
      name: 'townhall',
      participantId: 'p-a',
      quality: 'low',
    } as const;
    const chosen = run(state, low);
    const effects = chosen.effects;
    state = chosen.state;
    expect(effects).toEqual([low]);
    expect(run(state, low).effects).toEqual([]);
    const mesh = joinedRoom().state;
    expect(run(mesh, { ...low, name: 'standup' }).state).toBe(mesh);

    ({ state } = run(state, { type: 'peerClosed', name: 'townhall', participantId: '@sfu' }));
    expect(state.rooms.townhall).toMatchObject({ state: 'joined', error: { code: 'call_failed' } });
  });
});

describe('the room reducer with supervisors', () => {
  const sup = (patch: Partial<Participant>) => participant('p-s', 'sup', patch);
  const voice = stream('audio');

  it('in sfu rooms, receives a supervisor only while it hears it, and never as active speaker', () => {
    let { state, effects } = run(
      sfuRoom().state,
      event('room.joined', { roomId: 'r1', participant: sup({ assist: 'monitor' }) }),
    );
    expect(peers(effects)).toEqual([]);
    expect(state.rooms.townhall!.participants['p-s']).toMatchObject({
      assist: 'monitor',
      agent: null,
      stream: null,
    });
    // Whispering to ann: bob does not hear it, so does not subscribe (the server would refuse).
    const toAnn = sup({ assist: 'whisper', agent: 'p-a' });
    ({ state, effects } = run(state, event('room.updated', { roomId: 'r1', participant: toAnn })));
    expect(peers(effects)).toEqual([]);
    const toBob = sup({ assist: 'whisper', agent: 'p-b' });
    ({ state, effects } = run(state, event('room.updated', { roomId: 'r1', participant: toBob })));
    expect(peers(effects)).toEqual(['+p-s*']);
    ({ state } = run(
      state,
      { type: 'peerStream', name: 'townhall', participantId: 'p-s', stream: voice },
      event('room.talking', { roomId: 'r1', participantId: 'p-s', talking: true }),
    ));
    expect(state.rooms.townhall!.participants['p-s']).toMatchObject({ stream: voice });
    expect(state.rooms.townhall!.activeSpeakerId).toBeNull();
    ({ state, effects } = run(state, event('room.updated', { roomId: 'r1', participant: toAnn })));
    expect(peers(effects)).toEqual(['-p-s']);
    expect(state.rooms.townhall!.participants['p-s']!.stream).toBeNull();
  });

  it('in mesh rooms, peers with a supervisor but shows its stream only while heard', () => {
    let { state, effects } = run(
      joinedRoom().state,
      event('room.joined', { roomId: 'r1', participant: sup({ assist: 'monitor' }) }),
      { type: 'peerStream', name: 'standup', participantId: 'p-s', stream: voice },
      { type: 'audioLevels', name: 'standup', levels: { 'p-s': 0.5 } },
    );
    expect(peers(effects)).toEqual(['+p-s*']);
    expect(state.rooms.standup!.participants['p-s']!.stream).toBeNull();
    expect(state.rooms.standup!.activeSpeakerId).toBeNull();
    ({ state, effects } = run(
      state,
      event('room.updated', { roomId: 'r1', participant: sup({ assist: 'barge' }) }),
    ));
    expect(peers(effects)).toEqual([]);
    expect(state.rooms.standup!.participants['p-s']).toMatchObject({
      assist: 'barge',
      stream: voice,
    });
  });

  it('joins as a supervisor from the assist answer, and leaves with a fresh session', () => {
    const result = {
      roomId: 'r1',
      name: 'standup',
      media: 'mesh' as const,
      participantId: 'p-s',
      participants: [
        participant('p-a', 'ann'),
        participant('p-c', 'cat'),
        sup({ assist: 'monitor' }),
      ],
      maxParticipants: 6,
    };
    let { state, effects } = run(initialRoomsState(), {
      type: 'assistJoined',
      result,
      stream: null,
    });
    expect(peers(effects)).toEqual(['+p-a', '+p-c']);
    expect(requests(effects)).toEqual([]);
    expect(state.rooms.standup).toMatchObject({ id: 'r1', state: 'joined', participantId: 'p-s' });
    expect(state.rooms.standup!.participants['p-s']).toMatchObject({
      isLocal: true,
      assist: 'monitor',
    });
    const barging = {
      ...result,
      participants: [...result.participants.slice(0, 2), sup({ assist: 'barge' })],
    };
    ({ state } = run(state, { type: 'assistChanged', result: barging, stream: voice }));
    expect(state.rooms.standup).toMatchObject({ localStream: voice });
    expect(state.rooms.standup!.participants['p-s']).toMatchObject({ assist: 'barge' });
    ({ state, effects } = run(state, { type: 'connected', resumed: false }));
    expect(requests(effects)).toEqual([]);
    expect(state.rooms.standup).toMatchObject({
      state: 'left',
      error: { code: 'connection_closed' },
    });
  });
});

describe('the request outbox', () => {
  function outbox(script: ((method: string) => Promise<unknown>)[], connected = { value: true }) {
    const clock = new ManualClock();
    const sent: string[] = [];
    const box = new RequestOutbox({
      clock,
      isConnected: () => connected.value,
      request: ((method: string) => {
        sent.push(method);
        const next = script.shift();
        return next ? next(method) : Promise.resolve({});
      }) as never,
    });
    return { clock, box, sent, connected };
  }
  const backlogged = () => Promise.reject(new RelayRpcError(-32010, 'peer_backlogged', 'busy'));
  const closed = () => Promise.reject(new RelayError('connection_closed', 'closed'));

  it('sends a refused request again with backoff on the client clock', async () => {
    const { clock, box, sent } = outbox([backlogged, backlogged]);
    const done = box.send('room.signal', { roomId: 'r1', to: 'p-a', signal: 1 });
    await flush();
    expect(clock.pending()).toEqual([500]);
    clock.advance(500);
    await flush();
    expect(clock.pending()).toEqual([1_000]);
    clock.advance(999);
    expect(sent).toHaveLength(2);
    clock.advance(1);
    await expect(done).resolves.toEqual({});
    expect(sent).toHaveLength(3);
    expect(box.size).toBe(0);
  });

  it('gives up after its attempts, with the refusal', async () => {
    const { clock, box } = outbox(Array.from({ length: 8 }, () => backlogged));
    const done = box.send('room.update', { roomId: 'r1', audioMuted: true });
    const outcome = done.catch((error: unknown) => error);
    for (let i = 0; i < 8; i++) {
      await flush();
      clock.advance(clock.pending()[0] ?? 0);
    }
    expect(await outcome).toMatchObject({ code: 'peer_backlogged' });
  });

  it('holds requests while disconnected, resends lost ones to a resumed session only', async () => {
    const { box, sent, connected } = outbox([closed, closed]);
    const first = box.send('room.leave', { roomId: 'r1' });
    const second = box.send('room.leave', { roomId: 'r2' });
    await flush();
    connected.value = false;
    const held = box.send('room.leave', { roomId: 'r3' });
    expect(sent).toEqual(['room.leave', 'room.leave']);
    connected.value = true;
    box.connected(true);
    await expect(Promise.all([first, second, held])).resolves.toHaveLength(3);
    expect(sent).toHaveLength(5);

    const again = outbox([closed]);
    const lost = again.box.send('room.leave', { roomId: 'r1' });
    await flush();
    again.box.connected(false);
    await expect(lost).rejects.toMatchObject({ code: 'connection_closed' });
  });

  it('drops what a left room had not sent', async () => {
    const { box, connected } = outbox([], { value: false });
    const signal = box.send('room.signal', { roomId: 'r1', to: 'p', signal: 1 }, { key: 'a' });
    const other = box.send('room.signal', { roomId: 'r2', to: 'p', signal: 1 }, { key: 'b' });
    box.drop('a');
    await expect(signal).rejects.toMatchObject({ code: 'connection_closed' });
    connected.value = true;
    box.connected(true);
    await expect(other).resolves.toEqual({});
  });
});

describe('the room manager', () => {
  /** A MediaSession that records what it is asked. */
  class FakeSession implements MediaSession {
    readonly calls: string[] = [];
    constructor(readonly options: MediaSessionOptions) {}
    add(id: string, initiator: boolean) {
      this.calls.push(`add ${id}${initiator ? '*' : ''}`);
    }
    remove(id: string) {
      this.calls.push(`remove ${id}`);
    }
    signal(id: string, data: unknown) {
      this.calls.push(`signal ${id} ${JSON.stringify(data)}`);
    }
    setTrackEnabled(kind: string, enabled: boolean) {
      this.calls.push(`${kind} ${enabled ? 'on' : 'off'}`);
    }
    async replaceTrack() {}
    destroy() {
      this.calls.push('destroy');
    }
    setQuality(id: string, quality: string) {
      this.calls.push(`quality ${id} ${quality}`);
    }
  }

  function manager(answers: Record<string, (params: never) => unknown>) {
    const clock = new ManualClock();
    const store = createStore<RelayClientState>()(() => ({
      ...initialState({ url: 'http://relay.test' }),
      status: 'connected',
      scopes: ['rooms:join'],
    }));
    const sessions: FakeSession[] = [];
    const sent: [string, unknown][] = [];
    const rooms = new RoomManager({
      store,
      clock,
      mediaDevices: undefined,
      isConnected: () => true,
      whenConnected: async () => {},
      request: (async (method: string, params: never) => {
        sent.push([method, params]);
        return answers[method]?.(params) ?? {};
      }) as never,
      createMediaSession: (options) => {
        const session = new FakeSession(options);
        sessions.push(session);
        return session;
      },
      AudioContext: undefined,
    });
    return { clock, store, sessions, sent, rooms };
  }

  it('joins without media, peers through the MediaSession, and publishes the room', async () => {
    const { store, sessions, sent, rooms } = manager({
      'room.join': (params: { name: string }) => ({
        roomId: 'r1',
        name: params.name,
        media: 'mesh',
        participantId: 'p-b',
        participants: [participant('p-a', 'ann'), participant('p-b', 'bob')],
        maxParticipants: 6,
      }),
    });
    const first = rooms.joinRoom('standup', { audio: false, video: false });
    const second = rooms.joinRoom('standup', {});
    const [snapshot, same] = await Promise.all([first, second]);
    expect(snapshot).toMatchObject({ state: 'joined', audioMuted: true, videoMuted: true });
    expect(same).toBe(snapshot);
    expect(store.getState().rooms.standup).toBe(snapshot);
    expect(sent.filter(([method]) => method === 'room.join')).toHaveLength(1);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.options.stream).toBeNull();
    expect(sessions[0]!.calls).toEqual(['add p-a']);

    // The peer's signals go to the Relay; the Relay's to the peer.
    sessions[0]!.options.callbacks.onSignal('p-a', { type: 'answer' });
    rooms.onNotification('room.signal', { seq: 1, roomId: 'r1', from: 'p-a', signal: 'ice' });
    await flush();
    expect(sent.at(-1)).toEqual([
      'room.signal',
      { roomId: 'r1', to: 'p-a', signal: { type: 'answer' } },
    ]);
    expect(sessions[0]!.calls.at(-1)).toBe('signal p-a "ice"');

    rooms.leaveRoom('standup');
    await flush();
    expect(sessions[0]!.calls.at(-1)).toBe('destroy');
    expect(sent.at(-1)).toEqual(['room.leave', { roomId: 'r1' }]);
    expect(store.getState().rooms.standup).toMatchObject({ state: 'left', leftReason: 'left' });
  });

  it("starts an sfu room's session with the join, and anew after a rejoin", async () => {
    const joins: unknown[] = [];
    const { store, sessions, sent, rooms } = manager({
      'room.join': (params: { name: string; media?: string }) => {
        joins.push(params.media);
        return {
          roomId: `r${joins.length}`,
          name: params.name,
          media: 'sfu',
          participantId: 'p-b',
          participants: [participant('p-a', 'ann'), participant('p-b', 'bob')],
          maxParticipants: 25,
        };
      },
    });
    rooms.setQuality('townhall', 'p-a', 'low'); // not in it yet: nothing
    const snapshot = await rooms.joinRoom('townhall', { audio: false, video: false, media: 'sfu' });
    expect(snapshot).toMatchObject({ state: 'joined', media: 'sfu' });
    expect(joins).toEqual(['sfu']);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.options.media).toBe('sfu');
    expect(sessions[0]!.calls).toEqual(['add p-a']);
    rooms.setQuality('townhall', 'p-a', 'low');
    expect(sessions[0]!.calls.at(-1)).toBe('quality p-a low');

    // The media server's voice activity: no Web Audio needed.
    rooms.onNotification('room.talking', {
      seq: 1,
      roomId: 'r1',
      from: null,
      participantId: 'p-a',
      talking: true,
    });
    expect(store.getState().rooms.townhall).toMatchObject({ activeSpeakerId: 'p-a' });

    // The Relay lost the room (Janus restarted): rejoined, the session starts over.
    rooms.onNotification('room.ended', {
      seq: 2,
      roomId: 'r1',
      from: null,
      reason: 'disconnected',
    });
    await flush();
    expect(joins).toEqual(['sfu', 'sfu']);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]!.calls.at(-1)).toBe('destroy');
    expect(sessions[1]!.calls).toEqual(['quality p-a low', 'add p-a']);
    sessions[1]!.options.callbacks.onSignal('@sfu', { type: 'offer', sdp: 'o' });
    await flush();
    expect(sent.at(-1)).toEqual([
      'room.signal',
      { roomId: 'r2', to: '@sfu', signal: { type: 'offer', sdp: 'o' } },
    ]);
  });

  it('refuses a join at once when the token lacks rooms:join', async () => {
    const { store, sent, rooms } = manager({});
    store.setState({ scopes: ['calls:dial'] });
    const snapshot = await rooms.joinRoom('standup', {});
    expect(snapshot).toMatchObject({
      state: 'left',
      leftReason: 'failed',
      error: { code: 'forbidden' },
    });
    expect(sent).toEqual([]);
  });

  it('rejects a moderation request for a room it is not in', async () => {
    const { rooms } = manager({});
    await expect(rooms.tell('nowhere', 'room.end', {})).rejects.toMatchObject({
      code: 'invalid_state',
    });
  });
});

describe('the mesh session', () => {
  /** A peer that records the signals it is given and lets the test fire its events. */
  function fakePeers() {
    const made: {
      initiator: boolean;
      signals: unknown[];
      destroyed: boolean;
      fire: Record<string, (arg?: unknown) => void>;
    }[] = [];
    const createPeer = async ({ initiator }: { initiator: boolean }) => {
      const record = {
        initiator,
        signals: [] as unknown[],
        destroyed: false,
        fire: {} as Record<string, (arg?: unknown) => void>,
      };
      made.push(record);
      const on = (event: string) => (listener: (arg?: unknown) => void) => {
        record.fire[event] = listener;
        return () => undefined;
      };
      return {
        initiator,
        onSignal: on('signal'),
        onConnect: on('connect'),
        onStream: on('stream'),
        onData: on('data'),
        onClose: on('close'),
        onError: on('error'),
        onReconnecting: on('reconnecting'),
        signal: (data: unknown) => void record.signals.push(data),
        destroy: () => void (record.destroyed = true),
      } as unknown as Peer;
    };
    return { made, createPeer };
  }

  function session(clock = new ManualClock()) {
    const { made, createPeer } = fakePeers();
    const told: string[] = [];
    const mesh = new MeshSession({
      media: 'mesh',
      stream: null,
      iceServers: () => [],
      createPeer,
      clock,
      connectTimeoutMs: 20_000,
      callbacks: {
        onSignal: (id, data) => told.push(`signal ${id} ${JSON.stringify(data)}`),
        onStream: (id) => told.push(`stream ${id}`),
        onConnected: (id) => told.push(`connected ${id}`),
        onClosed: (id) => told.push(`closed ${id}`),
        onReconnecting: (id, on) => told.push(`reconnecting ${id} ${on}`),
      },
    });
    return { mesh, made, told };
  }

  it('holds signals until the peer exists, drops copies, and reports the peer', async () => {
    const { mesh, made, told } = session();
    mesh.signal('p-a', { type: 'offer', sdp: '1' });
    mesh.add('p-a', false);
    mesh.signal('p-a', { candidate: 'c1' });
    mesh.signal('p-a', { candidate: 'c1' });
    await flush();
    expect(made).toHaveLength(1);
    expect(made[0]!.signals).toEqual([{ type: 'offer', sdp: '1' }, { candidate: 'c1' }]);
    made[0]!.fire.signal!({ type: 'answer' });
    made[0]!.fire.connect!();
    expect(told).toEqual(['signal p-a {"type":"answer"}', 'connected p-a']);
    made[0]!.fire.close!();
    expect(told.at(-1)).toBe('closed p-a');
  });

  it("keeps the peer for an ICE restart's offer (same DTLS fingerprint) and reports reconnecting", async () => {
    const { mesh, made, told } = session();
    mesh.add('p-a', false);
    await flush();
    const first = { type: 'offer', sdp: 'a=ice-ufrag:1\r\na=fingerprint:sha-256 AA' };
    const restart = { type: 'offer', sdp: 'a=ice-ufrag:2\r\na=fingerprint:sha-256 AA' };
    mesh.signal('p-a', first);
    mesh.signal('p-a', restart);
    await flush();
    expect(made).toHaveLength(1);
    expect(made[0]!.signals).toEqual([first, restart]);
    made[0]!.fire.reconnecting!(true);
    made[0]!.fire.reconnecting!(false);
    expect(told).toEqual(['reconnecting p-a true', 'reconnecting p-a false']);
  });

  it('starts over when the other side offers again (its peer is new), and reports no close for remove()', async () => {
    const { mesh, made, told } = session();
    mesh.add('p-a', false);
    await flush();
    mesh.signal('p-a', { type: 'offer', sdp: 'a=fingerprint:sha-256 AA' });
    mesh.signal('p-a', { type: 'offer', sdp: 'a=fingerprint:sha-256 BB' });
    await flush();
    expect(made).toHaveLength(2);
    expect(made[0]!.destroyed).toBe(true);
    expect(made[1]!.signals).toEqual([{ type: 'offer', sdp: 'a=fingerprint:sha-256 BB' }]);
    made[0]!.fire.close!();
    mesh.remove('p-a');
    expect(made[1]!.destroyed).toBe(true);
    made[1]!.fire.close!();
    expect(told).toEqual([]);
  });

  it('offers anew when a peer has not connected by its deadline, and gives up after three', async () => {
    const clock = new ManualClock();
    const { mesh, made, told } = session(clock);
    mesh.add('p-a', true);
    await flush();
    clock.advance(19_999);
    expect(made).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(made.map((p) => [p.initiator, p.destroyed])).toEqual([
      [true, true],
      [true, false],
    ]);
    // The second one closes before connecting (ICE failed): the third is the last.
    made[1]!.fire.close!();
    await flush();
    expect(made).toHaveLength(3);
    expect(told).toEqual([]);
    clock.advance(20_000);
    await flush();
    expect(made).toHaveLength(3);
    expect(made[2]!.destroyed).toBe(true);
    expect(told).toEqual(['closed p-a']);
  });

  it('keeps a connected peer past the deadline, and the answering side waits for the new offer', async () => {
    const clock = new ManualClock();
    const { mesh, made, told } = session(clock);
    mesh.add('p-a', true);
    mesh.add('p-b', false);
    await flush();
    made[0]!.fire.connect!();
    clock.advance(20_000);
    await flush();
    // The answering side's peer still waits: the offering side's deadline brings a new offer.
    expect(made).toHaveLength(2);
    expect(made.map((p) => p.destroyed)).toEqual([false, false]);
    // Closed before connecting, it is made again, still answering.
    made[1]!.fire.close!();
    await flush();
    expect(made).toHaveLength(3);
    expect(made[2]!.initiator).toBe(false);
    expect(told).toEqual(['connected p-a']);
  });

  it("gives a new peer only the candidates of the description it applied, not an earlier peer's", async () => {
    const { mesh, made } = session();
    mesh.add('p-a', false);
    await flush();
    const candidate = (ufrag: string, n: number) => ({
      type: 'candidate',
      candidate: { candidate: `candidate:${n} 1 udp 1 10.0.0.1 ${n} typ host ufrag ${ufrag}` },
    });
    // The first peer's offer was lost; its candidates were not.
    mesh.signal('p-a', candidate('old', 1));
    const offer = { type: 'offer', sdp: 'a=ice-ufrag:new\r\na=fingerprint:sha-256 BB' };
    // A candidate sent again after a refusal overtakes the new offer.
    mesh.signal('p-a', candidate('new', 2));
    mesh.signal('p-a', offer);
    mesh.signal('p-a', candidate('new', 3));
    mesh.signal('p-a', candidate('old', 4));
    mesh.signal('p-a', { type: 'candidate', candidate: { candidate: 'candidate:5 1 udp 1 h 5' } });
    await flush();
    expect(made).toHaveLength(1);
    expect(made[0]!.signals).toEqual([
      offer,
      candidate('new', 2),
      candidate('new', 3),
      { type: 'candidate', candidate: { candidate: 'candidate:5 1 udp 1 h 5' } },
    ]);
  });
});

/** Lets settled promises run their callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
