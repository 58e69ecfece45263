/**
 * useRingtone picks what to play from the calls in the store: the ringtone while an incoming call
 * rings, the ringback (when asked) while an outgoing call between browsers rings, nothing for a
 * phone call (its network plays its own) or once answered; it stops on unmount. jsdom plays no
 * sound: the audio element's play() and pause() are spied on, and the calls are snapshots put
 * into the connected provider's store. StrictMode mounts the hook twice, as apps in development do.
 */
import { act, screen, waitFor } from '@testing-library/react';
import { useRingtone, type CallSnapshot, type RelayClient } from 'relaycall';
import { describe, expect, it, vi } from 'vitest';
import { newCallSnapshot } from '../../src/core/calls/newCallSnapshot.js';
import { Probe, renderWithRelay, tokenFetcher, uniqueResource, writableStore } from './helpers.js';

function Ringer() {
  const { playing, blocked } = useRingtone({
    src: '/ring.mp3',
    ringback: '/ringback.mp3',
    Audio: window.Audio,
  });
  return <p data-testid="ringtone">{`${String(playing)}/${String(blocked)}`}</p>;
}

describe('useRingtone', () => {
  it('plays the ringtone or the ringback as calls ring, and stops when none does', async () => {
    const sources: string[] = [];
    vi.spyOn(HTMLMediaElement.prototype, 'play').mockImplementation(function (
      this: HTMLMediaElement,
    ) {
      sources.push(this.getAttribute('src') ?? '');
      return Promise.resolve();
    });
    const pause = vi.spyOn(HTMLMediaElement.prototype, 'pause').mockImplementation(() => {});
    let client: RelayClient | undefined;
    const view = renderWithRelay(
      <>
        <Probe onClient={(c) => (client = c)} />
        <Ringer />
      </>,
      { fetchToken: tokenFetcher(uniqueResource('ringer')).fetchToken, strict: true },
    );
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const put = (id: string, patch: Partial<CallSnapshot>, direction = 'outgoing' as const) =>
      act(() =>
        writableStore(client!).setState((s) => ({
          calls: {
            ...s.calls,
            [id]: { ...(s.calls[id] ?? newCallSnapshot(id, direction, 'x', null)), ...patch },
          },
        })),
      );
    const ringtone = () => screen.getByTestId('ringtone').textContent;

    put('phone', { state: 'ringing', gateway: 'pstn' });
    put('out', { state: 'ringing' });
    await waitFor(() => expect(ringtone()).toBe('true/false'));
    expect(sources.at(-1)).toBe('/ringback.mp3');

    put('in', { state: 'ringing', direction: 'incoming' });
    await waitFor(() => expect(sources.at(-1)).toBe('/ring.mp3'));
    expect(ringtone()).toBe('true/false');

    put('in', { state: 'active' });
    put('out', { state: 'ended' });
    put('phone', { state: 'active' });
    await waitFor(() => expect(ringtone()).toBe('false/false'));

    put('in2', { state: 'ringing', direction: 'incoming' });
    await waitFor(() => expect(ringtone()).toBe('true/false'));
    pause.mockClear();
    view.unmount();
    expect(pause).toHaveBeenCalled();
  });
});
