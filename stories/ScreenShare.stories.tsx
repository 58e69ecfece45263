import type { Meta, StoryObj } from '@storybook/react-vite';
import { RelayProvider, type DisplayMediaFn } from 'relaycall';
import { expect, waitFor, within } from 'storybook/test';
import { Phone as PhoneView } from './support/CallView.js';
import { devTokens, relayUrl } from './support/devRelay.js';
import { live, liveStories, type LiveLoaded } from './support/live.js';
import { callBetween, livePhones, type PhoneArgs } from './support/livePhones.js';
import { dialerIn, expectLiveVideo, expectReady } from './support/play.js';
import { syntheticMedia } from './support/syntheticMedia.js';

interface ScreenPhoneArgs extends PhoneArgs {
  /**
   * Share a drawn stand-in "screen" instead of opening the browser's picker (the story tests:
   * their clicks carry no user activation). Off: the real picker.
   */
  standInScreen: boolean;
}

/** A canvas "screen" in place of the browser's picker. */
const standIn: DisplayMediaFn = () => Promise.resolve(syntheticMedia('Shared screen', 30).stream);

/** A phone whose Dialer has the Share screen button: the share shows in its own tile. */
function ScreenPhone({ resource, callee, standInScreen }: ScreenPhoneArgs) {
  return (
    <RelayProvider
      key={`${resource}-${standInScreen}`}
      url={relayUrl()}
      fetchToken={devTokens(resource)}
      {...(standInScreen ? { getDisplayMedia: standIn } : {})}
    >
      <PhoneView callee={callee} />
    </RelayProvider>
  );
}

/**
 * Screen sharing in a call between browsers (`useScreenShare`, the Dialer's Share screen
 * button). Open **Phone** in two tabs (`args=resource:alice;callee:bob` and
 * `resource:bob;callee:alice`), call, and press Share screen: the browser's picker opens, and
 * the other tab shows the screen in its own tile beside the camera. **Live** does it in one page.
 */
const meta = {
  title: 'Screen share',
  component: ScreenPhone,
  ...liveStories<ScreenPhoneArgs>(),
  args: { resource: 'alice', callee: 'bob', standInScreen: false },
  argTypes: {
    resource: { control: 'text' },
    callee: { control: 'text' },
    standInScreen: { control: 'boolean' },
  },
  parameters: { layout: 'padded' },
} satisfies Meta<typeof ScreenPhone>;

export default meta;
type Story = StoryObj<typeof meta>;

/** One phone with screen sharing; open a second tab as the callee. */
export const Phone: Story = {
  play: live(async ({ canvasElement }) => {
    await expectReady(dialerIn(canvasElement));
  }),
};

/**
 * alice and bob in one page: alice calls, bob answers, alice shares a stand-in screen, bob sees
 * it live in its own tile, and alice stops sharing.
 */
export const Live: Story = {
  parameters: { controls: { disable: true } },
  render: livePhones((phone) => <ScreenPhone {...phone} standInScreen />),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { alice, bob } = (loaded as LiveLoaded).names;
    const [{ dialer: aliceDialer }, { dialer: bobDialer }] = await callBetween(
      canvasElement,
      userEvent,
      alice,
      bob,
    );

    await userEvent.click(await within(aliceDialer).findByRole('button', { name: 'Share screen' }));
    const video = await within(bobDialer).findByLabelText<HTMLVideoElement>(
      `${alice}'s screen`,
      {},
      { timeout: 15_000 },
    );
    await expectLiveVideo(video);

    await userEvent.click(within(aliceDialer).getByRole('button', { name: 'Stop sharing' }));
    await waitFor(
      () => expect(within(bobDialer).queryByLabelText(`${alice}'s screen`)).toBeNull(),
      {
        timeout: 10_000,
      },
    );
  }),
};
