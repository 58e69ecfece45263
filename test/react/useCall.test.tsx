import { act, renderHook, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import {
  RelayProvider,
  useCall,
  useCalls,
  useIncomingCall,
  useRelayClient,
  type RelayClient,
} from 'relaycall';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callSnapshot } from '../snapshots.js';
import {
  Probe,
  getToken,
  relayUrl,
  tokenFetcher,
  uniqueResource,
  writableStore,
} from './helpers.js';
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

  it('places one call on a double start(), and none while its call is in progress', async () => {
    const wrapper = wrapperFor(uniqueResource('alice'));
    const { result } = renderHook(
      () => ({ call: useCall('bob', { localStream: FAKE_STREAM }), calls: useCalls() }),
      { wrapper },
    );
    // A fake stream: no camera is asked for, and the call stays in progress until connected
    // (jsdom has no WebRTC, so once connected it fails there).
    const ids: (string | null)[] = [];
    act(() => {
      ids.push(result.current.call.start());
      ids.push(result.current.call.start());
      ids.push(result.current.call.start('carol'));
    });
    expect(ids[0]).toEqual(expect.any(String));
    expect(ids).toEqual([ids[0], ids[0], ids[0]]);
    expect(result.current.calls).toHaveLength(1);
    expect(result.current.call).toMatchObject({ state: 'dialing', remote: 'bob' });
  });

  it('keeps a call placed before the first token waiting, not ended as a lost connection', async () => {
    let release: (token: string) => void = () => undefined;
    const resource = uniqueResource('alice');
    const late = new Promise<string>((resolve) => (release = resolve));
    const wrapper = ({ children }: { children: ReactNode }) => (
      <RelayProvider url={relayUrl} fetchToken={() => late}>
        <Probe />
        {children}
      </RelayProvider>
    );
    const { result } = renderHook(
      () => ({ call: useCall('bob', { localStream: FAKE_STREAM }), relay: useRelayClient() }),
      { wrapper },
    );
    act(() => void result.current.call.start());
    expect(result.current.relay.status).toBe('idle');
    expect(result.current.call.state).toBe('dialing');
    release(await getToken(resource));
    await waitFor(() => expect(result.current.relay.status).toBe('connected'));
    // Once connected it goes on to create its peer, which jsdom cannot: not 'disconnected'.
    await waitFor(() => expect(result.current.call.state).toBe('ended'));
    expect(result.current.call.endReason).toBe('failed');
    expect(result.current.call.error?.message).toMatch(/WebRTC/);
  });

  it('ends a waiting call with not_connected when the client gives up', async () => {
    const wrapper = wrapperFor(uniqueResource('alice'));
    const { result } = renderHook(
      () => ({ call: useCall('bob', { localStream: FAKE_STREAM }), relay: useRelayClient() }),
      { wrapper },
    );
    await waitFor(() => expect(result.current.relay.status).toBe('connected'));
    act(() => result.current.relay.client.disconnect());
    act(() => void result.current.call.start());
    await waitFor(() => expect(result.current.call.state).toBe('ended'));
    expect(result.current.call.error).toMatchObject({ code: 'not_connected' });
    expect(result.current.call.error?.message).toMatch(/disconnected/);
  });

  it('shows the call in progress with its target after a remount, and dismisses ended calls', async () => {
    const clients: RelayClient[] = [];
    const wrapper = wrapperFor(uniqueResource('alice'), (client) => clients.push(client));
    const first = renderHook(() => useCall('zoe'), { wrapper });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const store = writableStore(clients[0]!);
    act(() =>
      store.setState({
        calls: { c9: callSnapshot('c9', { direction: 'outgoing', state: 'active', startedAt: 1 }) },
      }),
    );
    expect(first.result.current).toMatchObject({ callId: 'c9', state: 'active' });
    // A ringing incoming call is not "in progress": useCall('zoe') does not show it.
    act(() => store.setState((s) => ({ calls: { ...s.calls, r1: callSnapshot('r1') } })));
    expect(first.result.current.callId).toBe('c9');
    act(() =>
      store.setState((s) => ({
        calls: { ...s.calls, c9: { ...s.calls.c9!, state: 'ended', endReason: 'hangup' } },
      })),
    );
    expect(first.result.current).toMatchObject({ callId: 'c9', state: 'ended' });
    act(() => first.result.current.dismiss());
    expect(first.result.current).toMatchObject({ callId: null, state: 'idle' });
    expect(store.getState().calls.c9).toBeUndefined();
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
  // (writableStore: its zustand store under the read-only public type) to watch how the hook
  // follows them.
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
    act(() => writableStore(client).setState({ calls: { other: callSnapshot('other') } }));
    expect(renders).toBe(1);
    act(() =>
      writableStore(client).setState((s) => ({
        calls: { ...s.calls, mine: callSnapshot('mine') },
      })),
    );
    expect(renders).toBe(2);
    expect(result.current).toMatchObject({ state: 'ringing', remote: 'zoe' });
  });

  it('counts whole seconds while active, ticking once a second, and freezes when ended', async () => {
    const clients: RelayClient[] = [];
    const { result } = renderHook(() => useCall(undefined, { callId: 'c1' }), {
      wrapper: wrapperFor(uniqueResource('alice'), (client) => clients.push(client)),
    });
    await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
    const store = writableStore(clients[0]!);
    const startedAt = Date.now() - 5_300;
    act(() =>
      store.setState({ calls: { c1: callSnapshot('c1', { state: 'active', startedAt }) } }),
    );
    expect(result.current.duration).toBe(5);
    await waitFor(() => expect(result.current.duration).toBe(6), { timeout: 5_000 });

    const endedAt = startedAt + 9_900;
    act(() =>
      store.setState({ calls: { c1: callSnapshot('c1', { state: 'ended', startedAt, endedAt }) } }),
    );
    expect(result.current.duration).toBe(9);
    // Ended: no ticker is left, so no later second can change it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      act(() => vi.advanceTimersByTime(5_000));
      expect(result.current.duration).toBe(9);
    } finally {
      vi.useRealTimers();
    }
  });
});

/** Stands for the app's own stream (CallOptions.localStream): no camera is asked for. */
const FAKE_STREAM = { getTracks: () => [] } as unknown as MediaStream;
