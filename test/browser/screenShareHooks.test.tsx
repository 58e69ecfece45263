/**
 * Screen sharing through the public hooks in Chromium: two people, each a <RelayProvider> of
 * their own, in a mesh room shown by `RoomGrid`; alice shares with `useRoomScreenShare` (the
 * picker injected as a canvas "screen"), bob's grid shows it in its own tile with frames, and
 * alice stops. Waits on conditions, never on fixed sleeps.
 */
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  RelayProvider,
  RoomGrid,
  useRelayClient,
  useRoom,
  useRoomScreenShare,
  type DisplayMediaFn,
} from 'relaycall';
import { actSync, framesPresented, untilTrue } from './helpers.js';

let relay: { id: string; url: string; tokenUrl: string } | undefined;
const roots: Root[] = [];
const stops: (() => void)[] = [];

beforeEach(async () => {
  relay = await commands.startRelay();
});
afterEach(async () => {
  for (const root of roots.splice(0).reverse()) actSync(() => root.unmount());
  for (const stop of stops.splice(0)) stop();
  document.body.replaceChildren();
  if (relay) await commands.stopRelay(relay.id);
  relay = undefined;
});

/** A canvas redrawn every frame, as the picked "screen". */
const canvasScreen: DisplayMediaFn = () => {
  const canvas = document.createElement('canvas');
  canvas.width = 400;
  canvas.height = 200;
  const context = canvas.getContext('2d')!;
  let frame = 0;
  let handle = 0;
  const draw = () => {
    context.fillStyle = `hsl(${(frame += 3) % 360} 70% 50%)`;
    context.fillRect(0, 0, 400, 200);
    handle = requestAnimationFrame(draw);
  };
  draw();
  stops.push(() => cancelAnimationFrame(handle));
  return Promise.resolve(canvas.captureStream(30));
};

function Controls() {
  const room = useRoom();
  const share = useRoomScreenShare();
  if (room.state !== 'joined') return <button onClick={() => room.join()}>Join</button>;
  return (
    <button onClick={() => (share.sharing ? share.stop() : void share.start())}>
      {share.sharing ? 'Stop sharing' : 'Share screen'}
    </button>
  );
}

function Status() {
  return <output data-status={useRelayClient().status} />;
}

async function roomToken(resource: string): Promise<string> {
  const scopes = 'calls:dial,calls:receive,rooms:join';
  const response = await fetch(`${relay!.tokenUrl}?resource=${resource}&scopes=${scopes}`);
  return ((await response.json()) as { token: string }).token;
}

function person(resource: string): HTMLElement {
  const section = document.createElement('section');
  document.body.append(section);
  const root = createRoot(section);
  roots.push(root);
  actSync(() =>
    root.render(
      <RelayProvider
        url={relay!.url}
        fetchToken={() => roomToken(resource)}
        getDisplayMedia={canvasScreen}
      >
        <Status />
        <RoomGrid name="demo">
          <Controls />
        </RoomGrid>
      </RelayProvider>,
    ),
  );
  return section;
}

const button = (scope: ParentNode, name: string) =>
  [...scope.querySelectorAll('button')].find((b) => b.textContent === name);
async function click(scope: ParentNode, name: string) {
  await untilTrue(() => button(scope, name) !== undefined, `a "${name}" button`, 20_000);
  actSync(() => button(scope, name)!.click());
}
const screenVideo = (scope: ParentNode, label: string) =>
  scope.querySelector<HTMLVideoElement>(`.relaycall-video--screen video[aria-label="${label}"]`);

it("shows a participant's shared screen in its own RoomGrid tile, and takes it away when stopped", async () => {
  const alice = person('alice');
  const bob = person('bob');
  await untilTrue(
    () => document.querySelectorAll('[data-status="connected"]').length === 2,
    'both connected',
    10_000,
  );
  await click(alice, 'Join');
  await click(bob, 'Join');
  await click(alice, 'Share screen');
  await untilTrue(() => screenVideo(alice, 'Your screen') !== null, "alice's own share tile");
  expect(screenVideo(alice, 'Your screen')!.muted).toBe(true);
  await untilTrue(
    () => (screenVideo(bob, "alice's screen")?.videoWidth ?? 0) > 0,
    "bob's tile of alice's screen plays",
    20_000,
  );
  await framesPresented(screenVideo(bob, "alice's screen")!, 3, 'frames of the share at bob');
  expect(screenVideo(bob, "alice's screen")!.videoWidth).toBe(400);

  await click(alice, 'Stop sharing');
  await untilTrue(() => screenVideo(bob, "alice's screen") === null, "bob's share tile goes");
  expect(screenVideo(alice, 'Your screen')).toBeNull();
  expect(button(alice, 'Share screen')).toBeDefined();
});
