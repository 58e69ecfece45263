/**
 * What a gateway call sends its far end while a supervisor barges (FarEndMix), against a fake
 * RTCPeerConnection and a fake Web Audio: the microphone mixed with the barging supervisors, the
 * plain microphone otherwise (whisper, monitor, hold, no supervisor), a switched microphone mixed
 * in place of the old one, everything closed when the call ends. The real media:
 * test/browser/assistSip.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { RelayClientState } from 'relaycall/core';
import { CallTable, type CallRecord } from '../../src/core/calls/CallTable.js';
import { initialState } from '../../src/core/clientOptions.js';
import type { Peer } from '../../src/core/peer/createPeer.js';
import { FarEndMix } from '../../src/core/supervision/FarEndMix.js';
import type { SupervisorSnapshot } from '../../src/core/supervision/supervisionTypes.js';

const track = (label: string) => ({ kind: 'audio', label, enabled: true, stop() {} });
type FakeTrack = ReturnType<typeof track>;

class FakeStream {
  constructor(readonly tracks: FakeTrack[]) {}
  getAudioTracks() {
    return this.tracks;
  }
}

/** Every fake AudioContext: its sources (by track) and whether it was closed. */
const contexts: { sources: Set<FakeTrack>; closed: boolean }[] = [];
class FakeAudioContext {
  readonly state = { sources: new Set<FakeTrack>(), closed: false };
  constructor() {
    contexts.push(this.state);
  }
  createMediaStreamDestination() {
    return { stream: new FakeStream([track('mix')]) };
  }
  createMediaStreamSource(stream: FakeStream) {
    const source = stream.tracks[0]!;
    return {
      connect: () => this.state.sources.add(source),
      disconnect: () => this.state.sources.delete(source),
    };
  }
  resume = async () => undefined;
  close = async () => {
    this.state.closed = true;
  };
}

const Global = globalThis as { MediaStream?: unknown };
const hadMediaStream = 'MediaStream' in Global;
beforeAll(() => {
  Global.MediaStream ??= FakeStream;
});
afterAll(() => {
  if (!hadMediaStream) delete Global.MediaStream;
});

function setup() {
  const store = createStore<RelayClientState>()(() => initialState({ url: 'http://relay.test' }));
  const table = new CallTable(store);
  const record: CallRecord = table.add('outgoing', '+15551234567', undefined, 'pstn');
  const mic = track('mic');
  const sender = {
    track: mic as FakeTrack | null,
    replaceTrack: async (next: FakeTrack | null) => {
      sender.track = next;
    },
  };
  const pc = {
    signalingState: 'stable',
    getTransceivers: () => [{ receiver: { track: { kind: 'audio' } }, sender }],
  };
  record.peer = { pc } as unknown as Peer;
  table.update(record.id, {
    state: 'active',
    localStream: new FakeStream([mic]) as unknown as MediaStream,
  });
  const voice = track('supervisor');
  const supervisor = (mode: SupervisorSnapshot['mode']): SupervisorSnapshot => ({
    participantId: 'sup-1',
    resource: 'sup',
    mode,
    since: 0,
    heard: mode !== 'monitor',
    stream: new FakeStream([voice]) as unknown as MediaStream,
  });
  const ctor = FakeAudioContext as unknown as typeof AudioContext;
  const mix = new FarEndMix(record, table, ctor);
  return { table, record, mic, voice, sender, supervisor, mix };
}

describe('FarEndMix: the far end of a gateway call hears a barging supervisor', () => {
  it('sends the mix only while a supervisor barges and the call is not held', async () => {
    const { table, record, mic, voice, sender, supervisor, mix } = setup();
    contexts.length = 0;
    table.update(record.id, { supervisors: [supervisor('barge')], audioMuted: true });
    await mix.sync();
    expect(sender.track?.label).toBe('mix');
    expect([...contexts[0]!.sources]).toEqual([mic, voice]);

    // Held: the customer hears nobody (the microphone, disabled by the hold).
    table.update(record.id, { held: true, state: 'held' });
    await mix.sync();
    expect(sender.track).toBe(mic);
    expect(contexts[0]!.closed).toBe(true);
    table.update(record.id, { held: false, state: 'active' });
    await mix.sync();
    expect(sender.track?.label).toBe('mix');

    // Whispering (or monitoring): not heard by the far end.
    table.update(record.id, { supervisors: [supervisor('whisper')] });
    await mix.sync();
    expect(sender.track).toBe(mic);
    expect(contexts.every((c) => c.closed)).toBe(true);
  });

  it('mixes a switched microphone in place of the old one; closes everything at the end', async () => {
    const { table, record, voice, sender, supervisor, mix } = setup();
    contexts.length = 0;
    table.update(record.id, { supervisors: [supervisor('barge')] });
    await mix.sync();
    const next = track('headset');
    table.update(record.id, { localStream: new FakeStream([next]) as unknown as MediaStream });
    await mix.sync();
    expect(sender.track?.label).toBe('mix');
    expect(contexts).toHaveLength(1);
    expect([...contexts[0]!.sources]).toEqual([voice, next]);

    table.update(record.id, { state: 'ended', supervisors: [] });
    await mix.sync();
    expect(contexts[0]).toMatchObject({ closed: true, sources: new Set() });
  });
});
