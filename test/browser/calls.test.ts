import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { createRelayClient, type CallSnapshot, type RelayClient } from 'relaycall/core';
import { activeCall, until } from './faultKit.js';
import {
  fetchTestToken,
  framesPresented,
  playInVideo,
  relayPerFile,
  ringingCall,
} from './helpers.js';

const { relay, clients } = relayPerFile();

const token = (resource: string) => fetchTestToken(relay.tokenUrl, resource);

async function connected(resource: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  await client.connect(await token(resource));
  return client;
}

const call = (client: RelayClient, id: string) => client.store.getState().calls[id] as CallSnapshot;

/** Plays a call's remote stream in the page. */
const video = (stream: MediaStream | null) => playInVideo(stream as MediaStream);

/** alice calls bob with her name as metadata, bob answers; both sides active. */
async function aliceCallsBob(alice: RelayClient, bob: RelayClient) {
  const [aliceCall, bobCall] = await activeCall(alice, bob, 'bob', { metadata: { name: 'Alice' } });
  expect(call(bob, bobCall)).toMatchObject({ remote: 'alice', metadata: { name: 'Alice' } });
  return { aliceCall, bobCall };
}

describe('a call between two clients through the Relay', () => {
  it('connects with live video both ways and hangs up cleanly', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    const { aliceCall, bobCall } = await aliceCallsBob(alice, bob);
    await until(bob, (s) => s.calls[bobCall]?.remoteStream != null, 'bob gets a stream');
    await until(alice, (s) => s.calls[aliceCall]?.remoteStream != null, 'alice gets a stream');
    const atBob = await video(call(bob, bobCall).remoteStream);
    const atAlice = await video(call(alice, aliceCall).remoteStream);
    await framesPresented(atBob, 5, 'frames at bob');
    await framesPresented(atAlice, 5, 'frames at alice');
    expect(atBob.videoWidth).toBeGreaterThan(0);

    const localTracks = call(alice, aliceCall).localStream!.getTracks();
    alice.hangup(aliceCall);
    await until(bob, (s) => s.calls[bobCall]?.state === 'ended', 'bob ended');
    expect(call(bob, bobCall).endReason).toBe('hangup');
    expect(call(alice, aliceCall)).toMatchObject({
      state: 'ended',
      endReason: 'hangup',
      localStream: null,
    });
    expect(localTracks.every((track) => track.readyState === 'ended')).toBe(true);
    await expect.poll(() => commands.relayStats(relay.id)).toMatchObject({ calls: 0 });
  });

  it('reports declined, busy, unavailable and cancelled', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');

    const declined = alice.call('bob');
    bob.reject(ringingCall(await until(bob, (s) => !!ringingCall(s), 'ring 1'))!.id, 'declined');
    await until(alice, (s) => s.calls[declined]?.state === 'ended', 'declined');
    expect(call(alice, declined)).toMatchObject({ endReason: 'declined', error: null });

    const busy = alice.call('bob');
    bob.reject(ringingCall(await until(bob, (s) => !!ringingCall(s), 'ring 2'))!.id, 'busy');
    await until(alice, (s) => s.calls[busy]?.state === 'ended', 'busy');
    expect(call(alice, busy)).toMatchObject({ endReason: 'busy', error: { code: 'busy' } });

    const nobody = alice.call('nobody');
    await until(alice, (s) => s.calls[nobody]?.state === 'ended', 'unavailable');
    expect(call(alice, nobody)).toMatchObject({
      endReason: 'unavailable',
      error: { code: 'unavailable' },
    });

    const cancelled = alice.call('bob');
    const ringing = ringingCall(await until(bob, (s) => !!ringingCall(s), 'ring 3'))!;
    await until(alice, (s) => s.calls[cancelled]?.state === 'ringing', 'alice hears ringing');
    alice.hangup(cancelled);
    await until(bob, (s) => s.calls[ringing.id]?.state === 'ended', 'bob stops ringing');
    expect(call(bob, ringing.id).endReason).toBe('cancelled');
    expect(call(alice, cancelled).endReason).toBe('cancelled');
  });

  it('gives up with no-answer when nobody answers in time, and stops ringing the callee', async () => {
    const alice = createRelayClient({ url: relay.url, noAnswerTimeoutMs: 300 });
    clients.push(alice);
    await alice.connect(await token('alice'));
    const bob = await connected('bob');
    const id = alice.call('bob');
    const ringing = ringingCall(await until(bob, (s) => !!ringingCall(s), 'bob rings'))!;
    await until(alice, (s) => s.calls[id]?.state === 'ended', 'alice gives up');
    expect(call(alice, id)).toMatchObject({ endReason: 'no-answer', error: { code: 'no_answer' } });
    await until(bob, (s) => s.calls[ringing.id]?.state === 'ended', 'bob stops ringing');
    expect(call(bob, ringing.id).endReason).toBe('cancelled');
  });

  it('mutes, holds, switches camera and sends DTMF during a call', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    const { aliceCall, bobCall } = await aliceCallsBob(alice, bob);

    alice.setAudioMuted(aliceCall, true);
    await until(bob, (s) => s.calls[bobCall]?.remoteAudioMuted === true, 'bob sees mute');
    const audio = call(alice, aliceCall).localStream!.getAudioTracks()[0]!;
    expect(audio.enabled).toBe(false);
    alice.setAudioMuted(aliceCall, false);
    await until(bob, (s) => s.calls[bobCall]?.remoteAudioMuted === false, 'bob sees unmute');
    expect(audio.enabled).toBe(true);

    alice.setHeld(aliceCall, true);
    expect(call(alice, aliceCall).state).toBe('held');
    await until(bob, (s) => s.calls[bobCall]?.remoteHeld === true, 'bob sees hold');
    // Held: neither side sends media.
    expect(
      call(bob, bobCall)
        .localStream!.getTracks()
        .every((t) => !t.enabled),
    ).toBe(true);
    alice.setHeld(aliceCall, false);
    await until(bob, (s) => s.calls[bobCall]?.remoteHeld === false, 'bob sees unhold');
    expect(call(alice, aliceCall).state).toBe('active');
    expect(
      call(bob, bobCall)
        .localStream!.getTracks()
        .every((t) => t.enabled),
    ).toBe(true);

    const cameras = (await navigator.mediaDevices.enumerateDevices()).filter(
      (d) => d.kind === 'videoinput',
    );
    const before = call(alice, aliceCall).localStream!.getVideoTracks()[0]!;
    await alice.switchDevice(aliceCall, 'videoinput', cameras.at(-1)!.deviceId);
    const after = call(alice, aliceCall).localStream!.getVideoTracks()[0]!;
    expect(after.id).not.toBe(before.id);
    expect(before.readyState).toBe('ended');
    expect(call(alice, aliceCall)).toMatchObject({
      state: 'active',
      videoInputId: cameras.at(-1)!.deviceId,
    });
    const atBob = await video(call(bob, bobCall).remoteStream);
    await framesPresented(atBob, 5, 'frames after the switch');

    alice.sendDtmf(aliceCall, '12#');
    await until(bob, (s) => s.calls[bobCall]?.remoteDtmf === '12#', 'bob hears DTMF');
  });

  it('refreshes the token during a call without a media gap', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    const { bobCall } = await aliceCallsBob(alice, bob);
    const atBob = await video(call(bob, bobCall).remoteStream);
    await framesPresented(atBob, 3, 'frames before');
    const { sessionId, expiresAt } = alice.store.getState();
    const frames = framesPresented(atBob, 10, 'frames across the refresh');
    await alice.updateToken(await token('alice'));
    await frames;
    expect(alice.store.getState()).toMatchObject({ status: 'connected', sessionId });
    expect(alice.store.getState().expiresAt).toBeGreaterThanOrEqual(expiresAt!);
    expect(call(bob, bobCall).state).toBe('active');
  });

  it('keeps media flowing through a Relay restart, reconnects, and still hangs up', async () => {
    const alice = await connected('alice');
    const bob = await connected('bob');
    const { aliceCall, bobCall } = await aliceCallsBob(alice, bob);
    const atBob = await video(call(bob, bobCall).remoteStream);
    await framesPresented(atBob, 3, 'frames before');
    const restart = commands.restartRelay(relay.id, 300);
    await until(alice, (s) => s.status === 'reconnecting', 'alice notices');
    await framesPresented(atBob, 5, 'frames while the Relay is down');
    await restart;
    await until(alice, (s) => s.status === 'connected', 'alice reconnects', 15_000);
    await until(bob, (s) => s.status === 'connected', 'bob reconnects', 15_000);
    expect(call(alice, aliceCall).state).toBe('active');
    await framesPresented(atBob, 5, 'frames after');
    alice.hangup(aliceCall);
    await until(bob, (s) => s.calls[bobCall]?.state === 'ended', 'bob ended');
    expect(call(bob, bobCall).endReason).toBe('hangup');
  });
});
