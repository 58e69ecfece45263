/**
 * Supervising a call from the phone network (issue 16), in Chromium with the real SIP gateway of
 * test/browser/sipCommands.ts: sipp calls in through the trunk and plays a recording, the
 * browser party answers, and a supervisor monitors. The supervisor links with the browser party
 * only; the party passes the far end's audio on, mixed with its microphone. The party mutes its
 * microphone, so whatever the supervisor hears can only be the far end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands, userEvent } from 'vitest/browser';
import { createRelayClient, type RelayClient } from 'relaycall/core';
import { until } from './faultKit.js';
import { within } from './helpers.js';

let relay: Awaited<ReturnType<typeof commands.startSipRelay>>;
const clients: RelayClient[] = [];
const connections: RTCPeerConnection[] = [];
const Native = globalThis.RTCPeerConnection;

beforeAll(async () => {
  relay = await commands.startSipRelay();
  globalThis.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      connections.push(this);
    }
  } as typeof RTCPeerConnection;
}, 60_000);
afterAll(async () => {
  globalThis.RTCPeerConnection = Native;
  if (relay) await commands.stopSipRelay(relay.id);
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
  connections.splice(0);
  document.body.replaceChildren();
});

async function connected(resource: string, scopes: string): Promise<RelayClient> {
  const query = new URLSearchParams({ resource, scopes });
  const response = await fetch(`${relay.inboundTokenUrl}?${query}`);
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  await client.connect(((await response.json()) as { token: string }).token);
  return client;
}

/**
 * How loud `stream` is now (RMS of its samples, 0 to 1), measured with Web Audio. Chromium
 * computes no audio level (getStats) for received audio that nothing plays out, and here fed the
 * analyser silence until a (muted) element played the stream too.
 */
function loudness(stream: MediaStream): () => number {
  const element = document.createElement('audio');
  element.muted = true;
  element.srcObject = stream;
  document.body.append(element);
  void element.play();
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  return () => {
    analyser.getFloatTimeDomainData(samples);
    return Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
  };
}

function poll(check: () => Promise<boolean>, label: () => string, ms: number): Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped && !(await check())) await new Promise((r) => setTimeout(r, 100));
  })();
  return within(loop, ms, 'condition').then(
    () => undefined,
    (error: Error) => {
      stopped = true;
      throw new Error(`${error.message}: ${label()}`);
    },
  );
}

describe('supervising a call from the phone network', () => {
  it('the supervisor hears the far end through the browser party', async () => {
    // A click in the page: the party's Web Audio mix may start (as answering with a click does).
    const button = document.createElement('button');
    button.textContent = 'answer';
    document.body.append(button);
    await userEvent.click(button);

    const alice = await connected('alice', 'calls:receive');
    const supervisor = await connected('sip-sup', 'calls:list,calls:assist');
    await commands.startSippFar(relay.id, 'uac-inbound', {
      remote: relay.registrarContact,
      service: '+15551230000',
      vars: { hold_ms: 8000 },
    });
    const ringing = await until(
      alice,
      (s) => Object.values(s.calls).some((c) => c.state === 'ringing'),
      'alice rings',
      15_000,
    );
    const incoming = Object.values(ringing.calls).find((c) => c.state === 'ringing')!;
    await alice.answer(incoming.id);
    await until(alice, (s) => s.calls[incoming.id]?.state === 'active', 'active', 15_000);
    alice.setAudioMuted(incoming.id, true);

    const { calls } = await supervisor.listCalls({ resource: 'alice' });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ media: 'sip', state: 'active' });
    const callId = calls[0]!.id;
    const assist = await supervisor.assist(callId, 'monitor');
    expect(assist.parties).toEqual([expect.objectContaining({ resource: 'alice' })]);
    await until(
      supervisor,
      (s) => !!s.assists[callId]?.parties[0]?.stream,
      'the party stream',
      15_000,
    );
    const level = loudness(supervisor.store.getState().assists[callId]!.parties[0]!.stream!);
    let heard = 0;
    await poll(
      async () => (heard = Math.max(heard, level())) > 0.01,
      () => `loudness at the supervisor: ${heard}`,
      15_000,
    );
    await until(
      alice,
      (s) => s.calls[incoming.id]?.supervisors[0]?.mode === 'monitor',
      'alice sees the supervisor',
    );
    // The call ending ends the assist.
    alice.hangup(incoming.id);
    await until(supervisor, (s) => s.assists[callId]?.state === 'ended', 'the assist ends');
    expect(supervisor.store.getState().assists[callId]).toMatchObject({ error: null });
  }, 60_000);
});
