/**
 * In-call messages, client side, against a scripted Relay (a fake `request`) and fake peers: the
 * transport chosen (data channel, else the Relay), refusals before anything is sent, what
 * receivers keep (once per sender and id, the last MAX_MESSAGE_HISTORY), and history dropped with
 * its call or room.
 */
import { describe, expect, it, vi } from 'vitest';
import { createStore } from 'zustand/vanilla';
import { MAX_MESSAGE_BYTES, MAX_MESSAGE_HISTORY, RelayError } from 'relaycall/core';
import type { RelayClientState, RoomSnapshot } from 'relaycall/core';
import { ManualClock } from 'relaycall/testing';
import { newCallSnapshot } from '../../src/core/calls/newCallSnapshot.js';
import { initialState } from '../../src/core/clientOptions.js';
import { CallMessaging } from '../../src/core/messages/CallMessaging.js';
import type { Peer } from '../../src/core/peer/createPeer.js';
import { participantSnapshot, roomSnapshot } from '../snapshots.js';

function setup() {
  const store = createStore<RelayClientState>()(() => ({
    ...initialState({ url: 'ws://relay.invalid' }),
    resource: 'alice',
  }));
  const clock = new ManualClock();
  const request = vi.fn(async (_method: string, params: Record<string, unknown>) => ({
    id: params.id,
  }));
  const peer = { connected: false, send: vi.fn(() => peer.connected) };
  const roomSends: unknown[] = [];
  let roomChannelOpen = true;
  const messaging = new CallMessaging({
    store,
    clock,
    request: request as never,
    callRoute: (callId) =>
      store.getState().calls[callId]
        ? { peer: peer as unknown as Peer, serverId: `srv-${callId}` }
        : undefined,
    localCallId: (serverId) => serverId.replace(/^srv-/, ''),
    sendToRoomPeer: (_name, participantId, message) => {
      if (!roomChannelOpen) return false;
      roomSends.push({ participantId, message });
      return true;
    },
  });
  const addCall = (id: string, patch: Partial<ReturnType<typeof newCallSnapshot>> = {}) =>
    store.setState({
      calls: {
        ...store.getState().calls,
        [id]: { ...newCallSnapshot(id, 'outgoing', 'bob', null), state: 'active', ...patch },
      },
    });
  const addRoom = (patch: Partial<RoomSnapshot> = {}) => {
    const people = [
      participantSnapshot('p-alice', { resource: 'alice', isLocal: true }),
      participantSnapshot('p-bob', { resource: 'bob' }),
      participantSnapshot('p-carol', { resource: 'carol' }),
    ];
    const room = roomSnapshot('standup', people, { id: 'room-1', maxParticipants: 6, ...patch });
    store.setState({ rooms: { standup: room } });
  };
  return {
    store,
    clock,
    request,
    peer,
    roomSends,
    messaging,
    addCall,
    addRoom,
    closeRoomChannels: () => (roomChannelOpen = false),
  };
}

describe('in-call messages (client)', () => {
  it('go on the data channel when it is open, else through the Relay', async () => {
    const s = setup();
    s.addCall('c1');
    const relayed = await s.messaging.sendMessage('c1', 'before the channel');
    expect(s.request).toHaveBeenCalledWith('call.message', {
      callId: 'srv-c1',
      id: relayed.id,
      body: 'before the channel',
    });
    s.peer.connected = true;
    const direct = await s.messaging.sendMessage('c1', { n: 1 });
    expect(s.peer.send).toHaveBeenLastCalledWith({ t: 'message', id: direct.id, body: { n: 1 } });
    expect(s.request).toHaveBeenCalledTimes(1);
    expect(s.store.getState().messages.c1).toMatchObject([
      { from: 'alice', body: 'before the channel', local: true },
      { from: 'alice', body: { n: 1 }, local: true },
    ]);
  });

  it('refuses oversized, unserialisable, gateway and unknown targets before sending anything', async () => {
    const s = setup();
    s.addCall('c1');
    s.addCall('pstn', { gateway: 'pstn', remote: '+15551234567' });
    const failures = await Promise.all([
      s.messaging.sendMessage('c1', 'x'.repeat(MAX_MESSAGE_BYTES - 1)).catch((e: unknown) => e),
      s.messaging.sendMessage('c1', undefined).catch((e: unknown) => e),
      s.messaging.sendMessage('c1', { big: 10n }).catch((e: unknown) => e),
      s.messaging.sendMessage('pstn', 'hi').catch((e: unknown) => e),
      s.messaging.sendMessage('nowhere', 'hi').catch((e: unknown) => e),
    ]);
    expect(failures.map((e) => (e as RelayError).code)).toEqual([
      'payload_too_large',
      'invalid_params',
      'invalid_params',
      'invalid_state',
      'invalid_state',
    ]);
    for (const failure of failures) expect(failure).toBeInstanceOf(RelayError);
    expect((failures[0] as Error).message).toMatch(/16384.*maxMessageBytes.*shorter/);
    expect((failures[3] as Error).message).toContain('not a browser');
    expect(s.request).not.toHaveBeenCalled();
    expect(s.peer.send).not.toHaveBeenCalled();
  });

  it('keeps what arrives once per sender and id, the last MAX_MESSAGE_HISTORY, until dismissed', () => {
    const s = setup();
    s.addCall('c1');
    const event = {
      seq: 1,
      callId: 'srv-c1',
      id: 'm1',
      from: 'p-bob',
      resource: 'bob',
      body: 'yo',
    };
    expect(s.messaging.onNotification('call.message', event)).toBe(true);
    s.messaging.fromCallPeer('c1', { t: 'message', id: 'm1', body: 'yo' });
    expect(s.store.getState().messages.c1).toEqual([
      {
        id: 'm1',
        from: 'bob',
        resource: 'bob',
        to: null,
        body: 'yo',
        at: expect.any(Number),
        local: false,
      },
    ]);
    for (let i = 0; i < MAX_MESSAGE_HISTORY + 5; i++) {
      s.messaging.fromCallPeer('c1', { t: 'message', id: `n${i}`, body: i });
    }
    const kept = s.store.getState().messages.c1!;
    expect(kept).toHaveLength(MAX_MESSAGE_HISTORY);
    expect(kept.at(-1)?.body).toBe(MAX_MESSAGE_HISTORY + 4);
    // Malformed or oversized messages on the channel are dropped.
    s.messaging.fromCallPeer('c1', { t: 'message', id: '', body: 1 });
    s.messaging.fromCallPeer('c1', {
      t: 'message',
      id: 'big',
      body: 'x'.repeat(MAX_MESSAGE_BYTES),
    });
    expect(s.store.getState().messages.c1).toBe(kept);

    s.store.setState({ calls: {} });
    expect(s.store.getState().messages.c1).toBeUndefined();
  });

  it('in a mesh room, sends on every open channel, and through the Relay when one is not open', async () => {
    const s = setup();
    s.addRoom();
    const all = await s.messaging.sendMessage('standup', 'hi all');
    expect(s.roomSends).toEqual([
      { participantId: 'p-bob', message: { t: 'message', id: all.id, body: 'hi all' } },
      { participantId: 'p-carol', message: { t: 'message', id: all.id, body: 'hi all' } },
    ]);
    expect(all).toMatchObject({ from: 'p-alice', resource: 'alice', to: null });
    s.closeRoomChannels();
    const one = await s.messaging.sendMessage('standup', 'psst', { to: 'p-bob' });
    expect(s.request).toHaveBeenCalledWith('room.message', {
      roomId: 'room-1',
      id: one.id,
      body: 'psst',
      to: 'p-bob',
    });
    await expect(s.messaging.sendMessage('standup', 'me', { to: 'p-alice' })).rejects.toMatchObject(
      { code: 'invalid_params' },
    );
    // Received on a channel: a private one for someone else is dropped.
    s.messaging.fromRoomPeer('standup', 'p-bob', { t: 'message', id: 'x', body: 1, to: 'p-carol' });
    s.messaging.fromRoomPeer('standup', 'p-bob', { t: 'message', id: 'y', body: 2, to: 'p-alice' });
    s.messaging.onNotification('room.message', {
      seq: 3,
      roomId: 'room-1',
      id: 'y',
      from: 'p-bob',
      resource: 'bob',
      body: 2,
      to: 'p-alice',
    });
    expect(s.store.getState().messages.standup?.slice(2)).toMatchObject([
      { id: 'y', from: 'p-bob', resource: 'bob', to: 'p-alice', body: 2 },
    ]);
  });

  it('goes through the Relay in sfu rooms and for supervisors, never on a channel', async () => {
    const s = setup();
    s.addRoom({ media: 'sfu' });
    await s.messaging.sendMessage('standup', 'hi');
    expect(s.roomSends).toEqual([]);
    expect(s.request).toHaveBeenCalledTimes(1);
    s.addRoom();
    const mesh = s.store.getState().rooms.standup!;
    const self = { ...mesh.participants['p-alice']!, assist: 'barge' as const };
    s.store.setState({
      rooms: { standup: { ...mesh, participants: { ...mesh.participants, 'p-alice': self } } },
    });
    await s.messaging.sendMessage('standup', 'from a supervisor');
    expect(s.roomSends).toEqual([]);
    expect(s.request).toHaveBeenCalledTimes(2);
    s.addRoom({ state: 'joining', id: null, participantId: null });
    await expect(s.messaging.sendMessage('standup', 'hi')).rejects.toMatchObject({
      code: 'invalid_state',
    });
  });
});
