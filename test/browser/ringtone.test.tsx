/**
 * useRingtone in Chromium: it rings while a real incoming call rings and stops on answer and on
 * the caller's hangup; when the browser blocks sound until a gesture it says `blocked`, and the
 * user's next click (or `unlock()`) starts it.
 */
import { describe, expect, it } from 'vitest';
import {
  RelayProvider,
  createRelayClient,
  createRingtone,
  useIncomingCall,
  useRelayClient,
  useRingtone,
  type RelayClient,
  type UseRingtoneOptions,
} from 'relaycall';
import { actSync, fetchTestToken, relayPerFile, renderPerTest, untilTrue } from './helpers.js';

const { relay, cleanups } = relayPerFile();
const render = renderPerTest();

const token = (resource: string) => fetchTestToken(relay.tokenUrl, resource);
const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent;
const waitFor = (check: () => boolean, label: string) => untilTrue(check, label, 15_000);

/** Every AudioContext the ringtone made, to see that the tone really runs. */
const contexts: AudioContext[] = [];

/**
 * A real AudioContext that stays suspended (resume() pending, as Chromium does without user
 * activation) until `gate.open`; a pointerdown on the page opens the gate first.
 */
function gatedAudioContext(gate: { open: boolean }): new () => AudioContext {
  return class Gated extends AudioContext {
    constructor() {
      super();
      contexts.push(this);
    }
    override get state(): AudioContextState {
      return gate.open ? super.state : 'suspended';
    }
    override resume(): Promise<void> {
      return gate.open ? super.resume() : new Promise(() => undefined);
    }
  };
}

function Ringer(props: UseRingtoneOptions) {
  const ringtone = useRingtone(props);
  const incoming = useIncomingCall();
  const { status } = useRelayClient();
  return (
    <div>
      <p data-testid="status">{status}</p>
      <p data-testid="playing">{String(ringtone.playing)}</p>
      <p data-testid="blocked">{String(ringtone.blocked)}</p>
      <p data-testid="ringing">{String(incoming.call !== null)}</p>
      <button onClick={() => void incoming.answer(undefined, { video: false })}>Answer</button>
    </div>
  );
}

async function renderRinger(resource: string, props: UseRingtoneOptions) {
  render(
    <RelayProvider url={relay.url} fetchToken={() => token(resource)}>
      <Ringer {...props} />
    </RelayProvider>,
  );
}

async function caller(resource: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url, iceServers: [] });
  cleanups.push(() => client.destroy());
  await client.connect(await token(resource));
  return client;
}

/** Calls `to` once its provider is connected (so the Relay knows it); resolves when it rings. */
async function call(from: RelayClient, to: string): Promise<string> {
  await waitFor(() => text('status') === 'connected', 'the provider is connected');
  const id = from.call(to, { video: false });
  await waitFor(() => from.store.getState().calls[id]?.state === 'ringing', 'the call rings');
  return id;
}

describe('useRingtone in Chromium', () => {
  it('rings while a real call rings, and stops on answer and on the caller hanging up', async () => {
    const gate = { open: true };
    await renderRinger('rt-bob', { AudioContext: gatedAudioContext(gate) });
    const alice = await caller('rt-alice');

    await call(alice, 'rt-bob');
    await waitFor(() => text('playing') === 'true', 'the ringtone plays');
    expect(text('blocked')).toBe('false');
    expect(contexts.at(-1)?.state).toBe('running');

    actSync(() => document.querySelector('button')?.click());
    await waitFor(() => text('playing') === 'false', 'answering stops the ringtone');
    await waitFor(() => text('ringing') === 'false', 'no call rings');

    const second = await call(alice, 'rt-bob');
    await waitFor(() => text('playing') === 'true', 'the second call rings');
    alice.hangup(second);
    await waitFor(() => text('playing') === 'false', 'the caller hanging up stops it');
  });

  it('says blocked until a gesture, then plays', async () => {
    const gate = { open: false };
    const opener = () => (gate.open = true);
    // Capture on window runs before the ringtone's listener on document: the gesture's activation.
    window.addEventListener('pointerdown', opener, true);
    cleanups.push(() => window.removeEventListener('pointerdown', opener, true));
    await renderRinger('rt-carol', { AudioContext: gatedAudioContext(gate) });
    const dave = await caller('rt-dave');

    const id = await call(dave, 'rt-carol');
    await waitFor(() => text('blocked') === 'true', 'the ringtone is blocked');
    expect(text('playing')).toBe('false');

    document.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
    await waitFor(() => text('playing') === 'true', 'the gesture starts the ringtone');
    expect(text('blocked')).toBe('false');
    dave.hangup(id);
    await waitFor(() => text('playing') === 'false', 'the hangup stops it');
  });

  it('plays an app-supplied src through an audio element, unlocked by unlock()', async () => {
    let allowed = false;
    const played: string[] = [];
    class RefusingAudio extends Audio {
      override play(): Promise<void> {
        played.push(this.src);
        if (!allowed) return Promise.reject(new DOMException('no gesture', 'NotAllowedError'));
        this.pause();
        return Promise.resolve();
      }
    }
    const ringtone = createRingtone({
      src: 'data:audio/wav;base64,',
      Audio: RefusingAudio,
      gestureTarget: null,
      volume: 0.3,
    });
    cleanups.push(() => ringtone.destroy());
    ringtone.start();
    await waitFor(() => ringtone.store.getState().blocked, 'the element is refused');
    allowed = true;
    await ringtone.unlock();
    expect(ringtone.store.getState()).toEqual({ playing: true, blocked: false });
    expect(played).toHaveLength(2);
    ringtone.stop();
    expect(ringtone.store.getState()).toEqual({ playing: false, blocked: false });
  });
});
