/**
 * Track processors in Chromium, in a real 1:1 call: a canvas grayscale processor (the recipe of
 * docs/recipes/track-processors.md) replaces the fake camera's coloured picture, the other side
 * receives grey frames, the processor comes off and on again mid-call without renegotiation,
 * and hanging up stops the captured camera track too.
 */
import { describe, expect, it } from 'vitest';
import {
  createRelayClient,
  type CallSnapshot,
  type RelayClient,
  type RelayClientOptions,
  type TrackProcessor,
  type TrackProcessorContext,
} from 'relaycall/core';
import { until } from './faultKit.js';
import { fetchTestToken, playInVideo, relayPerFile, ringingCall, untilTrue } from './helpers.js';

const { relay, clients } = relayPerFile();

async function connected(
  resource: string,
  options: Partial<RelayClientOptions> = {},
): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url, iceServers: [], ...options });
  clients.push(client);
  await client.connect(await fetchTestToken(relay.tokenUrl, resource));
  return client;
}

const call = (client: RelayClient, id: string) => client.store.getState().calls[id] as CallSnapshot;

/** The recipe's processor: the camera drawn through a canvas filter (here grayscale). */
function canvasProcessor(filter: string): TrackProcessor {
  return async (track) => {
    if (track.kind !== 'video') return track;
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = new MediaStream([track]);
    await video.play();
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const ctx = canvas.getContext('2d')!;
    ctx.filter = filter;
    const output = canvas.captureStream().getVideoTracks()[0]!;
    const draw = () => {
      // Stop drawing once either end is stopped (call over, processor replaced).
      if (track.readyState === 'ended' || output.readyState === 'ended') {
        video.srcObject = null;
        return;
      }
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      video.requestVideoFrameCallback(draw);
    };
    video.requestVideoFrameCallback(draw);
    return output;
  };
}

/** Mean colourfulness of the frame `video` shows: |R-G| + |G-B| per pixel, 0 for grey. */
function colourfulness(video: HTMLVideoElement): number {
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(video, 0, 0, 64, 48);
  const { data } = ctx.getImageData(0, 0, 64, 48);
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) {
    sum += Math.abs(data[i]! - data[i + 1]!) + Math.abs(data[i + 1]! - data[i + 2]!);
  }
  return sum / (data.length / 4);
}

const GREY = 8;
const COLOURED = 30;

function untilColour(video: HTMLVideoElement, check: (c: number) => boolean, label: string) {
  return untilTrue(() => video.videoWidth > 0 && check(colourfulness(video)), label, 20_000);
}

describe('track processors in Chromium', () => {
  it('sends processed camera frames in a real call, swaps them mid-call and stops the camera after', async () => {
    const seen: { track: MediaStreamTrack; context: TrackProcessorContext }[] = [];
    const grayscale = canvasProcessor('grayscale(1)');
    const spy: TrackProcessor = (track, context) => {
      seen.push({ track, context });
      return grayscale(track, context);
    };
    const alice = await connected('tp-alice', { processTrack: spy });
    const bob = await connected('tp-bob');

    const aliceCall = alice.call('tp-bob');
    const ringing = ringingCall(await until(bob, (s) => ringingCall(s) !== undefined, 'rings'))!;
    await bob.answer(ringing.id, { processTrack: null });
    await until(bob, (s) => s.calls[ringing.id]?.remoteStream != null, 'bob gets a stream');

    const camera = seen.find((s) => s.context.kind === 'video');
    expect(camera?.context).toEqual({ kind: 'video', callId: aliceCall });
    expect(seen.find((s) => s.context.kind === 'audio')?.context.callId).toBe(aliceCall);
    const source = camera!.track;
    const sent = call(alice, aliceCall).localStream!.getVideoTracks()[0]!;
    expect(sent).not.toBe(source);

    // The fake camera's picture is coloured; bob sees it grey.
    const original = await playInVideo(new MediaStream([source.clone()]));
    await untilColour(original, (c) => c > COLOURED, 'the fake camera is coloured');
    const atBob = await playInVideo(call(bob, ringing.id).remoteStream!);
    await untilColour(atBob, (c) => c < GREY, 'bob receives grey frames');

    // Off mid-call: the camera as captured (same connection, no renegotiation), then on again.
    const remote = call(bob, ringing.id).remoteStream;
    await alice.setTrackProcessor(aliceCall, 'video', null);
    expect(sent.readyState).toBe('ended');
    expect(source.readyState).toBe('live');
    await untilColour(atBob, (c) => c > COLOURED, 'bob receives colour again');
    await alice.setTrackProcessor(aliceCall, 'video', canvasProcessor('grayscale(1)'));
    await untilColour(atBob, (c) => c < GREY, 'bob receives grey frames again');
    expect(call(bob, ringing.id).remoteStream).toBe(remote);

    const processed = call(alice, aliceCall).localStream!.getVideoTracks()[0]!;
    alice.hangup(aliceCall);
    await until(bob, (s) => s.calls[ringing.id]?.state === 'ended', 'bob sees the hangup');
    expect(source.readyState).toBe('ended');
    expect(processed.readyState).toBe('ended');
    for (const { track } of seen) expect(track.readyState).toBe('ended');
  });

  it('fails the call with media_failed when the processor throws, leaving no camera on', async () => {
    let captured: MediaStreamTrack | undefined;
    const alice = await connected('tp-carol');
    const id = alice.call('tp-dave', {
      processTrack: (track) => {
        captured = track;
        throw new Error('model not loaded');
      },
    });
    await until(alice, (s) => s.calls[id]?.state === 'ended', 'the call ends');
    expect(call(alice, id)).toMatchObject({ endReason: 'failed', error: { code: 'media_failed' } });
    expect(call(alice, id).error?.message).toContain('track processor failed');
    expect(captured?.readyState).toBe('ended');
  });
});
