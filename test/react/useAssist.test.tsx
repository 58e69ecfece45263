/**
 * useAssist and useAssists against the test Relay. The assisted call is between two raw clients
 * (jsdom has no media); the supervisor's links run on a stand-in RTCPeerConnection that offers
 * at once and never connects, so what is tested is the signaling: the Relay's answers, what the
 * parties are told, and the hooks' state.
 */
import { render, screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { RelayProvider, useAssist, useAssists, type UseAssistOptions } from 'relaycall';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { relayUrl, scopedToken, uniqueResource } from './helpers.js';
import { connectRawCaller, type Notification, type RawCaller } from './rawCaller.js';

const raws: RawCaller[] = [];
afterEach(() => {
  for (const raw of raws.splice(0)) raw.close();
});

/** Enough of RTCPeerConnection for a supervisor's link to offer. */
class StandInPeerConnection extends EventTarget {
  connectionState = 'new';
  signalingState = 'stable';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  private readonly transceivers: {
    sender: { track: unknown; replaceTrack(track: unknown): Promise<void> };
    receiver: { track: { kind: string; enabled: boolean } };
  }[] = [];

  addTransceiver(kind: string) {
    const sender = {
      track: null as unknown,
      async replaceTrack(track: unknown) {
        sender.track = track;
      },
    };
    const transceiver = { sender, receiver: { track: { kind, enabled: true } } };
    this.transceivers.push(transceiver);
    return transceiver;
  }
  getTransceivers() {
    return this.transceivers;
  }
  getReceivers() {
    return this.transceivers.map((t) => t.receiver);
  }
  async createOffer() {
    return { type: 'offer', sdp: 'stand-in offer' };
  }
  async setLocalDescription(description: RTCSessionDescriptionInit) {
    this.localDescription = description;
  }
  async setRemoteDescription(description: RTCSessionDescriptionInit) {
    this.remoteDescription = description;
  }
  async addIceCandidate() {}
  close() {
    this.connectionState = 'closed';
  }
}

beforeEach(() => {
  vi.stubGlobal('RTCPeerConnection', StandInPeerConnection);
});

/** Two raw clients in an answered call; the Relay's id of the call. */
async function answeredCall() {
  const customer = await connectRawCaller(uniqueResource('customer'));
  const agent = await connectRawCaller(uniqueResource('agent'));
  raws.push(customer, agent);
  const callId = await customer.invite(agent.resource);
  await agent.notification('call.incoming', callId);
  await agent.answer(callId);
  return { customer, agent, callId };
}

type Supervisors = { mode: string; resource: string }[];
const assisted =
  (callId: string, test: (supervisors: Supervisors) => boolean) => (n: Notification) =>
    n.method === 'call.assisted' &&
    n.params.callId === callId &&
    test(n.params.supervisors as Supervisors);

function Assist({ callId, options }: { callId: string; options?: UseAssistOptions }) {
  const { assist, monitor, whisper, barge, stop, error } = useAssist(callId, options);
  return (
    <section aria-label="assist">
      <button onClick={() => void monitor()}>Monitor</button>
      <button onClick={() => void whisper()}>Whisper</button>
      <button onClick={() => void barge()}>Barge</button>
      <button onClick={stop}>Stop</button>
      <p data-testid="state">{assist?.state ?? 'none'}</p>
      <p data-testid="mode">{assist?.mode ?? ''}</p>
      <p data-testid="parties">{assist?.parties.map((p) => p.resource).join(' ') ?? ''}</p>
      <p data-testid="error">{error ? `${error.code}: ${error.message}` : ''}</p>
    </section>
  );
}

function Assists() {
  const assists = useAssists();
  return <p data-testid="live">{assists.map((a) => `${a.callId}:${a.mode}`).join(' ')}</p>;
}

describe('useAssist', () => {
  it('monitors, barges once on a double click, outlives its component and stops', async () => {
    const { customer, agent, callId } = await answeredCall();
    const track = { kind: 'audio', enabled: true, stop: vi.fn() };
    const stream = { getAudioTracks: () => [track], getTracks: () => [track] };
    const options = { audio: stream as unknown as MediaStream };
    const fetchToken = scopedToken(uniqueResource('sup'), 'calls:list,calls:assist');
    const ui = (shown: boolean) => (
      <RelayProvider url={relayUrl} fetchToken={fetchToken}>
        {shown && <Assist callId={callId} options={options} />}
        <Assists />
      </RelayProvider>
    );
    const view = render(ui(true));
    const user = userEvent.setup();
    expect(screen.getByTestId('state')).toHaveTextContent('none');

    await user.click(screen.getByRole('button', { name: 'Monitor' }));
    await waitFor(() => expect(screen.getByTestId('state')).toHaveTextContent('assisting'));
    expect(screen.getByTestId('parties').textContent?.split(' ').sort()).toEqual(
      [agent.resource, customer.resource].sort(),
    );
    expect(screen.getByTestId('live')).toHaveTextContent(`${callId}:monitor`);
    // Both parties hear of it, and get the supervisor's offer addressed to them.
    for (const party of [customer, agent]) {
      await party.next(assisted(callId, (s) => s[0]?.mode === 'monitor'));
      const offer = await party.next((n) => n.method === 'call.signal' && 'from' in n.params);
      expect(offer.params).toMatchObject({ callId, signal: { type: 'offer' } });
    }

    await user.dblClick(screen.getByRole('button', { name: 'Barge' }));
    await waitFor(() => expect(screen.getByTestId('mode')).toHaveTextContent('barge'));
    expect(screen.getByTestId('error')).toHaveTextContent('');

    // Unmounted, the assist goes on: useAssists still shows it.
    view.rerender(ui(false));
    expect(screen.getByTestId('live')).toHaveTextContent(`${callId}:barge`);
    view.rerender(ui(true));
    expect(screen.getByTestId('mode')).toHaveTextContent('barge');
    await user.click(screen.getByRole('button', { name: 'Stop' }));
    expect(screen.getByTestId('state')).toHaveTextContent('ended');
    expect(screen.getByTestId('live')).toHaveTextContent('');
    await customer.next(assisted(callId, (s) => s.length === 0));
    // One barge went to the Relay for the double click (every assist is announced once).
    const barges = customer.received().filter(assisted(callId, (s) => s[0]?.mode === 'barge'));
    expect(barges).toHaveLength(1);
    // The microphone was the app's own stream: the app stops it, not the assist.
    expect(track.stop).not.toHaveBeenCalled();
  });

  it('says why the Relay refused: no such call, whisper without an agent, a missing scope', async () => {
    const { callId } = await answeredCall();
    const assistToken = scopedToken(uniqueResource('sup'), 'calls:list,calls:assist');
    const view = render(
      <RelayProvider url={relayUrl} fetchToken={assistToken}>
        <Assist callId="no-such-call" />
      </RelayProvider>,
    );
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Monitor' }));
    await waitFor(() => expect(screen.getByTestId('error')).toHaveTextContent('call_not_found'));
    expect(screen.getByTestId('error')).toHaveTextContent('list the ongoing ones with calls.list');
    expect(screen.getByTestId('state')).toHaveTextContent('ended');
    view.unmount();

    const stream = { getAudioTracks: () => [], getTracks: () => [] } as unknown as MediaStream;
    const whisperView = render(
      <RelayProvider url={relayUrl} fetchToken={assistToken}>
        <Assist callId={callId} options={{ audio: stream }} />
      </RelayProvider>,
    );
    await user.click(screen.getByRole('button', { name: 'Whisper' }));
    await waitFor(() => expect(screen.getByTestId('error')).toHaveTextContent('invalid_params'));
    expect(screen.getByTestId('error')).toHaveTextContent('whisper needs "agent"');
    whisperView.unmount();

    render(
      <RelayProvider url={relayUrl} fetchToken={scopedToken(uniqueResource('sup'), 'calls:list')}>
        <Assist callId={callId} />
      </RelayProvider>,
    );
    await user.click(screen.getByRole('button', { name: 'Monitor' }));
    await waitFor(() => expect(screen.getByTestId('error')).toHaveTextContent('forbidden'));
    expect(screen.getByTestId('error')).toHaveTextContent('lacks the "calls:monitor" scope');
  });
});
