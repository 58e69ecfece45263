/**
 * The Dialer during a supervised call: who supervises, in words apps can translate, and the
 * audio of the supervisors this side hears. jsdom has no media, so the call is a snapshot put
 * into the connected provider's store (as the client puts it there from `call.assisted`).
 */
import { act, screen, waitFor } from '@testing-library/react';
import {
  Dialer,
  type CallSnapshot,
  type DialerLabels,
  type RelayClient,
  type SupervisorSnapshot,
} from 'relaycall';
import { describe, expect, it, vi } from 'vitest';
import { callSnapshot } from '../snapshots.js';
import { Probe, renderWithRelay, tokenFetcher, uniqueResource, writableStore } from './helpers.js';

const STREAM = { getTracks: () => [] } as unknown as MediaStream;

/** The supervised call, active, as the client has it once `call.assisted` came. */
const activeCall = (supervisors: SupervisorSnapshot[]): CallSnapshot =>
  callSnapshot('supervised', {
    remote: 'customer',
    state: 'active',
    startedAt: Date.now(),
    audioOutputId: 'headset',
    supervisors,
  });

function supervisor(patch: Partial<SupervisorSnapshot>): SupervisorSnapshot {
  return {
    participantId: 'sup-1',
    resource: 'maria',
    mode: 'monitor',
    since: 0,
    heard: false,
    stream: null,
    ...patch,
  };
}

async function renderDialer(labels?: Partial<DialerLabels>) {
  let client: RelayClient | undefined;
  renderWithRelay(
    <>
      <Probe onClient={(c) => (client = c)} />
      <Dialer labels={labels} />
    </>,
    { fetchToken: tokenFetcher(uniqueResource('agent')).fetchToken },
  );
  await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Ready'));
  const show = (supervisors: SupervisorSnapshot[]) =>
    act(() =>
      writableStore(client!).setState((s) => ({
        calls: { ...s.calls, supervised: activeCall(supervisors) },
      })),
    );
  return { show };
}

const audios = () => document.querySelectorAll('audio');

describe('Dialer with a supervised call', () => {
  it('says what each supervisor does, and plays only those this side hears', async () => {
    const play = vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
    const sinks: string[] = [];
    Object.assign(HTMLMediaElement.prototype, {
      setSinkId: vi.fn(async (id: string) => void sinks.push(id)),
    });
    const { show } = await renderDialer();
    show([supervisor({ mode: 'monitor' })]);
    expect(screen.getByText('Supervisor listening')).toHaveAttribute('data-mode', 'monitor');
    expect(audios()).toHaveLength(0);

    // Whispering to the other party: listening, as far as this side knows.
    show([supervisor({ mode: 'whisper', agent: 'other', heard: false })]);
    expect(screen.getByText('Supervisor listening')).toBeInTheDocument();
    expect(audios()).toHaveLength(0);

    show([supervisor({ mode: 'whisper', agent: 'me', heard: true, stream: STREAM })]);
    expect(screen.getByText('Supervisor whispering to you')).toBeInTheDocument();
    expect(audios()).toHaveLength(1);
    expect(audios()[0]!.srcObject).toBe(STREAM);
    expect(audios()[0]!.hidden).toBe(true);
    await waitFor(() => expect(play).toHaveBeenCalled());
    expect(sinks).toEqual(['headset']);

    show([supervisor({ mode: 'barge', heard: true, stream: STREAM })]);
    expect(screen.getByText('Supervisor joined the call')).toBeInTheDocument();
    expect(audios()).toHaveLength(1);

    show([]);
    expect(screen.queryByText(/Supervisor/)).toBeNull();
    expect(audios()).toHaveLength(0);
    delete (HTMLMediaElement.prototype as { setSinkId?: unknown }).setSinkId;
  });

  it('takes translated labels, with the supervisor resource', async () => {
    vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
    const { show } = await renderDialer({
      supervisor: {
        listening: (who) => `${who} écoute`,
        whispering: (who) => `${who} vous parle`,
        joined: (who) => `${who} a rejoint l'appel`,
      },
    });
    show([supervisor({ mode: 'monitor' })]);
    expect(screen.getByText('maria écoute')).toBeInTheDocument();
    show([supervisor({ mode: 'barge', heard: true, stream: STREAM })]);
    expect(screen.getByText("maria a rejoint l'appel")).toBeInTheDocument();
  });
});
