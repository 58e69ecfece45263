/**
 * The README's room example in Chromium, through the public hooks against a real Relay: each
 * person is a <RelayProvider> of their own (own client, socket, camera and peer connections)
 * rendering the example's `<Standup />` and `<RoomInvites />`. Joining by clicks, live video
 * each way in the `RoomGrid`, muting and the camera shown to the other side, an invitation
 * accepted from `useRoomInvites`, and leaving. Waits on conditions, never on fixed sleeps.
 */
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { RelayProvider, RoomGrid, useRelayClient, useRoom, useRoomInvites } from 'relaycall';
import { actSync, framesPresented, untilTrue } from './helpers.js';

// The README's room example, as written there.

function Standup() {
  return (
    <RoomGrid name="standup">
      {/* Inside the grid, the hooks may omit the room's name. */}
      <Controls />
    </RoomGrid>
  );
}

function Controls() {
  const room = useRoom(undefined, { metadata: { name: 'Alice' } });
  if (room.state === 'idle' || room.state === 'left') {
    return <button onClick={() => room.join()}>Join</button>;
  }
  if (room.state === 'joining') return <p>Joining…</p>;
  // invite() rejects when the Relay refuses (bob offline: unavailable; room full: room_full).
  const invite = () => room.invite('bob').catch((error: Error) => alert(error.message));
  return (
    <>
      <button onClick={room.toggleAudio}>{room.audioMuted ? 'Unmute' : 'Mute'}</button>
      <button onClick={room.toggleVideo}>{room.videoMuted ? 'Camera on' : 'Camera off'}</button>
      <button onClick={invite}>Invite bob</button>
      <button onClick={room.leave}>Leave</button>
    </>
  );
}

function RoomInvites() {
  const { invites, accept, decline } = useRoomInvites();
  return invites.map((invite) => (
    <p key={invite.roomId}>
      {invite.by} invites you to {invite.name} <button onClick={() => accept(invite)}>Join</button>
      <button onClick={() => decline(invite)}>Decline</button>
    </p>
  ));
}

// The test's harness around it.

const ROOM_SCOPES = 'calls:dial,calls:receive,rooms:join';

let relay: { id: string; url: string; tokenUrl: string } | undefined;
const roots: Root[] = [];

// A fresh Relay per test: the example's room name ('standup') and invitee ('bob') are fixed.
beforeEach(async () => {
  relay = await commands.startRelay();
});
afterEach(async () => {
  for (const root of roots.splice(0).reverse()) actSync(() => root.unmount());
  document.body.replaceChildren();
  if (relay) await commands.stopRelay(relay.id);
  relay = undefined;
});

/** A JWT with the rooms scope, as the app's back end hands one out. */
async function roomToken(resource: string): Promise<string> {
  const response = await fetch(`${relay!.tokenUrl}?resource=${resource}&scopes=${ROOM_SCOPES}`);
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

function Status() {
  const { status } = useRelayClient();
  return <output data-status={status} />;
}

/** Renders `resource`'s own provider with the example in a `<section>` of its own; returns it. */
function person(resource: string): HTMLElement {
  const section = document.createElement('section');
  section.dataset.person = resource;
  document.body.append(section);
  const root = createRoot(section);
  roots.push(root);
  actSync(() =>
    root.render(
      <RelayProvider url={relay!.url} fetchToken={() => roomToken(resource)}>
        <Status />
        <RoomInvites />
        <Standup />
      </RelayProvider>,
    ),
  );
  return section;
}

const waitFor = untilTrue;

const connected = (section: HTMLElement) =>
  waitFor(
    () => section.querySelector('[data-status="connected"]') !== null,
    `${section.dataset.person} connected`,
  );

/** The button named `name` in `scope` (the example's Controls sit after the grid's tiles). */
const button = (scope: ParentNode, name: string) =>
  [...scope.querySelectorAll('button')].find((b) => b.textContent === name);

function click(scope: ParentNode, name: string) {
  const target = button(scope, name);
  expect(target, `a "${name}" button`).toBeDefined();
  actSync(() => target?.click());
}

const tiles = (section: HTMLElement) => [
  ...section.querySelectorAll<HTMLElement>('.relaycall-room__tile'),
];
const remoteTile = (section: HTMLElement) =>
  section.querySelector<HTMLElement>('.relaycall-room__tile:not([data-local])');
const remoteVideo = (section: HTMLElement) => remoteTile(section)?.querySelector('video') ?? null;
const mutedIndicator = (tile: HTMLElement | null) =>
  tile?.querySelector('.relaycall-video__muted[aria-label="Microphone muted"]') ?? null;

const describeGrid = (section: HTMLElement) =>
  `${section.dataset.person}: ` +
  tiles(section)
    .map((tile) => {
      const video = tile.querySelector('video');
      const local = tile.hasAttribute('data-local') ? 'local' : 'remote';
      const playing = video && !video.paused ? 'playing' : 'paused';
      return `${local}/${tile.dataset.state}/${playing}/${video?.videoWidth ?? 0}px`;
    })
    .join(', ');

/**
 * `section`'s grid shows two tiles, its own (local) and the other's, whose video plays with
 * frames flowing.
 */
async function seesTheOther(section: HTMLElement) {
  await waitFor(
    () => {
      const all = tiles(section);
      const video = remoteVideo(section);
      return (
        all.length === 2 &&
        all.filter((tile) => tile.hasAttribute('data-local')).length === 1 &&
        remoteTile(section)?.dataset.state === 'joined' &&
        video !== null &&
        !video.paused &&
        video.videoWidth > 0
      );
    },
    `two tiles with live remote video, ${describeGrid(section)}`,
    20_000,
  );
  const video = remoteVideo(section)!;
  await framesPresented(video, 5, `frames from the other side at ${section.dataset.person}`);
  expect(video.videoWidth).toBeGreaterThan(0);
  expect(remoteTile(section)?.querySelector('.relaycall-room__status')).toBeNull();
}

/** `section`'s grid is back to its own tile alone. */
const alone = (section: HTMLElement) =>
  waitFor(
    () => tiles(section).length === 1 && tiles(section)[0]!.hasAttribute('data-local'),
    `one (own) tile, ${describeGrid(section)}`,
    10_000,
  );

/** The invitation `RoomInvites` shows in `section`, by its text. */
const invitation = (section: HTMLElement, text: string) =>
  [...section.querySelectorAll('p')].find((p) => p.textContent?.startsWith(text));

describe("the README's room example in Chromium", () => {
  it('joins two people by clicks, shows each one live to the other, mutes, and leaves', async () => {
    const alice = person('alice');
    const bob = person('bob');
    await Promise.all([connected(alice), connected(bob)]);
    expect(tiles(alice)).toHaveLength(0);

    click(alice, 'Join');
    await waitFor(() => button(alice, 'Leave') !== undefined, 'alice joined');
    await waitFor(() => tiles(alice).length === 1, "alice's own tile");
    click(bob, 'Join');
    await waitFor(() => button(bob, 'Leave') !== undefined, 'bob joined');
    await Promise.all([seesTheOther(alice), seesTheOther(bob)]);
    // The example names everyone 'Alice' (its join metadata); each sees the other's tile so.
    expect(remoteTile(bob)?.querySelector('figcaption')?.textContent).toBe('Alice');
    expect(remoteTile(alice)?.querySelector('figcaption')?.textContent).toBe('Alice');
    expect(mutedIndicator(remoteTile(bob))).toBeNull();
    expect(remoteVideo(bob)?.muted).toBe(false);

    // alice mutes: her button flips, her own tile and bob's tile for her show it.
    click(alice, 'Mute');
    await waitFor(() => button(alice, 'Unmute') !== undefined, "alice's button says Unmute");
    expect(button(alice, 'Mute')).toBeUndefined();
    expect(mutedIndicator(alice.querySelector('.relaycall-room__tile[data-local]'))).not.toBeNull();
    await waitFor(
      () => mutedIndicator(remoteTile(bob)) !== null && remoteVideo(bob)?.muted === true,
      "bob's tile for alice shows her muted",
    );
    expect(mutedIndicator(remoteTile(alice))).toBeNull(); // bob is not muted
    click(alice, 'Unmute');
    await waitFor(() => button(alice, 'Mute') !== undefined, "alice's button says Mute again");
    await waitFor(
      () => mutedIndicator(remoteTile(bob)) === null && remoteVideo(bob)?.muted === false,
      "bob's tile for alice shows her unmuted",
    );

    // alice turns her camera off: bob's tile for her shows the placeholder; then on again.
    click(alice, 'Camera off');
    await waitFor(() => button(alice, 'Camera on') !== undefined, "alice's button says Camera on");
    const figure = () => remoteTile(bob)?.querySelector('figure');
    await waitFor(
      () =>
        figure()?.dataset.video === 'off' &&
        figure()?.querySelector('.relaycall-video__placeholder') !== null,
      "bob's tile for alice shows her camera off",
    );
    click(alice, 'Camera on');
    await waitFor(
      () => button(alice, 'Camera off') !== undefined,
      "alice's button says Camera off",
    );
    await waitFor(() => figure()?.dataset.video === 'on', "bob's tile for alice shows video again");
    await framesPresented(remoteVideo(bob)!, 5, "alice's video at bob's after her camera is on");

    // alice leaves: bob's grid is his own tile alone; alice may join again.
    click(alice, 'Leave');
    await waitFor(() => button(alice, 'Join') !== undefined, 'alice shows Join again');
    await alone(bob);
    expect(button(bob, 'Leave')).toBeDefined(); // bob is still in the room
  });

  it('invites bob from the example, who joins from his invitation; then alice leaves', async () => {
    const alice = person('alice');
    const bob = person('bob');
    await Promise.all([connected(alice), connected(bob)]);

    click(alice, 'Join');
    await waitFor(() => button(alice, 'Invite bob') !== undefined, 'alice joined');
    expect(invitation(bob, 'alice invites you')).toBeUndefined();
    click(alice, 'Invite bob');
    // bob rings in alice's grid, and his RoomInvites shows the invitation.
    await waitFor(
      () => remoteTile(alice)?.dataset.state === 'ringing',
      `bob ringing in alice's grid, ${describeGrid(alice)}`,
    );
    expect(remoteTile(alice)?.querySelector('.relaycall-room__status')?.textContent).toBe(
      'Ringing…',
    );
    await waitFor(
      () => invitation(bob, 'alice invites you to standup') !== undefined,
      "bob's invitation",
    );
    const invite = invitation(bob, 'alice invites you to standup')!;
    expect(invite.textContent).toBe('alice invites you to standup JoinDecline');
    expect(tiles(bob)).toHaveLength(0); // bob has not joined yet

    click(invite, 'Join');
    await waitFor(() => button(bob, 'Leave') !== undefined, 'bob joined from the invitation');
    await waitFor(() => invitation(bob, 'alice invites you') === undefined, 'invitation gone');
    await Promise.all([seesTheOther(alice), seesTheOther(bob)]);
    // accept() joins without the example's metadata: alice sees bob by his resource.
    expect(remoteTile(alice)?.querySelector('figcaption')?.textContent).toBe('bob');

    click(alice, 'Leave');
    await waitFor(() => button(alice, 'Join') !== undefined, 'alice shows Join again');
    await alone(bob);
  });
});
