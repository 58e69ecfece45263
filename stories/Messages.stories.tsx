import type { Meta, StoryObj } from '@storybook/react-vite';
import { RelayProvider } from 'relaycall';
import { expect, waitFor, within } from 'storybook/test';
import { ChatPanel } from './support/ChatPanel.js';
import { Phone, useCurrentCall } from './support/CallView.js';
import { devTokens, relayUrl } from './support/devRelay.js';
import { live, liveStories, type LiveLoaded } from './support/live.js';
import { callBetween, livePhones, type PhoneArgs } from './support/livePhones.js';
import { dialerIn, expectReady } from './support/play.js';

/** The chat of the call in progress. */
function CallChat() {
  const call = useCurrentCall();
  return <ChatPanel id={call.callId} label="Chat of the call" />;
}

/** A phone with a chat beside it: `useCallMessages` on the call in progress. */
function ChattingPhone({ resource, callee }: PhoneArgs) {
  return (
    <RelayProvider key={resource} url={relayUrl()} fetchToken={devTokens(resource)}>
      <div className="story-chatting-phone">
        <Phone callee={callee} />
        <CallChat />
      </div>
    </RelayProvider>
  );
}

/**
 * In-call messages (`useCallMessages`) between two browsers in a call, on the peer data channel:
 * a chat panel built only from the public hooks beside each phone. Open **Phone** in two tabs
 * (`&args=resource:bob;callee:alice` in the second), call, and type; **Live** does it in one page.
 */
const meta = {
  title: 'Messages',
  component: ChattingPhone,
  ...liveStories<PhoneArgs>(),
  args: { resource: 'alice', callee: 'bob' },
  argTypes: { resource: { control: 'text' }, callee: { control: 'text' } },
  parameters: { layout: 'padded' },
} satisfies Meta<typeof ChattingPhone>;

export default meta;
type Story = StoryObj<typeof meta>;

/** One phone with its chat, as `resource`. Open a second tab as the callee to chat in a call. */
export const Phone_: Story = {
  name: 'Phone',
  play: live(async ({ canvasElement }) => {
    await expectReady(dialerIn(canvasElement));
    const chat = await within(canvasElement).findByRole('region', { name: 'Chat of the call' });
    await expect(within(chat).getByRole('textbox', { name: 'Message' })).toBeDisabled();
  }),
};

/** Alice calls bob; the play function sends a message each way and shows them on both sides. */
export const Live: Story = {
  parameters: { controls: { disable: true } },
  render: livePhones((phone) => <ChattingPhone {...phone} />),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { alice, bob } = (loaded as LiveLoaded).names;
    await callBetween(canvasElement, userEvent, alice, bob);
    const [aliceChat, bobChat] = within(canvasElement).getAllByRole('region', {
      name: 'Chat of the call',
    });

    const say = async (chat: HTMLElement, words: string) => {
      const box = within(chat).getByRole('textbox', { name: 'Message' });
      await waitFor(() => expect(box).toBeEnabled());
      await userEvent.type(box, words);
      await userEvent.click(within(chat).getByRole('button', { name: 'Send' }));
    };
    await say(aliceChat!, 'Hello bob');
    await waitFor(
      () => expect(within(bobChat!).getByRole('list')).toHaveTextContent(`${alice}: Hello bob`),
      { timeout: 10_000 },
    );
    await say(bobChat!, 'Hi alice');
    await waitFor(
      () => expect(within(aliceChat!).getByRole('list')).toHaveTextContent(`${bob}: Hi alice`),
      { timeout: 10_000 },
    );
    await expect(within(aliceChat!).getByRole('list')).toHaveTextContent('You: Hello bob');
  }),
};
