/**
 * Screen sharing through the public hooks in Chromium: two people, each a <RelayProvider> of
 * their own, in a mesh room shown by `RoomGrid`; alice shares with `useRoomScreenShare` (the
 * picker injected as a canvas "screen"), bob's grid shows it in its own tile with frames, and
 * alice stops. Waits on conditions, never on fixed sleeps.
 */
import { expect, it } from 'vitest';
import {
  RelayProvider,
  RoomGrid,
  useRelayClient,
  useRoom,
  useRoomScreenShare,
  type DisplayMediaFn,
} from 'relaycall';
import {
  actSync,
  canvasScreen,
  framesPresented,
  relayPerFile,
  renderPerTest,
  untilTrue,
} from './helpers.js';
import { roomToken } from './roomKit.js';

const { relay, cleanups } = relayPerFile();
const render = renderPerTest();

/** A canvas redrawn every frame, as the picked "screen". */
const pickScreen: DisplayMediaFn = () =>
  Promise.resolve(canvasScreen(cleanups, { width: 400, height: 200 }));

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

const SCOPES = 'calls:dial,calls:receive,rooms:join';

function person(resource: string): HTMLElement {
  return render(
    <RelayProvider
      url={relay.url}
      fetchToken={() => roomToken(relay.tokenUrl, resource, SCOPES)}
      getDisplayMedia={pickScreen}
    >
      <Status />
      <RoomGrid name="demo">
        <Controls />
      </RoomGrid>
    </RelayProvider>,
  );
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
