import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import {
  RelayProvider,
  VideoTile,
  createRelayClient,
  useCall,
  useRelayClient,
  type RelayClient,
} from 'relaycall';
import { actAsync, actSync, fetchTestToken, framesPresented, untilTrue } from './helpers.js';

let relay: { id: string; url: string; tokenUrl: string };
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  relay = await commands.startRelay();
});
afterAll(() => commands.stopRelay(relay.id));
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  document.body.replaceChildren();
});

const token = (resource: string) => fetchTestToken(relay.tokenUrl, resource);

/** Every track any getUserMedia call in this page produced. */
function recordTracks(): MediaStreamTrack[] {
  const tracks: MediaStreamTrack[] = [];
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    tracks.push(...stream.getTracks());
    return stream;
  };
  cleanups.push(() => (navigator.mediaDevices.getUserMedia = original));
  return tracks;
}

/** bob: a plain core client that answers whatever rings. */
async function autoAnswering(resource: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  cleanups.push(() => client.destroy());
  await client.connect(await token(resource));
  client.store.subscribe((state) => {
    for (const call of Object.values(state.calls)) {
      if (call.direction === 'incoming' && call.state === 'ringing') void client.answer(call.id);
    }
  });
  return client;
}

function Phone({ to }: { to: string }) {
  const { status } = useRelayClient();
  const call = useCall(to);
  return (
    <div>
      <p data-testid="status">{status}</p>
      <p data-testid="call">{call.state}</p>
      <button onClick={() => call.start()}>Call</button>
      <button onClick={() => call.hangup()}>Hang up</button>
      <VideoTile stream={call.localStream} label="Me" local />
      <div data-testid="remote">
        <VideoTile stream={call.remoteStream} label={to} sinkId={call.audioOutputId} />
      </div>
    </div>
  );
}

const waitFor = untilTrue;

const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent;
const button = (name: string) =>
  [...document.querySelectorAll('button')].find((b) => b.textContent === name)!;

describe('RelayProvider and useCall in Chromium', () => {
  it('under StrictMode: one connection, a live call, and no live track after unmount', async () => {
    const tracks = recordTracks();
    const bob = await autoAnswering('bob-react');
    let fetches = 0;
    const fetchToken = async () => {
      fetches += 1;
      return { token: await token('alice-react') };
    };
    const host = document.createElement('div');
    document.body.append(host);
    const root: Root = createRoot(host);
    await actAsync(async () => {
      root.render(
        <StrictMode>
          <RelayProvider url={relay.url} fetchToken={fetchToken}>
            <Phone to="bob-react" />
          </RelayProvider>
        </StrictMode>,
      );
    });
    await waitFor(() => text('status') === 'connected', 'alice connected');
    expect(fetches).toBe(1);
    expect(await commands.relayStats(relay.id)).toMatchObject({ sockets: 2, sessions: 2 });

    await actAsync(async () => button('Call').click());
    await waitFor(() => text('call') === 'active', 'call active');
    const remote = document.querySelector<HTMLVideoElement>('[data-testid="remote"] video')!;
    await framesPresented(remote, 5, 'remote frames in the VideoTile');
    expect(remote.videoWidth).toBeGreaterThan(0);

    actSync(() => root.unmount());
    // Unmounting the provider hangs up: bob hears the end.
    await waitFor(
      () => Object.values(bob.store.getState().calls).some((c) => c.state === 'ended'),
      'bob sees the end',
    );
    // Both sides' calls ended: every track acquired in this page (alice's and bob's) is stopped.
    expect(tracks.length).toBeGreaterThanOrEqual(4);
    await waitFor(() => tracks.every((t) => t.readyState === 'ended'), 'tracks stopped');
    await expect
      .poll(() => commands.relayStats(relay.id))
      .toMatchObject({ sockets: 1, sessions: 1 });
  });
});
