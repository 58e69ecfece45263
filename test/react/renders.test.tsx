/**
 * Re-render discipline: a component using useCall and the VideoTiles it renders must not render
 * again when the client's store changes for anything but their call: other calls ringing in and
 * ending, re-authentication, clock and expiry measurements, other calls' media state.
 *
 * Real traffic where jsdom allows it (raw callers inviting and cancelling through the real Relay,
 * real re-authentication, real outgoing calls that fail for lack of media); the rest (another
 * call's mute, hold and DTMF, which need a live peer, and a changed ICE server list) goes into
 * the real client's zustand store (writable under its read-only public type: writableStore).
 */
import { act, render, screen, waitFor } from '@testing-library/react';
import { Profiler } from 'react';
import {
  RelayProvider,
  useCall,
  useRelayClient,
  VideoTile,
  type CallSnapshot,
  type RelayClient,
  type RelayClientState,
} from 'relaycall';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getToken, relayUrl, tokenFetcher, uniqueResource, writableStore } from './helpers.js';
import { connectRawCaller, type RawCaller } from './rawCaller.js';

const UNRELATED_UPDATES = 100;

const callers: RawCaller[] = [];
afterEach(() => {
  for (const caller of callers.splice(0)) caller.close();
});

/** Commits per Profiler id (a commit of a component or anything below it), and per phase. */
const commits = new Map<string, number>();
const commitsByPhase: Record<string, string[]> = {};
let phase = '';
const count = (id: string) => commits.get(id) ?? 0;
const onRender = (id: string) => {
  commits.set(id, count(id) + 1);
  (commitsByPhase[phase] ??= []).push(id);
};

// jsdom has no MediaStream: a stand-in with a live camera track for the local preview.
class TestTrack extends EventTarget {
  readyState = 'live';
  enabled = true;
  muted = false;
  constructor(readonly kind: 'audio' | 'video') {
    super();
  }
}
const preview = Object.assign(new EventTarget(), {
  tracks: [new TestTrack('audio'), new TestTrack('video')],
  getTracks() {
    return this.tracks;
  },
  getVideoTracks() {
    return this.tracks.filter((track) => track.kind === 'video');
  },
}) as unknown as MediaStream;

/** An app's call view: useCall bound to one call, its remote tile and a local preview. */
function CallView({ callId }: { callId: string }) {
  const call = useCall(undefined, { callId });
  return (
    <section>
      <p data-testid="call-state">{call.state}</p>
      <Profiler id="remote-tile" onRender={onRender}>
        <VideoTile
          stream={call.remoteStream}
          label={call.remote ?? ''}
          muted={call.remoteAudioMuted}
          videoMuted={call.remoteVideoMuted}
          sinkId={call.audioOutputId}
        />
      </Profiler>
      <Profiler id="local-tile" onRender={onRender}>
        <VideoTile stream={preview} label="me" local />
      </Profiler>
    </section>
  );
}

function ClientOut({ onClient }: { onClient: (client: RelayClient) => void }) {
  onClient(useRelayClient().client);
  return null;
}

function App({ fetchToken, callId, onClient }: AppProps) {
  return (
    <RelayProvider url={relayUrl} fetchToken={fetchToken}>
      <ClientOut onClient={onClient} />
      {callId && (
        <Profiler id="call-view" onRender={onRender}>
          <CallView callId={callId} />
        </Profiler>
      )}
    </RelayProvider>
  );
}
interface AppProps {
  fetchToken: () => Promise<string>;
  callId: string | null;
  onClient: (client: RelayClient) => void;
}

/** The local id of the incoming call from `from` once it rings. */
async function ringingFrom(client: RelayClient, from: string): Promise<CallSnapshot> {
  let found: CallSnapshot | undefined;
  await waitFor(() => {
    found = Object.values(client.store.getState().calls).find(
      (call) => call.remote === from && call.direction === 'incoming' && call.state === 'ringing',
    );
    expect(found, `an incoming call from ${from} ringing`).toBeDefined();
  });
  return found!;
}

async function settled(client: RelayClient, id: string): Promise<void> {
  await waitFor(() => expect(client.store.getState().calls[id]?.state).toBe('ended'));
}

describe('re-renders', () => {
  it(`a useCall consumer and its VideoTiles render 0 times for ${UNRELATED_UPDATES} unrelated store updates`, async () => {
    const play = vi
      .spyOn(HTMLMediaElement.prototype, 'play')
      .mockImplementation(() => Promise.resolve());
    const bob = uniqueResource('bob');
    let client: RelayClient | undefined;
    const onClient = (c: RelayClient) => {
      client = c;
    };
    const { fetchToken } = tokenFetcher(bob);
    const view = render(<App fetchToken={fetchToken} callId={null} onClient={onClient} />);
    await waitFor(() => expect(client?.store.getState().status).toBe('connected'));
    const relay = client!;

    // The call the view shows: alice rings bob for real.
    const alice = await connectRawCaller(uniqueResource('alice'));
    callers.push(alice);
    const aliceServerId = await alice.invite(bob);
    const mine = await ringingFrom(relay, alice.resource);
    view.rerender(<App fetchToken={fetchToken} callId={mine.id} onClient={onClient} />);
    expect(screen.getByTestId('call-state')).toHaveTextContent('ringing');
    // Let mount effects settle, then count. useLiveVideo subscribed in the commit; the one
    // asynchronous effect is the local preview's play() (the remote tile has no stream yet),
    // which renders again only if refused: wait for it to be called and to settle.
    await waitFor(() => expect(play).toHaveBeenCalledTimes(1));
    await act(async () => {
      await play.mock.results[0]!.value;
    });
    commits.clear();
    for (const key of Object.keys(commitsByPhase)) delete commitsByPhase[key];

    const updates: Record<string, number> = {};
    let changedMine = 0;
    const unsubscribe = relay.store.subscribe((state, previous) => {
      updates[phase] = (updates[phase] ?? 0) + 1;
      if (state.calls[mine.id] !== previous.calls[mine.id]) changedMine += 1;
    });
    const total = () => Object.values(updates).reduce((sum, n) => sum + n, 0);

    // 1. Other calls, for real: carol and dave ring bob while alice rings, then cancel; each
    //    ended call is dismissed. (bob may ring on up to 4 calls at once.)
    phase = 'other incoming calls (real: ring, cancel, dismiss)';
    const others = [
      await connectRawCaller(uniqueResource('carol')),
      await connectRawCaller(uniqueResource('dave')),
    ];
    callers.push(...others);
    for (let round = 0; round < 6; round += 1) {
      for (const other of others) {
        const serverId = await other.invite(bob);
        const ringing = await ringingFrom(relay, other.resource);
        await other.hangup(serverId);
        await settled(relay, ringing.id);
        act(() => relay.dismiss(ringing.id));
      }
    }

    // 2. Re-authentication, for real: new expiry, scopes and clock offset from the Relay.
    phase = 're-authentication (real: expiresAt, scopes, clockOffset)';
    for (let i = 0; i < 5; i += 1) {
      const token = await getToken(bob);
      await act(async () => relay.updateToken(token));
    }

    // 3. Outgoing calls to others, for real: in jsdom they end for lack of media.
    phase = 'other outgoing calls (real: dial, fail without media, dismiss)';
    for (let i = 0; i < 3; i += 1) {
      let id = '';
      act(() => {
        id = relay.call(uniqueResource('erin'));
      });
      await settled(relay, id);
      act(() => relay.dismiss(id));
    }
    const real = total();

    // 4. What has no real source in jsdom, up to 100: another (live) call's media state and
    //    DTMF (a call needs a peer for these), clock measurements, a changed ICE server list.
    phase = 'another live call: mute, hold, DTMF, peer (direct)';
    const other: CallSnapshot = { ...mine, id: 'other-live', remote: 'frank', state: 'active' };
    act(() => writableStore(relay).setState((s) => ({ calls: { ...s.calls, [other.id]: other } })));
    const patches: Array<Partial<CallSnapshot>> = [
      { remoteAudioMuted: true },
      { remoteAudioMuted: false },
      { remoteVideoMuted: true },
      { held: true, state: 'held' },
      { held: false, state: 'active' },
      { peerConnected: false },
      { peerConnected: true },
    ];
    const patchOther = (patch: Partial<CallSnapshot>) =>
      act(() =>
        writableStore(relay).setState((s) => {
          const current = s.calls[other.id]!;
          return { calls: { ...s.calls, [other.id]: { ...current, ...patch } } };
        }),
      );
    for (const patch of patches) patchOther(patch);
    let dtmf = '';
    while (total() < UNRELATED_UPDATES - 10) {
      dtmf += String(total() % 10);
      patchOther({ remoteDtmf: dtmf });
    }
    phase = 'clock offset, expiry, ICE servers (direct)';
    const measured: Array<Partial<RelayClientState>> = [];
    for (let i = 0; total() + measured.length < UNRELATED_UPDATES - 1; i += 1) {
      measured.push(
        i % 2 === 0
          ? { clockOffset: relay.store.getState().clockOffset + i + 0.5 }
          : { expiresAt: (relay.store.getState().expiresAt ?? 0) + i * 1000 },
      );
    }
    for (const patch of measured) act(() => writableStore(relay).setState(patch));
    act(() => writableStore(relay).setState({ iceServers: [{ urls: 'stun:127.0.0.1:3478' }] }));
    unsubscribe();

    expect(total(), JSON.stringify(updates, null, 2)).toBe(UNRELATED_UPDATES);
    expect(real, 'store updates from real traffic').toBeGreaterThanOrEqual(40);
    expect(changedMine, "updates that touched the view's own call").toBe(0);
    expect(screen.getByTestId('call-state')).toHaveTextContent('ringing');
    expect(
      Object.fromEntries(commits),
      `renders during ${UNRELATED_UPDATES} unrelated store updates ${JSON.stringify(updates)}; ` +
        `by phase: ${JSON.stringify(commitsByPhase)}`,
    ).toEqual({});
    phase = 'related';

    // Control: an update of the view's own call renders it exactly once (so the counters work).
    act(() => relay.setAudioOutput(mine.id, 'speakers-2'));
    expect(count('call-view'), 'renders of the useCall consumer for its own call').toBe(1);
    expect(count('remote-tile'), 'renders of its remote VideoTile (new sinkId)').toBe(1);
    // A plain component re-renders its children: the preview tile's props did not change, but
    // it is not memoized, so it renders with its parent.
    expect(count('local-tile')).toBe(1);

    // And for real: alice gives up; the view shows it.
    commits.clear();
    await alice.hangup(aliceServerId);
    await waitFor(() => expect(screen.getByTestId('call-state')).toHaveTextContent('ended'));
    expect(count('call-view')).toBeGreaterThanOrEqual(1);
  });
});
