import type { Meta, StoryObj } from '@storybook/react-vite';
import { useState } from 'react';
import {
  RelayProvider,
  useDevices,
  useRelayClient,
  useToken,
  type RelayProviderProps,
} from 'relaycall';
import { expect, waitFor, within } from 'storybook/test';
import { devTokens, NO_RELAY_URL, relayUrl } from './support/devRelay.js';
import { live, liveStories, type LiveLoaded } from './support/live.js';

const time = (ms: number | null) => (ms === null ? '—' : new Date(ms).toLocaleTimeString());

/** What the hooks say inside the provider: `useRelayClient`, `useToken` and `useDevices`. */
function ProviderState() {
  const { status, resource, error } = useRelayClient();
  const token = useToken();
  const devices = useDevices();
  const [asked, setAsked] = useState<string | null>(null);
  const ask = () =>
    devices.requestPermission().then(
      () => setAsked('granted'),
      (reason: unknown) => setAsked(String(reason)),
    );
  return (
    <div style={{ fontFamily: 'system-ui, sans-serif', maxWidth: '36rem' }}>
      <h3>useRelayClient()</h3>
      <dl className="story-fields">
        <dt>status</dt>
        <dd data-testid="status">{status}</dd>
        <dt>resource</dt>
        <dd data-testid="resource">{resource ?? '—'}</dd>
        <dt>error</dt>
        <dd data-testid="error">{error ? `${error.code}: ${error.message}` : '—'}</dd>
      </dl>
      <h3>useToken()</h3>
      <dl className="story-fields">
        <dt>status</dt>
        <dd data-testid="token-status">{token.status}</dd>
        <dt>expires at</dt>
        <dd>{time(token.expiresAt)}</dd>
      </dl>
      <h3>useDevices()</h3>
      <dl className="story-fields">
        <dt>permissions</dt>
        <dd data-testid="permissions">
          camera {devices.permissions.camera}, microphone {devices.permissions.microphone}
        </dd>
        <dt>cameras</dt>
        <dd data-testid="cameras">
          {devices.videoInputs.map((device) => device.label || device.deviceId).join(', ') || '—'}
        </dd>
        <dt>microphones</dt>
        <dd>
          {devices.audioInputs.map((device) => device.label || device.deviceId).join(', ') || '—'}
        </dd>
      </dl>
      <button type="button" onClick={ask}>
        Allow camera and microphone
      </button>{' '}
      {asked && <span data-testid="asked">{asked}</span>}
    </div>
  );
}

/**
 * `RelayProvider` connects one client with a token from `fetchToken` (here the dev token
 * endpoint, standing in for your back end) and keeps the token fresh. The hooks below it read
 * the connection, the token and the devices.
 */
const meta = {
  title: 'Components/RelayProvider',
  component: RelayProvider,
  ...liveStories<RelayProviderProps>(),
  args: { url: relayUrl(), fetchToken: devTokens('alice') },
  argTypes: {
    fetchToken: { control: false },
    queryClient: { control: false },
    children: { control: false },
    iceServers: { control: 'object' },
  },
  render: (args, { loaded }) => (
    // url and the token's identity are read once: a change remounts the provider.
    <RelayProvider
      key={args.url}
      {...args}
      fetchToken={devTokens((loaded as LiveLoaded).names.alice)}
    >
      <ProviderState />
    </RelayProvider>
  ),
} satisfies Meta<typeof RelayProvider>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Connected to the dev Relay, as a fresh resource, with a token that refreshes before expiry. */
export const Connected: Story = {
  play: live(async ({ canvasElement, loaded }) => {
    const canvas = within(canvasElement);
    await waitFor(() => expect(canvas.getByTestId('status')).toHaveTextContent('connected'), {
      timeout: 10_000,
    });
    await expect(canvas.getByTestId('resource')).toHaveTextContent(
      (loaded as LiveLoaded).names.alice,
    );
    await expect(canvas.getByTestId('token-status')).toHaveTextContent('ready');
  }),
};

/** `useDevices().requestPermission()` asks for the camera and microphone, then lists them. */
export const Devices: Story = {
  play: live(async ({ canvasElement, userEvent }) => {
    const canvas = within(canvasElement);
    await userEvent.click(canvas.getByRole('button', { name: 'Allow camera and microphone' }));
    await waitFor(() => expect(canvas.getByTestId('asked')).toHaveTextContent('granted'), {
      timeout: 10_000,
    });
    await waitFor(() => expect(canvas.getByTestId('cameras')).not.toHaveTextContent('—'));
    await expect(canvas.getByTestId('permissions')).toHaveTextContent('camera granted');
  }),
};

/** No Relay at `url`: the client keeps retrying with backoff, and says so. */
export const Unreachable: Story = {
  args: { url: NO_RELAY_URL },
  play: live(async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await waitFor(
      () =>
        expect(canvas.getByTestId('status')).toHaveTextContent(/reconnecting|disconnected|failed/),
      { timeout: 10_000 },
    );
  }),
};
