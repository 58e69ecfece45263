import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { defaultDialerLabels, Dialer, type ConnectionStatus } from 'relaycall';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderWithRelay, tokenFetcher, uniqueResource } from './helpers.js';
import { connectRawCaller, type RawCaller } from './rawCaller.js';

const callers: RawCaller[] = [];
afterEach(() => {
  for (const caller of callers.splice(0)) caller.close();
});

async function renderDialer(props: Parameters<typeof Dialer>[0] = {}) {
  const me = uniqueResource('me');
  const onCallEnded = vi.fn();
  renderWithRelay(<Dialer onCallEnded={onCallEnded} {...props} />, {
    fetchToken: tokenFetcher(me).fetchToken,
  });
  const status = screen.getByRole('status');
  await waitFor(() => expect(status).toHaveTextContent('Ready'));
  return { me, onCallEnded, status, user: userEvent.setup() };
}

describe('Dialer', () => {
  it('has a polite live status region that follows the connection', async () => {
    const { status } = await renderDialer();
    expect(status).toHaveAttribute('aria-live', 'polite');
    expect(status.closest('.relaycall-dialer')).toHaveAttribute('data-connection', 'connected');
  });

  it('is keyboard operable: type, keypad, Enter places the call, the outcome is announced', async () => {
    const { user, status, onCallEnded } = await renderDialer();
    const input = screen.getByRole('textbox', { name: 'Number or name to call' });
    await user.tab();
    expect(input).toHaveFocus();
    await user.keyboard('bob');
    // Tab into the keypad and press "1" then "#" with the keyboard.
    await user.tab();
    expect(screen.getByRole('button', { name: 'Key 1' })).toHaveFocus();
    await user.keyboard('{Enter}');
    for (let i = 0; i < 11; i++) await user.tab();
    expect(screen.getByRole('button', { name: 'Key pound' })).toHaveFocus();
    await user.keyboard(' ');
    expect(input).toHaveValue('bob1#');

    await user.click(input);
    await user.keyboard('{Backspace}{Enter}');
    // jsdom has no camera or microphone: the call is placed and fails on media.
    await waitFor(() => expect(status).toHaveTextContent('The call failed'));
    expect(onCallEnded).toHaveBeenCalledTimes(1);
    expect(onCallEnded).toHaveBeenCalledWith(
      expect.objectContaining({
        remote: 'bob1',
        reason: 'failed',
        error: expect.objectContaining({ code: 'media_failed' }),
      }),
    );
    expect(screen.getByRole('button', { name: 'Call' })).toBeEnabled();
  });

  it('has a 12-key keypad of real, labelled buttons', async () => {
    await renderDialer();
    const keypad = screen.getByRole('group', { name: 'Keypad' });
    const keys = within(keypad).getAllByRole('button');
    expect(keys.map((key) => key.textContent)).toEqual([
      ...['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'],
    ]);
    for (const key of keys) {
      expect(key.tagName).toBe('BUTTON');
      expect(key).toHaveAttribute('type', 'button');
      expect(key).toHaveAttribute('aria-label');
      expect(key).toHaveClass('relaycall-dialer__key');
    }
  });

  it('offers Accept and Decline for an incoming call; Decline by keyboard tells the caller', async () => {
    const { me, status, user } = await renderDialer();
    const alice = await connectRawCaller(uniqueResource('alice'));
    callers.push(alice);
    const callId = await alice.invite(me);

    await waitFor(() => expect(status).toHaveTextContent(`Incoming call from ${alice.resource}`));
    const incoming = screen.getByRole('group', { name: `Incoming call from ${alice.resource}` });
    expect(within(incoming).getByRole('button', { name: 'Accept' })).toBeInTheDocument();
    const decline = within(incoming).getByRole('button', { name: 'Decline' });
    decline.focus();
    await user.keyboard('{Enter}');

    expect((await alice.notification('call.ended', callId)).params.reason).toBe('declined');
    await waitFor(() => expect(status).toHaveTextContent('Ready'));
    expect(screen.queryByRole('group', { name: /Incoming call/ })).not.toBeInTheDocument();
  });

  it('Accept answers the call (which fails without media in jsdom) and reports it', async () => {
    const { me, status, user, onCallEnded } = await renderDialer();
    const alice = await connectRawCaller(uniqueResource('alice'));
    callers.push(alice);
    const callId = await alice.invite(me);
    await user.click(await screen.findByRole('button', { name: 'Accept' }));
    await waitFor(() => expect(status).toHaveTextContent('The call failed'));
    expect(onCallEnded).toHaveBeenCalledWith(
      expect.objectContaining({ remote: alice.resource, reason: 'failed' }),
    );
    expect((await alice.notification('call.ended', callId)).params.reason).toBe('declined');
  });

  it('takes translated labels', async () => {
    const me = uniqueResource('me');
    renderWithRelay(
      <Dialer
        className="mine"
        labels={{ call: 'Appeler', keypad: 'Clavier', connection: { connected: 'Prêt' } as never }}
      />,
      { fetchToken: tokenFetcher(me).fetchToken },
    );
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Prêt'));
    expect(screen.getByRole('button', { name: 'Appeler' })).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Clavier' })).toBeInTheDocument();
    expect(screen.getByRole('status').closest('.relaycall-dialer')).toHaveClass('mine');
  });

  it('has a distinct status text for every connection status and end reason', () => {
    const statuses: ConnectionStatus[] = [
      'idle',
      'connecting',
      'connected',
      'reconnecting',
      'disconnected',
      'failed',
    ];
    // Idle is the provider loading its first token: to the user, that is connecting too.
    expect(defaultDialerLabels.connection.idle).toBe(defaultDialerLabels.connection.connecting);
    const connection = statuses
      .filter((s) => s !== 'idle')
      .map((s) => defaultDialerLabels.connection[s]);
    expect(new Set(connection).size).toBe(statuses.length - 1);
    const ended = Object.values(defaultDialerLabels.ended).map((text) => text('bob'));
    expect(ended).toHaveLength(11);
    expect(new Set(ended).size).toBe(11);
  });
});
