import type { Meta, StoryObj } from '@storybook/react-vite';
import { RelayProvider } from 'relaycall';
import { expect, waitFor, within } from 'storybook/test';
import { Phone } from './support/CallView.js';
import { devTokens, relayUrl } from './support/devRelay.js';
import { live, liveStories, type LiveLoaded } from './support/live.js';
import { callBetween } from './support/livePhones.js';
import { CALL_TIMEOUT } from './support/play.js';
import { SupportDashboard } from './support/SupportDashboard.js';

interface SupportArgs {
  /** Who the supervisor is: the resource its token (calls:list, calls:assist) is issued for. */
  resource: string;
  /** Only calls with this participant (empty: every call of the project). */
  only: string;
}

/** A supervisor's RelayProvider: its token lists the project's calls and assists them. */
function Supervisor({ resource, only }: SupportArgs) {
  return (
    <RelayProvider
      key={resource}
      url={relayUrl()}
      fetchToken={devTokens(resource, ['calls:list', 'calls:assist'])}
    >
      <SupportDashboard resource={only || undefined} />
    </RelayProvider>
  );
}

/**
 * A support dashboard on the live dev Relay: the project's ongoing calls as they start, change
 * and end (`useCallList`), and for each one Monitor (listen to both sides), Whisper to one
 * participant (only they hear the supervisor) and Barge in (a three-way call), with `useAssist`.
 * The phones in the call show who supervises it (`<Dialer>`), and the audit of every assist is
 * listed with the call.
 *
 * Open **Dashboard** beside two **Phone** tabs (Phone story) and call between them; or run
 * **Live**, which does all of it in one page.
 */
const meta = {
  title: 'Support',
  component: Supervisor,
  ...liveStories<SupportArgs>(),
  args: { resource: 'supervisor', only: '' },
  argTypes: { resource: { control: 'text' }, only: { control: 'text' } },
  parameters: { layout: 'padded' },
} satisfies Meta<typeof Supervisor>;

export default meta;
type Story = StoryObj<typeof meta>;

/** The dashboard alone: every ongoing call of the dev project. */
export const Dashboard: Story = {
  play: live(async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await waitFor(
      () =>
        expect(canvas.getByRole('status', { name: 'Ongoing calls' })).toHaveTextContent(
          /ongoing call/,
        ),
      { timeout: CALL_TIMEOUT },
    );
  }),
};

/**
 * A customer calls an agent; the supervisor's dashboard lists the call, monitors it, whispers to
 * the agent, barges in and leaves, while the phones say who supervises them.
 */
export const Live: Story = {
  parameters: { controls: { disable: true } },
  render: (_args, { loaded }) => {
    const { names } = loaded as LiveLoaded;
    return (
      <div className="story-phones">
        <RelayProvider url={relayUrl()} fetchToken={devTokens(names.alice)}>
          <Phone callee={names.bob} />
        </RelayProvider>
        <RelayProvider url={relayUrl()} fetchToken={devTokens(names.bob)}>
          <Phone callee={names.alice} />
        </RelayProvider>
        <Supervisor resource={`supervisor-${names.alice}`} only={names.bob} />
      </div>
    );
  },
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { alice: customer, bob: agent } = (loaded as LiveLoaded).names;
    const canvas = within(canvasElement);
    const [{ dialer: customerDialer }, { dialer: agentDialer }] = await callBetween(
      canvasElement,
      userEvent,
      customer,
      agent,
    );

    const dashboard = within(
      await canvas.findByRole(
        'region',
        { name: /^Support dashboard of / },
        { timeout: CALL_TIMEOUT },
      ),
    );
    const row = within(
      await dashboard.findByRole(
        'listitem',
        { name: `${customer} → ${agent}` },
        { timeout: CALL_TIMEOUT },
      ),
    );
    await waitFor(() => expect(row.getByRole('button', { name: 'Monitor' })).toBeEnabled(), {
      timeout: CALL_TIMEOUT,
    });
    await userEvent.click(row.getByRole('button', { name: 'Monitor' }));
    await waitFor(
      () => expect(within(agentDialer).getByText('Supervisor listening')).toBeVisible(),
      {
        timeout: CALL_TIMEOUT,
      },
    );
    await waitFor(
      () =>
        expect(row.getByRole('status', { name: /^Assist of / })).toHaveTextContent(
          new RegExp(`${agent} connected`),
        ),
      { timeout: CALL_TIMEOUT },
    );
    await userEvent.click(row.getByRole('button', { name: `Whisper to ${agent}` }));
    await waitFor(
      () => expect(within(agentDialer).getByText('Supervisor whispering to you')).toBeVisible(),
      { timeout: CALL_TIMEOUT },
    );
    await waitFor(() =>
      expect(within(customerDialer).getByText('Supervisor listening')).toBeVisible(),
    );
    await userEvent.click(row.getByRole('button', { name: 'Barge in' }));
    await waitFor(
      () => expect(within(customerDialer).getByText('Supervisor joined the call')).toBeVisible(),
      { timeout: CALL_TIMEOUT },
    );
    await userEvent.click(row.getByRole('button', { name: 'Leave' }));
    await waitFor(
      () => expect(within(agentDialer).queryByText(/^Supervisor/)).not.toBeInTheDocument(),
      { timeout: CALL_TIMEOUT },
    );
    await waitFor(() =>
      expect(row.getByRole('list', { name: 'Assist audit' }).children).toHaveLength(3),
    );
  }),
};
