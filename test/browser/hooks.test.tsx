/**
 * Calls a React developer cannot lose, in Chromium through the public hooks: a double click rings
 * once, a call placed before (or between) connections waits and goes once connected, calls outlive
 * the component that placed them, and answering takes a few lines.
 */
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import {
  RelayProvider,
  VideoTile,
  createRelayClient,
  useCall,
  useCalls,
  useIncomingCall,
  useRelayClient,
  type RelayClient,
} from 'relaycall';
import {
  actSync,
  fetchTestToken,
  framesPresented,
  relayPerFile,
  renderPerTest,
  ringingCall,
  untilTrue,
} from './helpers.js';

const { relay, cleanups } = relayPerFile();
const render = renderPerTest();

const token = (resource: string) => fetchTestToken(relay.tokenUrl, resource);
const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent;
const button = (name: string) =>
  [...document.querySelectorAll('button')].find((b) => b.textContent === name);
const waitFor = untilTrue;

/** A plain core client for the other party; `answer` makes it answer whatever rings. */
async function party(resource: string, answer = false): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  cleanups.push(() => client.destroy());
  await client.connect(await token(resource));
  if (answer) {
    client.store.subscribe((state) => {
      const ringing = ringingCall(state);
      if (ringing) void client.answer(ringing.id).catch(() => undefined);
    });
  }
  return client;
}

const incomingCount = (client: RelayClient) =>
  Object.values(client.store.getState().calls).filter((c) => c.direction === 'incoming').length;

function CallButton({ to }: { to: string }) {
  const call = useCall(to);
  return (
    <div>
      <p data-testid="call">{call.state}</p>
      <p data-testid="call-id">{call.callId ?? ''}</p>
      <p data-testid="reason">{call.endReason ?? ''}</p>
      <p data-testid="peer">{String(call.peerConnected)}</p>
      <button onClick={() => call.start()}>Call</button>
      <button onClick={call.hangup}>Hang up</button>
    </div>
  );
}

function LiveCalls() {
  const calls = useCalls();
  const { status } = useRelayClient();
  return (
    <>
      <p data-testid="status">{status}</p>
      <p data-testid="live">{calls.map((c) => `${c.remote}:${c.state}`).join(',')}</p>
    </>
  );
}

function provider(resource: string, children: React.ReactNode, fetchToken?: () => Promise<string>) {
  return (
    <RelayProvider url={relay.url} fetchToken={fetchToken ?? (() => token(resource))}>
      <LiveCalls />
      {children}
    </RelayProvider>
  );
}

describe('useCall in Chromium', () => {
  it('rings once on a double click, and the one call hangs up from the hook', async () => {
    const bob = await party('bob-double', true);
    render(provider('alice-double', <CallButton to="bob-double" />));
    await waitFor(() => text('status') === 'connected', 'alice connected');
    // Two clicks in one task, as a double click delivers them.
    actSync(() => {
      button('Call')?.click();
      button('Call')?.click();
    });
    await waitFor(() => text('call') === 'active', 'the call is active');
    expect(incomingCount(bob)).toBe(1);
    expect(text('live')).toBe('bob-double:active');
    // start() again while the call is active places nothing either.
    actSync(() => button('Call')?.click());
    expect(text('live')).toBe('bob-double:active');

    actSync(() => button('Hang up')?.click());
    await waitFor(() => text('reason') === 'hangup', 'ended with hangup');
    await waitFor(
      () => Object.values(bob.store.getState().calls).every((c) => c.state === 'ended'),
      'bob sees the end',
    );
    expect(incomingCount(bob)).toBe(1);
    expect(text('live')).toBe('');
  });

  it('waits with a call placed before the first token arrives, then rings', async () => {
    const bob = await party('bob-early', true);
    let release: (token: string) => void = () => undefined;
    const late = new Promise<string>((resolve) => (release = resolve));
    render(provider('alice-early', <CallButton to="bob-early" />, () => late));
    expect(text('status')).toBe('idle');
    actSync(() => button('Call')?.click());
    expect(text('call')).toBe('dialing');
    release(await token('alice-early'));
    await waitFor(() => text('call') === 'active', 'the waiting call went and was answered');
    expect(incomingCount(bob)).toBe(1);
  });

  it(
    'waits with a call placed while reconnecting, then rings on the fresh session',
    { timeout: 30_000 },
    async () => {
      const bob = await party('bob-between', true);
      // alice's sockets, and a gate that makes new ones fail while closed.
      const sockets: WebSocket[] = [];
      let gateOpen = true;
      const Real = WebSocket;
      class GatedWebSocket extends Real {
        constructor(url: string | URL) {
          super(gateOpen ? url : 'ws://127.0.0.1:9/refused');
          sockets.push(this);
        }
      }
      vi.stubGlobal('WebSocket', GatedWebSocket);
      cleanups.push(() => vi.unstubAllGlobals());
      render(provider('alice-between', <CallButton to="bob-between" />));
      await waitFor(() => text('status') === 'connected', 'alice connected');
      gateOpen = false;
      // The socket goes (a close frame from this side: the Relay ends the session for good).
      sockets[0]?.close(4000, 'test');
      await waitFor(() => text('status') === 'reconnecting', 'alice reconnecting');
      actSync(() => button('Call')?.click());
      expect(text('call')).toBe('dialing');
      gateOpen = true;
      window.dispatchEvent(new Event('online')); // reconnect now rather than after the backoff

      await waitFor(
        () => text('call') === 'active',
        'the waiting call went and was answered',
        20_000,
      );
      expect(incomingCount(bob)).toBe(1);
    },
  );

  it('keeps a call going when its component unmounts, and shows it again on remount', async () => {
    const bob = await party('bob-remount', true);
    function App() {
      const [shown, setShown] = useState(true);
      return provider(
        'alice-remount',
        <>
          <button onClick={() => setShown((s) => !s)}>Toggle</button>
          {shown && <CallButton to="bob-remount" />}
        </>,
      );
    }
    render(<App />);
    await waitFor(() => text('status') === 'connected', 'alice connected');
    actSync(() => button('Call')?.click());
    await waitFor(() => text('call') === 'active', 'the call is active');
    const callId = text('call-id');

    actSync(() => button('Toggle')?.click());
    expect(text('call')).toBeUndefined();
    expect(text('live')).toBe('bob-remount:active'); // useCalls still has it

    actSync(() => button('Toggle')?.click());
    expect(text('call')).toBe('active');
    expect(text('call-id')).toBe(callId);
    actSync(() => button('Hang up')?.click());
    await waitFor(() => text('reason') === 'hangup', 'hung up from the remounted hook');
    await waitFor(
      () => Object.values(bob.store.getState().calls).every((c) => c.state === 'ended'),
      'bob sees the end',
    );
  });
});

/** The README's callee, as written there. */
function IncomingCalls() {
  const incoming = useIncomingCall();
  const call = useCall(); // the call in progress, once answered
  if (incoming.call) {
    return (
      <p>
        {incoming.call.remote} is calling{' '}
        <button onClick={() => void incoming.answer()}>Answer</button>
        <button onClick={() => incoming.reject()}>Decline</button>
      </p>
    );
  }
  if (call.state === 'idle' || call.state === 'ended') return null;
  return (
    <>
      <VideoTile stream={call.remoteStream} label={call.remote ?? ''} />
      <button onClick={call.hangup}>Hang up</button>
    </>
  );
}

describe('receiving a call', () => {
  it('takes a few lines: answer, see the caller, hang up', async () => {
    render(provider('bob-callee', <IncomingCalls />));
    await waitFor(() => text('status') === 'connected', 'bob connected');
    const alice = await party('alice-caller');
    const placed = alice.call('bob-callee');
    await waitFor(() => button('Answer') !== undefined, 'bob is rung');
    actSync(() => button('Answer')?.click());
    await waitFor(() => alice.store.getState().calls[placed]?.state === 'active', 'active');
    const video = document.querySelector('video');
    expect(video).not.toBeNull();
    await framesPresented(video!, 5, "alice's video at bob's");
    actSync(() => button('Hang up')?.click());
    await waitFor(
      () => alice.store.getState().calls[placed]?.endReason === 'hangup',
      'alice sees the hangup',
    );
  });
});
