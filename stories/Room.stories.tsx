import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useState } from 'react';
import { RelayProvider, RoomGrid, type RoomGridProps, type Scope } from 'relaycall';
import { expect, waitFor, within } from 'storybook/test';
import { devTokens, relayUrl } from './support/devRelay.js';
import { FakeRelay } from './support/FakeRelay.js';
import { FakeRoomClient } from './support/fakeRoomClient.js';
import { live, liveStories, type LiveLoaded } from './support/live.js';
import { CALL_TIMEOUT, expectLiveVideo } from './support/play.js';
import { RoomView } from './support/RoomView.js';

type RoomArgs = RoomGridProps & {
  /** Live stories: who this tab is (the resource its token is issued for). */
  resource: string;
};

/** A step of a scripted room: `at` ms after the story mounted, `run` changes the room. */
interface Step {
  at: number;
  run: (client: FakeRoomClient, room: string) => void;
}

const ROOM = 'standup';

/** Bob, Carol, Dave… as they join: ids `p2`, `p3`… in join order. */
const PEOPLE = ['Bob Example', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace'];
const join = (index: number, patch = {}): Step['run'] => {
  const name = PEOPLE[index]!;
  return (client, room) =>
    client.participant(room, {
      id: `p${index + 2}`,
      resource: name.split(' ')[0]!.toLowerCase(),
      metadata: { name },
      ...patch,
    });
};

/**
 * Runs `steps` against a scripted client of its own (no Relay), in which "you" join the room
 * on mount (`useRoom(name, { autoJoin: true })`, as an app would).
 */
function ScriptedRoom({ steps, args }: { steps: Step[]; args: RoomArgs }) {
  const [client] = useState(() => new FakeRoomClient('alice'));
  const name = args.name ?? ROOM;
  // The story owns the client: its canvases stop when the story goes.
  useEffect(() => () => client.destroy(), [client]);
  useEffect(() => {
    const timers = steps.map((step) => setTimeout(() => step.run(client, name), step.at));
    return () => timers.forEach(clearTimeout);
  }, [client, steps, name]);
  return (
    <FakeRelay client={client}>
      <RoomView {...gridProps(args)} name={name} autoJoin displayName="Alice" />
    </FakeRelay>
  );
}

/** The RoomGrid props among a story's args. */
function gridProps({ renderTile, sinkId, className, labels }: RoomArgs) {
  return { renderTile, sinkId, className, labels };
}

const scripted = (steps: Step[]): Story['render'] =>
  function Render(args) {
    return <ScriptedRoom steps={steps} args={args} />;
  };

/** The tile of the participant named `name` (its caption). */
async function tileOf(canvas: HTMLElement, name: string | RegExp, timeout = 10_000) {
  const grid = await within(canvas).findByRole('list', { name: /^Room / });
  const caption = await within(grid).findByText(name, { selector: 'figcaption' }, { timeout });
  return caption.closest<HTMLElement>('.relaycall-room__tile')!;
}

/**
 * `<RoomGrid>` shows a multi-party (mesh) room: a tile per participant, you first, the active
 * speaker outlined, ringing invitees as placeholders. The scripted stories run the real hooks and
 * components over a stand-in client whose participants join, speak and leave on a timeline (their
 * cameras are canvases); **Room** and **Live** join a real room on the dev Relay.
 */
const meta = {
  title: 'Room',
  component: RoomGrid,
  args: { name: ROOM, resource: 'alice' },
  argTypes: {
    name: { control: 'text' },
    resource: { control: 'text' },
    renderTile: { control: false },
    children: { control: false },
    labels: { control: 'object' },
  },
  parameters: { layout: 'padded' },
} satisfies Meta<RoomArgs>;

export default meta;
type Story = StoryObj<RoomArgs>;

/** People join, speak, get rung in and leave over about eight seconds. */
export const JoinAndLeave: Story = {
  render: scripted([
    { at: 400, run: join(0, { connected: false }) },
    { at: 1000, run: (c, room) => c.update(room, 'p2', { connected: true }) },
    { at: 1600, run: join(1) },
    { at: 2200, run: (c, room) => c.speak(room, 'p2') },
    { at: 2800, run: join(2, { state: 'ringing' }) },
    { at: 3400, run: (c, room) => c.speak(room, 'p3') },
    { at: 4400, run: (c, room) => c.update(room, 'p4', { state: 'joined' }) },
    { at: 5200, run: (c, room) => c.speak(room, 'p4') },
    { at: 6200, run: (c, room) => c.remove(room, 'p2') },
    { at: 7000, run: (c, room) => c.speak(room, null) },
  ]),
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await tileOf(canvasElement, 'Alice (you)');
    const bob = await tileOf(canvasElement, 'Bob Example');
    await waitFor(() => expect(bob).toHaveClass('relaycall-room__tile--active-speaker'), {
      timeout: 10_000,
    });
    const dave = await tileOf(canvasElement, 'Dave');
    await expect(dave).toHaveTextContent('Ringing…');
    await waitFor(() => expect(dave).toHaveAttribute('data-state', 'joined'), { timeout: 10_000 });
    await waitFor(() => expect(canvas.queryByText('Bob Example')).toBeNull(), { timeout: 10_000 });
    await expect(canvas.getAllByRole('listitem')).toHaveLength(3);
  },
};

/** Four people; Carol is speaking, outlined as the active speaker. */
export const ActiveSpeaker: Story = {
  render: scripted([
    { at: 0, run: join(0) },
    { at: 0, run: join(1) },
    { at: 0, run: join(2) },
    { at: 0, run: (c, room) => c.speak(room, 'p3') },
  ]),
  play: async ({ canvasElement }) => {
    const carol = await tileOf(canvasElement, 'Carol');
    await expect(carol).toHaveClass('relaycall-room__tile--active-speaker');
    await expect(carol).toHaveAttribute('data-speaking');
    const active = canvasElement.querySelectorAll('.relaycall-room__tile--active-speaker');
    await expect(active).toHaveLength(1);
  },
};

/**
 * Every state a tile shows: your microphone off, Bob muted, Carol's camera off (her initials),
 * Dave away (his connection dropped), Erin being rung.
 */
export const MutedAndAway: Story = {
  render: scripted([
    { at: 0, run: (c, room) => c.setRoomAudioMuted(room, true) },
    { at: 0, run: join(0, { audioMuted: true }) },
    { at: 0, run: join(1, { videoMuted: true }) },
    { at: 0, run: join(2, { state: 'away' }) },
    { at: 0, run: join(3, { state: 'ringing' }) },
  ]),
  play: async ({ canvasElement }) => {
    const you = await tileOf(canvasElement, 'Alice (you)');
    await expect(within(you).getByRole('img', { name: 'Microphone muted' })).toBeVisible();
    const bob = await tileOf(canvasElement, 'Bob Example');
    await expect(within(bob).getByRole('img', { name: 'Microphone muted' })).toBeVisible();
    const carol = await tileOf(canvasElement, 'Carol');
    await expect(carol.querySelector('.relaycall-video')).toHaveAttribute('data-video', 'off');
    await expect(within(carol).getByText('C')).toBeVisible();
    await expect(await tileOf(canvasElement, 'Dave')).toHaveTextContent('Reconnecting…');
    await expect(await tileOf(canvasElement, 'Erin')).toHaveTextContent('Ringing…');
  },
};

/** Six people: the grid goes 3 × 2 (fewer columns where the page is narrow). */
export const FullRoom: Story = {
  render: scripted([0, 1, 2, 3, 4].map((index) => ({ at: 0, run: join(index) }))),
  play: async ({ canvasElement }) => {
    await tileOf(canvasElement, 'Frank');
    const grid = within(canvasElement).getByRole('list', { name: `Room ${ROOM}` });
    await expect(within(grid).getAllByRole('listitem')).toHaveLength(6);
    await expect(grid.style.getPropertyValue('--relaycall-room-columns')).toBe('3');
    // Every tile shows its camera.
    await waitFor(() =>
      expect(grid.querySelectorAll('.relaycall-video[data-video="on"]')).toHaveLength(6),
    );
  },
};

/** Room tokens of the live stories: join rooms and moderate them (and calls, as usual). */
const ROOM_SCOPES: Scope[] = ['calls:dial', 'calls:receive', 'rooms:join', 'rooms:moderate'];

/** A user of the dev Relay in the room `name`. */
function LiveRoom(args: RoomArgs) {
  const { resource, name = ROOM } = args;
  return (
    // A new resource is a new user: remount the provider.
    <RelayProvider key={resource} url={relayUrl()} fetchToken={devTokens(resource, ROOM_SCOPES)}>
      <RoomView {...gridProps(args)} name={name} />
    </RelayProvider>
  );
}

/**
 * A real room on the dev Relay, as `resource`: press Join. Open it in more tabs as other
 * resources (`&args=resource:bob`, `resource:carol`…) and join the same room (`name`) from each.
 */
export const Room: Story = {
  ...liveStories<RoomArgs>(),
  render: (args) => <LiveRoom {...args} />,
  play: live(async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await waitFor(() => expect(canvas.getByText('connected')).toBeVisible(), {
      timeout: CALL_TIMEOUT,
    });
    await expect(canvas.getByRole('button', { name: 'Join' })).toBeEnabled();
  }),
};

/** Two users in one page join the same real room; each sees the other's camera. */
export const Live: Story = {
  ...liveStories<RoomArgs>(),
  parameters: { controls: { disable: true } },
  render: (args, { loaded }) => {
    const { names } = loaded as LiveLoaded;
    const name = names.nobody.replace('nobody', 'room');
    return (
      <div className="story-rooms">
        <LiveRoom {...args} name={name} resource={names.alice} />
        <LiveRoom {...args} name={name} resource={names.bob} />
      </div>
    );
  },
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { alice, bob } = (loaded as LiveLoaded).names;
    const canvas = within(canvasElement);
    for (const me of [alice, bob]) {
      const view = await canvas.findByRole('region', { name: `Room view of ${me}` });
      await userEvent.click(within(view).getByRole('button', { name: 'Join' }));
      const state = within(view).getByTestId('room-state');
      await waitFor(() => expect(state).toHaveTextContent('joined'), { timeout: CALL_TIMEOUT });
    }
    for (const [me, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const view = canvas.getByRole('region', { name: `Room view of ${me}` });
      const tile = await tileOf(view, other, CALL_TIMEOUT);
      const video = tile.querySelector('video')!;
      await expectLiveVideo(video);
    }
  }),
};
