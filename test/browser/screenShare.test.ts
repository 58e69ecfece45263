import { describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import {
  createRelayClient,
  type CallSnapshot,
  type DisplayMediaFn,
  type RelayClient,
} from 'relaycall/core';
import { activeCall, until, untilAll } from './faultKit.js';
import { describeRoom, receivesAll, remotes, room, roomToken } from './roomKit.js';
import {
  canvasScreen,
  fetchTestToken,
  framesPresented,
  playInVideo,
  relayPerFile,
  within,
} from './helpers.js';

/**
 * Screen sharing in calls between browsers. Most tests inject the picker (`getDisplayMedia`): the
 * "screen" is a canvas animated on every frame (captureStream), and a cancelled picker is a
 * rejection with the browser's NotAllowedError. One test uses the real getDisplayMedia: headless
 * Chromium with --use-fake-ui-for-media-stream picks its fake screen without a prompt.
 */

const { relay, clients, cleanups } = relayPerFile();

/** A picker the test answers: each call resolves with a canvas or rejects as told. */
function picker() {
  const asked: DisplayMediaStreamOptions[] = [];
  const given: MediaStream[] = [];
  let answer: 'share' | 'cancel' = 'share';
  let gate: Promise<void> = Promise.resolve();
  const getDisplayMedia: DisplayMediaFn = async (options) => {
    asked.push(options);
    await gate;
    if (answer === 'cancel') throw new DOMException('Permission denied', 'NotAllowedError');
    const stream = canvasScreen(cleanups);
    given.push(stream);
    return stream;
  };
  return {
    getDisplayMedia,
    asked,
    given,
    answer: (next: 'share' | 'cancel') => (answer = next),
    hold(): () => void {
      let open = () => {};
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = Promise.resolve();
        open();
      };
    },
  };
}

async function connected(resource: string, getDisplayMedia?: DisplayMediaFn) {
  const client = createRelayClient({ url: relay.url, ...(getDisplayMedia && { getDisplayMedia }) });
  clients.push(client);
  await client.connect(await fetchTestToken(relay.tokenUrl, resource));
  return client;
}

const call = (client: RelayClient, id: string) => client.store.getState().calls[id] as CallSnapshot;

/** alice calls bob, bob answers: both active, each with the other's camera. */
async function withCameras(alice: RelayClient, bob: RelayClient) {
  const [aliceCall, bobCall] = await activeCall(alice, bob, 'bob');
  await until(alice, (s) => s.calls[aliceCall]?.remoteStream != null, 'alice gets the camera');
  await until(bob, (s) => s.calls[bobCall]?.remoteStream != null, 'bob gets the camera');
  return { aliceCall, bobCall };
}

/** The other side sees the share as its own stream, with frames. */
async function seesShare(viewer: RelayClient, callId: string, label: string) {
  const state = await until(
    viewer,
    (s) => s.calls[callId]?.remoteScreenStream != null && s.calls[callId]?.remoteScreenSharing,
    `${label}: the share arrives`,
    15_000,
  );
  const snapshot = state.calls[callId]!;
  expect(snapshot.remoteScreenStream).not.toBe(snapshot.remoteStream);
  const video = await playInVideo(snapshot.remoteScreenStream!);
  await framesPresented(video, 5, `${label}: frames of the share`, 10_000);
  expect(video.videoWidth).toBe(320);
  return snapshot.remoteScreenStream!;
}

describe('screen sharing in a call', () => {
  it('sends the share as its own stream, both ways, and the caller stops it', async () => {
    const alicePicker = picker();
    const bobPicker = picker();
    const alice = await connected('alice', alicePicker.getDisplayMedia);
    const bob = await connected('bob', bobPicker.getDisplayMedia);
    const { aliceCall, bobCall } = await withCameras(alice, bob);

    await alice.startScreenShare(aliceCall);
    expect(alicePicker.asked).toEqual([{ video: true, audio: true }]);
    expect(call(alice, aliceCall)).toMatchObject({ screenSharing: true });
    const local = call(alice, aliceCall).screenStream!;
    await seesShare(bob, bobCall, 'bob');
    // The camera still plays beside it.
    await framesPresented(await playInVideo(call(bob, bobCall).remoteStream!), 3, 'bob: camera');

    // The callee shares too (its renegotiation goes through the caller).
    await bob.startScreenShare(bobCall, { audio: false });
    await seesShare(alice, aliceCall, 'alice');

    alice.stopScreenShare(aliceCall);
    expect(call(alice, aliceCall)).toMatchObject({ screenSharing: false, screenStream: null });
    expect(local.getTracks().every((t) => t.readyState === 'ended')).toBe(true);
    await until(
      bob,
      (s) => s.calls[bobCall]?.remoteScreenSharing === false,
      'bob sees the share stop',
    );
    expect(call(bob, bobCall).remoteScreenStream).toBeNull();
    expect(call(alice, aliceCall).remoteScreenSharing).toBe(true);

    // Hanging up stops the callee's capture.
    const bobShare = call(bob, bobCall).screenStream!;
    alice.hangup(aliceCall);
    await until(bob, (s) => s.calls[bobCall]?.state === 'ended', 'bob ended');
    expect(bobShare.getTracks().every((t) => t.readyState === 'ended')).toBe(true);
    expect(call(bob, bobCall)).toMatchObject({ screenSharing: false, screenStream: null });
  });

  it('a cancelled picker leaves the call as it was, and a later share works', async () => {
    const alicePicker = picker();
    const alice = await connected('alice', alicePicker.getDisplayMedia);
    const bob = await connected('bob');
    const { aliceCall, bobCall } = await withCameras(alice, bob);

    alicePicker.answer('cancel');
    const error = await alice.startScreenShare(aliceCall).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'RelayError',
      code: 'screen_share_cancelled',
      message: expect.stringMatching(/Share again and choose a screen/),
    });
    expect(call(alice, aliceCall)).toMatchObject({ state: 'active', screenSharing: false });
    expect(call(bob, bobCall)).toMatchObject({ state: 'active', remoteScreenSharing: false });

    alicePicker.answer('share');
    await alice.startScreenShare(aliceCall);
    await seesShare(bob, bobCall, 'bob after a cancel');
    expect(call(alice, aliceCall).state).toBe('active');
  });

  it('opens one picker for a double click, and the browser bar stops the share on both sides', async () => {
    const alicePicker = picker();
    const alice = await connected('alice', alicePicker.getDisplayMedia);
    const bob = await connected('bob');
    const { aliceCall, bobCall } = await withCameras(alice, bob);

    const open = alicePicker.hold();
    const first = alice.startScreenShare(aliceCall);
    const second = alice.startScreenShare(aliceCall);
    open();
    await within(Promise.all([first, second]), 10_000, 'both starts settle');
    expect(alicePicker.asked).toHaveLength(1);
    await seesShare(bob, bobCall, 'bob');

    // The browser's "Stop sharing" bar ends the capture's tracks.
    const track = call(alice, aliceCall).screenStream!.getVideoTracks()[0]!;
    track.stop();
    track.dispatchEvent(new Event('ended'));
    expect(call(alice, aliceCall)).toMatchObject({ screenSharing: false, screenStream: null });
    await until(bob, (s) => s.calls[bobCall]?.remoteScreenSharing === false, 'bob sees it stop');
    expect(call(bob, bobCall).remoteScreenStream).toBeNull();

    // Hanging up while the picker is open leaves no capture running.
    const reopen = alicePicker.hold();
    const late = alice.startScreenShare(aliceCall);
    alice.hangup(aliceCall);
    reopen();
    await late;
    expect(call(alice, aliceCall)).toMatchObject({ state: 'ended', screenStream: null });
    expect(alicePicker.given).toHaveLength(2);
    expect(alicePicker.given[1]!.getTracks().every((t) => t.readyState === 'ended')).toBe(true);
  });

  it('lets the callee share, stop and share again (each renegotiation request is new)', async () => {
    const bobPicker = picker();
    const alice = await connected('alice');
    const bob = await connected('bob', bobPicker.getDisplayMedia);
    const { aliceCall, bobCall } = await withCameras(alice, bob);
    for (const round of [1, 2, 3]) {
      await bob.startScreenShare(bobCall);
      const seen = await seesShare(alice, aliceCall, `alice, share ${round}`);
      expect(seen.id).toBe(call(bob, bobCall).screenStream!.id);
      bob.stopScreenShare(bobCall);
      await until(
        alice,
        (s) => s.calls[aliceCall]?.remoteScreenSharing === false,
        `alice sees share ${round} stop`,
      );
    }
    expect(bobPicker.asked).toHaveLength(3);
    expect(call(alice, aliceCall).state).toBe('active');
    await framesPresented(await playInVideo(call(alice, aliceCall).remoteStream!), 3, 'camera');
  });

  it("shares a real capture from the browser's picker (headless Chromium's fake screen)", async () => {
    // No injected picker: navigator.mediaDevices.getDisplayMedia, from a click (user activation).
    const alice = await connected('alice');
    const bob = await connected('bob');
    const { aliceCall, bobCall } = await withCameras(alice, bob);
    const button = document.createElement('button');
    button.textContent = 'Share screen';
    let shared: Promise<void> | undefined;
    button.onclick = () => (shared = alice.startScreenShare(aliceCall));
    document.body.append(button);
    await userEvent.click(button);
    await within(shared!, 10_000, 'the real share starts');
    const local = call(alice, aliceCall).screenStream!;
    expect(local.getVideoTracks()[0]!.getSettings().displaySurface).toBeDefined();
    const state = await until(
      bob,
      (s) => s.calls[bobCall]?.remoteScreenStream != null,
      'bob: the real share arrives',
      15_000,
    );
    const video = await playInVideo(state.calls[bobCall]!.remoteScreenStream!);
    await framesPresented(video, 3, 'bob: frames of the real share', 10_000);
    expect(video.videoWidth).toBeGreaterThan(0);
    alice.hangup(aliceCall);
    expect(local.getTracks().every((t) => t.readyState === 'ended')).toBe(true);
  });

  it('refuses to share without an active call, saying why', async () => {
    const alice = await connected('alice', picker().getDisplayMedia);
    await expect(alice.startScreenShare('nope')).rejects.toMatchObject({ code: 'invalid_state' });
  });
});

describe('screen sharing in a mesh room', () => {
  const SCOPES = 'calls:dial,calls:receive,rooms:join';
  async function member(resource: string, getDisplayMedia?: DisplayMediaFn) {
    const client = createRelayClient({
      url: relay.url,
      ...(getDisplayMedia && { getDisplayMedia }),
    });
    clients.push(client);
    await client.connect(await roomToken(relay.tokenUrl, resource, SCOPES));
    return client;
  }
  /** What `viewer` has of `sharer`'s screen. */
  const screenOf = (viewer: RelayClient, sharer: string) =>
    remotes(viewer, 'demo').find((p) => p.resource === sharer)?.screenStream ?? null;

  it('sends the share to every participant, one who joins later included, and stops it', async () => {
    const alicePicker = picker();
    const alice = await member('alice', alicePicker.getDisplayMedia);
    const bob = await member('bob');
    const carol = await member('carol');
    for (const client of [alice, bob]) expect((await client.joinRoom('demo')).state).toBe('joined');
    await untilAll(
      [alice, bob],
      () => receivesAll(alice, 'demo', 1) && receivesAll(bob, 'demo', 1),
      describeRoom([alice, bob], 'demo'),
      20_000,
    );

    await alice.startRoomScreenShare('demo');
    const shared = room(alice, 'demo').screenStream!;
    expect(shared).not.toBeNull();
    expect(room(alice, 'demo').participants[room(alice, 'demo').participantId!]?.screenStream).toBe(
      shared,
    );
    await until(bob, () => screenOf(bob, 'alice') !== null, 'bob gets the share', 15_000);
    expect(screenOf(bob, 'alice')).not.toBe(remotes(bob, 'demo')[0]!.stream);
    await framesPresented(
      await playInVideo(screenOf(bob, 'alice')!),
      3,
      'bob: share frames',
      10_000,
    );

    // Carol joins while alice shares: she gets the camera and the share.
    expect((await carol.joinRoom('demo')).state).toBe('joined');
    await until(
      carol,
      () => screenOf(carol, 'alice') !== null && receivesAll(carol, 'demo', 2),
      describeRoom([alice, bob, carol], 'demo'),
      20_000,
    );
    await framesPresented(
      await playInVideo(screenOf(carol, 'alice')!),
      3,
      'carol: share frames',
      10_000,
    );

    alice.stopRoomScreenShare('demo');
    expect(room(alice, 'demo').screenStream).toBeNull();
    expect(shared.getTracks().every((t) => t.readyState === 'ended')).toBe(true);
    await until(bob, () => screenOf(bob, 'alice') === null, 'bob sees it stop');
    await until(carol, () => screenOf(carol, 'alice') === null, 'carol sees it stop');

    // Shares again, then leaves: the capture stops.
    await alice.startRoomScreenShare('demo', { audio: false });
    await until(bob, () => screenOf(bob, 'alice') !== null, 'bob gets the second share', 15_000);
    const again = room(alice, 'demo').screenStream!;
    alice.leaveRoom('demo');
    await until(alice, (s) => s.rooms.demo?.state === 'left', 'alice left');
    expect(again.getTracks().every((t) => t.readyState === 'ended')).toBe(true);
  });
});
