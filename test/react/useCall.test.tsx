import { act, renderHook, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import {
  RelayProvider,
  useCall,
  useIncomingCall,
  useRelayClient,
  type CallSnapshot,
  type RelayClient,
} from 'relaycall';
import { afterEach, describe, expect, it } from 'vitest';
import { Probe, relayUrl, tokenFetcher, uniqueResource } from './helpers.js';
import { connectRawCaller, type RawCaller } from './rawCaller.js';

const callers: RawCaller[] = [];
afterEach(() => {
  for (const caller of callers.splice(0)) caller.close();
});

function wrapperFor(resource: string, onClient?: (client: RelayClient) => void) {
  const { fetchToken } = tokenFetcher(resource);
  return ({ children }: { children: ReactNode }) => (
    <RelayProvider url={relayUrl} fetchToken={fetchToken}>
      <Probe onClient={onClient} />
      {children}
    </RelayProvider>
  );
}

describe('useCall', () => {
  it("is idle before start(); without media (jsdom) the call ends 'failed' with a media error", async () => {
    const wrapper = wrapperFor(uniqueResource('alice'));
    const { result } = renderHook(() => ({ call: useCall('bob'), relay: useRelayClient() }), {
      wrapper,
    });
    expect(result.current.call).toMatchObject({ state: 'idle', callId: null, duration: 0 });
    await waitFor(() => expect(result.current.relay.status).toBe('connected'));

    let firstId: string | null = null;
    act(() => {
      firstId = result.current.call.start();
    });
    expect(firstId).toEqual(expect.any(String));
    await waitFor(() => expect(result.current.call.state).toBe('ended'));
    expect(result.current.call).toMatchObject({
      callId: firstId,
      direction: 'outgoing',
      remote: 'bob',
      endReason: 'failed',
      error: expect.objectContaining({ code: 'media_failed' }),
    });

    // A new start() replaces the ended call, which leaves the store.
    act(() => void result.current.call.start('carol'));
    await waitFor(() => expect(result.current.call.remote).toBe('carol'));
    expect(Object.keys(result.current.relay.client.store.getState().calls)).not.toContain(firstId);
  });

  it('reports a start() without anyone to call as an error', async () => {
    const { result } = renderHook(() => useCall(), { wrapper: wrapperFor(uniqueResource('dan')) });
    act(() => void result.current.start());
    expect(result.current).toMatchObject({
      state: 'ended',
      endReason: 'failed',
      error: expect.objectContaining({ code: 'invalid_params' }),
    });
  });

  it('binds to an incoming call by callId and can reject it', async () => {
    const bob = uniqueResource('bob');
    const { result } = renderHook(
      () => {
        const incoming = useIncomingCall();
        const call = useCall(undefined, { callId: incoming.call?.id });
        return { incoming, call, relay: useRelayClient() };
      },
      { wrapper: wrapperFor(bob) },
    );
    await waitFor(() => expect(result.current.relay.status).toBe('connected'));
    const alice = await connectRawCaller(uniqueResource('alice'));
    callers.push(alice);
    const serverCallId = await alice.invite(bob);
    await waitFor(() => expect(result.current.call.state).toBe('ringing'));
    expect(result.current.call).toMatchObject({ direction: 'incoming', remote: alice.resource });

    act(() => result.current.call.reject());
    expect((await alice.notification('call.ended', serverCallId)).params.reason).toBe('declined');
  });

  // jsdom cannot run media, so these two put call snapshots into the real client's store
  // (its public zustand API) to watch how the hook follows them.
  it("re-renders only when its own call's snapshot changes", async () => {
    const clients: RelayClient[] = [];
    let renders = 0;
    const { result } = renderHook(
      () => {
        renders += 1;
        return useCall(undefined, { callId: 'mine' });
      },
      { wrapper: wrapperFor(uniqueResource('alice'), (client) => clients.push(client)) },
    );
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const client = clients[0]!;
    // Connecting changed status, session, scopes, expiry and clock offset: no re-render.
    expect(renders).toBe(1);
    act(() => client.store.setState({ calls: { other: snapshot('other') } }));
    expect(renders).toBe(1);
    act(() => client.store.setState((s) => ({ calls: { ...s.calls, mine: snapshot('mine') } })));
    expect(renders).toBe(2);
    expect(result.current).toMatchObject({ state: 'ringing', remote: 'zoe' });
  });

  it('counts whole seconds while active, ticking once a second, and freezes when ended', async () => {
    const clients: RelayClient[] = [];
    const { result } = renderHook(() => useCall(undefined, { callId: 'c1' }), {
      wrapper: wrapperFor(uniqueResource('alice'), (client) => clients.push(client)),
    });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const store = clients[0]!.store;
    const startedAt = Date.now() - 5_300;
    act(() => store.setState({ calls: { c1: snapshot('c1', { state: 'active', startedAt }) } }));
    expect(result.current.duration).toBe(5);
    await waitFor(() => expect(result.current.duration).toBe(6), { timeout: 1500 });

    const endedAt = startedAt + 9_900;
    act(() =>
      store.setState({ calls: { c1: snapshot('c1', { state: 'ended', startedAt, endedAt }) } }),
    );
    expect(result.current.duration).toBe(9);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(result.current.duration).toBe(9);
  });
});

function snapshot(id: string, patch: Partial<CallSnapshot> = {}): CallSnapshot {
  return {
    id,
    direction: 'incoming',
    remote: 'zoe',
    state: 'ringing',
    metadata: null,
    localStream: null,
    remoteStream: null,
    audioMuted: false,
    videoMuted: false,
    remoteAudioMuted: false,
    remoteVideoMuted: false,
    held: false,
    remoteHeld: false,
    remoteDtmf: '',
    peerConnected: true,
    startedAt: null,
    endedAt: null,
    endReason: null,
    error: null,
    audioInputId: null,
    videoInputId: null,
    audioOutputId: null,
    ...patch,
  };
}
