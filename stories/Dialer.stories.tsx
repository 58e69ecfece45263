import type { Meta, StoryObj } from '@storybook/react-vite';
import { useState, type ReactNode } from 'react';
import {
  Dialer,
  RelayProvider,
  type DialerProps,
  type EndedCall,
  type FetchedToken,
  type Scope,
} from 'relaycall';
import { expect, fn, waitFor, within } from 'storybook/test';
import { CallView } from './support/CallView.js';
import { CameraPrompt } from './support/cameraPrompt.js';
import { Counterpart } from './support/counterpart.js';
import { devTokens, NO_RELAY_URL, relayUrl } from './support/devRelay.js';
import { live, liveStories, type LiveLoaded, type Names } from './support/live.js';
import {
  counterpart,
  dialerIn,
  expectCounterpart,
  expectReady,
  expectState,
  expectStatus,
} from './support/play.js';

/**
 * Every state of the Dialer, for real: each story gives the Dialer its own `RelayProvider`
 * (a unique resource on the dev Relay that `npm start` runs inside Storybook) and, where the
 * state needs another party, a scripted counterpart — a second client (`createRelayClient`)
 * that answers, declines, holds, mutes or calls on cue. Play functions place the calls.
 */
const meta = {
  title: 'Components/Dialer',
  component: Dialer,
  ...liveStories<DialerProps>(),
  args: {
    onTargetChange: fn(),
    onCallEnded: fn(),
  },
  argTypes: {
    target: { control: 'text' },
    defaultTarget: { control: 'text' },
    callOptions: { control: 'object' },
    labels: { control: 'object' },
    className: { control: 'text' },
  },
} satisfies Meta<typeof Dialer>;

export default meta;
type Story = StoryObj<typeof meta>;

interface SceneOptions {
  /** Scopes of the Dialer user's token. Default: dial and receive. */
  scopes?: Scope[];
  /** The Dialer provider's Relay URL. Default: the dev Relay (this page's origin). */
  url?: string;
  /** The Dialer provider's fetchToken. Default: the dev token endpoint, as `names.alice`. */
  fetchToken?: (names: Names) => () => Promise<FetchedToken>;
  noAnswerTimeoutMs?: number;
  /** Show the call's video and the app's mute/camera/hold buttons beside the Dialer. */
  callView?: boolean;
  /** getUserMedia waits for a simulated permission prompt. */
  cameraPrompt?: boolean;
  /** Scripted counterparts (and notes) beside the Dialer. */
  side?: (names: Names) => ReactNode;
  /** Who the Dialer calls by default. Default: `names.bob`. */
  target?: (names: Names) => string;
}

function DialerScene({
  args,
  names,
  options,
}: {
  args: DialerProps;
  names: Names;
  options: SceneOptions;
}) {
  const [ended, setEnded] = useState<EndedCall | null>(null);
  const fetchToken = options.fetchToken?.(names) ?? devTokens(names.alice, options.scopes);
  const { onCallEnded } = args;
  return (
    <RelayProvider
      url={options.url ?? relayUrl()}
      fetchToken={fetchToken}
      noAnswerTimeoutMs={options.noAnswerTimeoutMs}
    >
      <div className="story-scene">
        <Dialer
          {...args}
          defaultTarget={args.defaultTarget ?? options.target?.(names) ?? names.bob}
          onCallEnded={(call) => {
            onCallEnded?.(call);
            setEnded(call);
          }}
        />
        <div className="story-side">
          <p className="story-note">
            You are <code>{names.alice}</code>.
          </p>
          {options.cameraPrompt && <CameraPrompt />}
          {options.callView && <CallView />}
          {options.side?.(names)}
          {ended && (
            <p className="story-note" data-testid="ended">
              onCallEnded: <code>{ended.reason}</code>
              {ended.error && (
                <>
                  {' '}
                  (<code>{ended.error.code}</code>: {ended.error.message})
                </>
              )}
            </p>
          )}
        </div>
      </div>
    </RelayProvider>
  );
}

/** A story render: the Dialer in its scene, with this story's options. */
const scene =
  (options: SceneOptions = {}): Story['render'] =>
  (args, { loaded }) => (
    <DialerScene args={args} names={(loaded as LiveLoaded).names} options={options} />
  );

/** A counterpart `bob` with a script. */
const bob =
  (
    script: Parameters<typeof Counterpart>[0]['script'],
    description: string,
    canDrop = false,
  ): SceneOptions['side'] =>
  (names) => (
    <Counterpart resource={names.bob} script={script} description={description} canDrop={canDrop} />
  );

const names = (loaded: Record<string, unknown>) => (loaded as unknown as LiveLoaded).names;

/**
 * The simulated camera prompt stands in for the page's getUserMedia: on a docs page, where every
 * story shares one page, such a story gets a frame of its own.
 */
const ownFrameInDocs = { docs: { story: { inline: false, height: '30rem' } } };

/** Waits until the Dialer and the scripted callee are both online. */
async function readyToCall(canvasElement: HTMLElement, dialer: HTMLElement, callee: string) {
  await expectReady(dialer);
  await expectCounterpart(canvasElement, callee, 'connection', 'connected');
}

/** Clicks Call and waits until the callee's phone rings. */
async function callAndRing(
  canvasElement: HTMLElement,
  userEvent: { click: (element: Element) => Promise<void> },
  callee: string,
) {
  const dialer = dialerIn(canvasElement);
  await readyToCall(canvasElement, dialer, callee);
  await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
  await expectStatus(dialer, `Ringing ${callee}…`);
  await expectState(dialer, 'ringing');
  return dialer;
}

/** Connected and ready: nothing typed yet, so Call is disabled. */
export const Idle: Story = {
  args: { defaultTarget: '' },
  render: scene(),
  play: live(async ({ canvasElement }) => {
    const dialer = dialerIn(canvasElement);
    await expectStatus(dialer, 'Ready');
    await expect(dialer).toHaveAttribute('data-state', 'idle');
    await expect(within(dialer).getByRole('button', { name: 'Call' })).toBeDisabled();
  }),
};

/** Typing a number: on the keyboard, then on the keypad, which appends while idle. */
export const Typing: Story = {
  args: { defaultTarget: '' },
  render: scene(),
  play: live(async ({ canvasElement, userEvent }) => {
    const dialer = dialerIn(canvasElement);
    const field = within(dialer);
    await expectStatus(dialer, 'Ready');
    const input = field.getByRole('textbox', { name: 'Number or name to call' });
    await userEvent.type(input, '555');
    for (const key of ['0', '1', '0', '0']) {
      await userEvent.click(field.getByRole('button', { name: `Key ${key}` }));
    }
    await expect(input).toHaveValue('5550100');
    await expect(field.getByRole('button', { name: 'Call' })).toBeEnabled();
    await userEvent.click(field.getByRole('button', { name: 'Key pound' }));
    await expect(input).toHaveValue('5550100#');
    await expect(dialer).toHaveAttribute('data-state', 'idle');
  }),
};

/**
 * Calling: the call is `dialing` while the browser asks for the camera (a simulated prompt
 * here; press Allow to go on ringing bob).
 */
export const Dialing: Story = {
  parameters: ownFrameInDocs,
  render: scene({
    cameraPrompt: true,
    side: bob({ onIncoming: 'ring' }, 'Online; lets the call ring.'),
  }),
  play: live(async ({ canvasElement, canvas, userEvent, loaded }) => {
    const dialer = dialerIn(canvasElement);
    await readyToCall(canvasElement, dialer, names(loaded).bob);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, `Calling ${names(loaded).bob}…`);
    await expect(dialer).toHaveAttribute('data-state', 'dialing');
    await expect(
      await canvas.findByRole('dialog', { name: 'Camera permission (simulated)' }),
    ).toBeVisible();
    // The keypad is disabled and the input read-only until the call is set up.
    await expect(within(dialer).getByRole('button', { name: 'Key 1' })).toBeDisabled();
    await expect(within(dialer).getByRole('button', { name: 'Hang up' })).toBeEnabled();
  }),
};

/** Ringing out: bob is online but does not answer. */
export const RingingOut: Story = {
  render: scene({
    callView: true,
    side: bob({ onIncoming: 'ring' }, 'Online; lets the call ring.'),
  }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    await callAndRing(canvasElement, userEvent, bob);
    await expectCounterpart(canvasElement, bob, 'call', /^ringing, from alice-/);
  }),
};

/** An incoming call: bob calls you. Accept and Decline appear with who is calling. */
export const Incoming: Story = {
  render: scene({
    callView: true,
    side: (names) => (
      <Counterpart
        resource={names.bob}
        script={{ call: names.alice }}
        description="Calls you as soon as you are online."
      />
    ),
  }),
  play: live(async ({ canvasElement, loaded }) => {
    const { bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    await expectStatus(dialer, `Incoming call from ${bob}`);
    const incoming = within(dialer).getByRole('group', { name: `Incoming call from ${bob}` });
    await expect(within(incoming).getByRole('button', { name: 'Accept' })).toBeEnabled();
    await expect(within(incoming).getByRole('button', { name: 'Decline' })).toBeEnabled();
  }),
};

/** Answering an incoming call: Accept, and you are in the call with live video. */
export const Answered: Story = {
  render: scene({
    callView: true,
    side: (names) => (
      <Counterpart
        resource={names.bob}
        script={{ call: names.alice }}
        description="Calls you as soon as you are online."
      />
    ),
  }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    await expectStatus(dialer, `Incoming call from ${bob}`);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Accept' }));
    await expectStatus(dialer, `In call with ${bob}`);
    await expectState(dialer, 'active');
    await expectCounterpart(canvasElement, bob, 'call', /^active, to alice-/);
    await expect(within(dialer).getByRole('timer', { name: 'Call duration' })).toBeVisible();
  }),
};

/**
 * In a call, with the keypad: keys send DTMF tones (bob's panel shows what reached him), and so
 * do the keyboard's digits.
 */
export const ActiveWithKeypad: Story = {
  render: scene({
    callView: true,
    side: bob({ onIncoming: 'answer' }, 'Answers at once and shows the tones it receives.'),
  }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    const field = within(dialer);
    await readyToCall(canvasElement, dialer, names(loaded).bob);
    await userEvent.click(field.getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, `In call with ${bob}`);
    await expectState(dialer, 'active');
    for (const key of ['1', '2', 'pound']) {
      await userEvent.click(field.getByRole('button', { name: `Key ${key}` }));
    }
    await expectCounterpart(canvasElement, bob, 'dtmf', '12#');
    // Focus is on the keypad: typed digits send tones too.
    await userEvent.keyboard('9');
    await expectCounterpart(canvasElement, bob, 'dtmf', '12#9');
    await expect(field.getByRole('textbox')).toHaveValue(bob);
  }),
};

/** On hold: you held the call with the app's Hold button (built on `useCall().toggleHold`). */
export const Held: Story = {
  render: scene({
    callView: true,
    side: bob({ onIncoming: 'answer' }, 'Answers at once.'),
  }),
  play: live(async ({ canvasElement, canvas, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    await readyToCall(canvasElement, dialer, names(loaded).bob);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectState(dialer, 'active');
    await userEvent.click(canvas.getByRole('button', { name: 'Hold' }));
    await expectStatus(dialer, `${bob} is on hold`);
    await expectState(dialer, 'held');
    await expectCounterpart(canvasElement, bob, 'remote', 'holding the call');
  }),
};

/** Put on hold by the other side: bob answers, then holds. */
export const HeldByRemote: Story = {
  render: scene({
    callView: true,
    side: bob({ onIncoming: 'answer', whenActive: 'hold' }, 'Answers, then puts you on hold.'),
  }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    await readyToCall(canvasElement, dialer, names(loaded).bob);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, `${bob} put you on hold`);
    await expect(dialer).toHaveAttribute('data-state', 'active');
  }),
};

/**
 * Muted: bob answers and mutes his microphone (his tile shows the indicator), and you mute
 * yours with the app's Mute button (bob's panel sees it).
 */
export const Muted: Story = {
  render: scene({
    callView: true,
    side: bob({ onIncoming: 'answer', whenActive: 'mute' }, 'Answers, then mutes.'),
  }),
  play: live(async ({ canvasElement, canvas, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    await readyToCall(canvasElement, dialer, names(loaded).bob);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, `In call with ${bob}`);
    const remoteTile = canvasElement.querySelector<HTMLElement>('.story-call__remote')!;
    await waitFor(
      () =>
        expect(
          within(remoteTile).getByRole('img', { name: 'Microphone muted' }),
        ).toBeInTheDocument(),
      { timeout: 10_000 },
    );
    await userEvent.click(canvas.getByRole('button', { name: 'Mute' }));
    await expect(canvas.getByRole('button', { name: 'Unmute' })).toBeEnabled();
    await expectCounterpart(canvasElement, bob, 'remote', 'microphone muted');
  }),
};

/** Ended by hanging up: in the call, press Hang up. */
export const EndedHangup: Story = {
  render: scene({ callView: true, side: bob({ onIncoming: 'answer' }, 'Answers at once.') }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    await readyToCall(canvasElement, dialer, names(loaded).bob);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectState(dialer, 'active');
    await userEvent.click(within(dialer).getByRole('button', { name: 'Hang up' }));
    await expectStatus(dialer, 'Call ended');
    await expectState(dialer, 'ended');
    await expectCounterpart(canvasElement, bob, 'call', /^ended \(hangup\)/);
  }),
};

/** Ended by cancelling: hang up while it still rings. */
export const EndedCancelled: Story = {
  render: scene({ side: bob({ onIncoming: 'ring' }, 'Online; lets the call ring.') }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = await callAndRing(canvasElement, userEvent, bob);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Hang up' }));
    await expectStatus(dialer, 'Call cancelled');
    await expectState(dialer, 'ended');
    await expectCounterpart(canvasElement, bob, 'call', /^ended \(cancelled\)/);
  }),
};

/** Ended because bob declined. */
export const EndedDeclined: Story = {
  render: scene({ side: bob({ onIncoming: 'decline' }, 'Declines every call.') }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    await readyToCall(canvasElement, dialer, names(loaded).bob);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, `${bob} declined the call`);
    await expectState(dialer, 'ended');
  }),
};

/** Ended because bob is busy (his only device rejected the call as busy). */
export const EndedBusy: Story = {
  render: scene({ side: bob({ onIncoming: 'busy' }, 'Rejects every call as busy.') }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const dialer = dialerIn(canvasElement);
    await readyToCall(canvasElement, dialer, names(loaded).bob);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, `${names(loaded).bob} is busy`);
    await expectState(dialer, 'ended');
  }),
};

/** Ended because nobody is online as the callee. */
export const EndedUnavailable: Story = {
  render: scene({ target: (names) => names.nobody }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const dialer = dialerIn(canvasElement);
    await expectReady(dialer);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, `${names(loaded).nobody} is not available`);
    await expectState(dialer, 'ended');
  }),
};

/**
 * Ended because nobody answered. This provider rings for 3 s (`noAnswerTimeoutMs={3000}`)
 * instead of the default 45 s.
 */
export const EndedNoAnswer: Story = {
  render: scene({
    noAnswerTimeoutMs: 3000,
    side: bob({ onIncoming: 'ring' }, 'Online; never answers.'),
  }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = await callAndRing(canvasElement, userEvent, bob);
    await expectStatus(dialer, `No answer from ${bob}`, 10_000);
    await expectState(dialer, 'ended');
    await expectCounterpart(canvasElement, bob, 'call', /^ended \(cancelled\)/);
  }),
};

/**
 * Ended because the call was answered on another device: bob calls, you press Accept, and while
 * this browser still asks for the camera, your other device (a second session as you) answers.
 */
export const EndedAnsweredElsewhere: Story = {
  parameters: ownFrameInDocs,
  render: scene({
    cameraPrompt: true,
    side: (names) => (
      <>
        <Counterpart
          resource={names.alice}
          script={{ onIncoming: 'ring' }}
          description="Your other device: rings with this one."
        />
        <Counterpart
          resource={names.bob}
          script={{ offerCall: names.alice }}
          description="Calls you (both your devices ring)."
        />
      </>
    ),
  }),
  play: live(async ({ canvasElement, canvas, userEvent, loaded }) => {
    const { alice, bob } = names(loaded);
    const dialer = dialerIn(canvasElement);
    // Both of your devices are online before bob calls, so both ring.
    await expectReady(dialer);
    await expectCounterpart(canvasElement, alice, 'connection', 'connected');
    await userEvent.click(
      await counterpart(canvasElement, bob).findByRole(
        'button',
        { name: `Call ${alice} as ${bob}` },
        { timeout: 10_000 },
      ),
    );
    await expectStatus(dialer, `Incoming call from ${bob}`);
    await expectCounterpart(canvasElement, alice, 'call', `ringing, from ${bob}`);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Accept' }));
    await expectState(dialer, 'connecting');
    await canvas.findByRole('dialog', { name: 'Camera permission (simulated)' });
    await userEvent.click(
      counterpart(canvasElement, alice).getByRole('button', { name: `Answer as ${alice}` }),
    );
    await expectStatus(dialer, 'Answered on another device');
    await expectState(dialer, 'ended');
    await userEvent.click(canvas.getByRole('button', { name: 'Allow' }));
    await expectCounterpart(canvasElement, alice, 'call', /^active/);
  }),
};

/** Ended at once: this user's token lacks the `calls:dial` scope (it may only receive). */
export const EndedForbidden: Story = {
  render: scene({
    scopes: ['calls:receive'],
    side: bob({ onIncoming: 'answer' }, 'Online; would answer.'),
  }),
  play: live(async ({ canvasElement, canvas, userEvent }) => {
    const dialer = dialerIn(canvasElement);
    await expectReady(dialer);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, 'You are not allowed to place this call');
    await expectState(dialer, 'ended');
    await expect(await canvas.findByTestId('ended')).toHaveTextContent('forbidden');
  }),
};

/**
 * A phone number on a Relay without a SIP trunk for the project (the dev Relay has none): the
 * Relay refuses with gateway_unavailable, and the status and error say so. With a trunk
 * (docs/DEPLOY.md#sip) the same Dialer dials numbers and `sip:` URIs, audio only.
 */
export const PhoneNumberWithoutTrunk: Story = {
  render: scene({
    scopes: ['calls:dial', 'calls:receive', 'calls:pstn', 'calls:sip'],
    target: () => '+1 (555) 123-4567',
  }),
  play: live(async ({ canvasElement, canvas, userEvent }) => {
    const dialer = dialerIn(canvasElement);
    await expectReady(dialer);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, 'The call failed');
    await expectState(dialer, 'ended');
    const ended = await canvas.findByTestId('ended');
    await expect(ended).toHaveTextContent('gateway_unavailable');
    await expect(ended).toHaveTextContent('no SIP trunk');
  }),
};

/** Ended because the connection was lost: bob's network drops while the call rings. */
export const EndedDisconnected: Story = {
  render: scene({
    side: bob({ onIncoming: 'ring' }, 'Online; lets the call ring. Drop his network.', true),
  }),
  play: live(async ({ canvasElement, userEvent, loaded }) => {
    const { bob } = names(loaded);
    const dialer = await callAndRing(canvasElement, userEvent, bob);
    await userEvent.click(
      counterpart(canvasElement, bob).getByRole('button', { name: `Drop ${bob}'s network` }),
    );
    await expectStatus(dialer, 'Call dropped: the connection was lost');
    await expectState(dialer, 'ended');
  }),
};

/**
 * Ended because the call failed: `callOptions` ask for a camera no device can satisfy, so the
 * browser refuses and the call fails before anyone is rung; `onCallEnded` gets the error.
 */
export const EndedFailed: Story = {
  args: { callOptions: { video: { width: { exact: 12345 } } } },
  render: scene({ side: bob({ onIncoming: 'answer' }, 'Online; would answer.') }),
  play: live(async ({ canvasElement, canvas, userEvent, loaded }) => {
    const dialer = dialerIn(canvasElement);
    await expectReady(dialer);
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectStatus(dialer, 'The call failed');
    await expectState(dialer, 'ended');
    await expect(await canvas.findByTestId('ended')).toHaveTextContent('media_not_found');
    await expectCounterpart(canvasElement, names(loaded).bob, 'call', 'none');
  }),
};

/** A connection error: the Relay refuses the token (here, one whose signature was altered). */
export const ConnectionError: Story = {
  name: 'Error',
  render: scene({
    fetchToken: (names) => async () => {
      const { token } = await devTokens(names.alice)();
      // Change the signature's first character (the last one may only carry padding bits).
      const at = token.lastIndexOf('.') + 1;
      return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    },
  }),
  play: live(async ({ canvasElement }) => {
    const dialer = dialerIn(canvasElement);
    await expectStatus(dialer, 'Could not connect');
    await expect(dialer).toHaveAttribute('data-connection', 'failed');
    await expect(within(dialer).getByRole('button', { name: 'Call' })).toBeDisabled();
  }),
};

/**
 * Disconnected: this provider's Relay cannot be reached (it points at an address where none
 * listens), so the client keeps retrying with backoff. Call stays enabled: a call placed now
 * waits in `dialing` and goes once the client connects (or ends with `not_connected` when it
 * gives up).
 */
export const Disconnected: Story = {
  render: scene({
    url: NO_RELAY_URL,
    side: () => (
      <p className="story-note">
        This provider's <code>url</code> is <code>{NO_RELAY_URL}</code>, where no Relay listens.
      </p>
    ),
  }),
  play: live(async ({ canvasElement, userEvent }) => {
    const dialer = dialerIn(canvasElement);
    await expectStatus(dialer, 'Connection lost. Reconnecting…');
    await expect(dialer).toHaveAttribute('data-connection', 'reconnecting');
    await userEvent.click(within(dialer).getByRole('button', { name: 'Call' }));
    await expectState(dialer, 'dialing');
    await expect(dialer).toHaveAttribute('data-connection', 'reconnecting');
  }),
};

/** Every text can be translated through `labels` (here in French); the rest keep their English. */
export const Translated: Story = {
  args: {
    defaultTarget: '',
    labels: {
      target: 'Numéro ou nom à appeler',
      placeholder: 'Numéro ou nom',
      call: 'Appeler',
      hangUp: 'Raccrocher',
      accept: 'Accepter',
      decline: 'Refuser',
      connection: {
        idle: 'Hors ligne',
        connecting: 'Connexion…',
        connected: 'Prêt',
        reconnecting: 'Connexion perdue. Reconnexion…',
        disconnected: 'Déconnecté',
        failed: 'Connexion impossible',
      },
    },
  },
  render: scene(),
  play: live(async ({ canvasElement }) => {
    const dialer = dialerIn(canvasElement);
    await expectStatus(dialer, 'Prêt');
    await expect(within(dialer).getByRole('button', { name: 'Appeler' })).toBeDisabled();
  }),
};
