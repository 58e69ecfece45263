import type { Meta, StoryObj } from '@storybook/react-vite';
import { RelayProvider } from 'relaycall';
import { within } from 'storybook/test';
import { Phone as PhoneView } from './support/CallView.js';
import { devTokens, relayUrl } from './support/devRelay.js';
import { live, liveStories, type LiveLoaded } from './support/live.js';
import { callBetween, livePhones, type PhoneArgs } from './support/livePhones.js';
import { dialerIn, expectLiveVideo, expectReady, expectStatus } from './support/play.js';

/**
 * A phone as an app builds it: `RelayProvider` (the dev Relay, a token for `resource`), a
 * `Dialer`, and the call's video in `VideoTile`s. Open it in two tabs to call between them.
 */
function PhoneApp({ resource, callee }: PhoneArgs) {
  return (
    // A new resource is a new user: remount the provider (its client keeps its identity).
    <RelayProvider key={resource} url={relayUrl()} fetchToken={devTokens(resource)}>
      <PhoneView callee={callee} />
    </RelayProvider>
  );
}

/**
 * Real calls between browser tabs, through the Relay that `npm start` runs inside Storybook.
 *
 * Open the **Phone** story in two tabs, one as alice and one as bob:
 *
 * - `http://127.0.0.1:6006/iframe.html?id=phone--phone&args=resource:alice;callee:bob`
 * - `http://127.0.0.1:6006/iframe.html?id=phone--phone&args=resource:bob;callee:alice`
 *
 * (or set `resource` in the Controls panel). Press Call in alice's tab and Accept in bob's.
 * **Live** does the same with both phones in one page.
 */
const meta = {
  title: 'Phone',
  component: PhoneApp,
  ...liveStories<PhoneArgs>(),
  args: { resource: 'alice', callee: 'bob' },
  argTypes: {
    resource: { control: 'text' },
    callee: { control: 'text' },
  },
  parameters: { layout: 'padded' },
} satisfies Meta<typeof PhoneApp>;

export default meta;
type Story = StoryObj<typeof meta>;

/**
 * One phone, as `resource`. Open it in a second tab as the callee
 * (`&args=resource:bob;callee:alice`) and call between the tabs.
 */
export const Phone: Story = {
  play: live(async ({ canvasElement, args }) => {
    const dialer = dialerIn(canvasElement);
    await expectReady(dialer);
    await expectStatus(dialer, 'Ready');
    await within(canvasElement).findByRole('region', { name: `Phone of ${args.resource}` });
  }),
};

/** Two phones in one page, alice and bob; the play function calls, answers and waits for video. */
export const Live: Story = {
  parameters: { controls: { disable: true } },
  render: livePhones((phone) => <PhoneApp {...phone} />),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { alice, bob } = (loaded as LiveLoaded).names;
    const sides = await callBetween(canvasElement, userEvent, alice, bob);

    // Each side sees the other's camera: frames arrive and keep coming.
    for (const { phone } of sides) {
      const video = phone.querySelector<HTMLVideoElement>('.story-call__remote video');
      if (!video) throw new Error('no remote video');
      await expectLiveVideo(video);
    }
  }),
};
