/**
 * Supervising a call from the phone network (issue 16), in Chromium with the real SIP gateway of
 * test/browser/sipCommands.ts: sipp calls in through the trunk and plays a recording, the
 * browser party answers, and a supervisor monitors. The supervisor links with the browser party
 * only; the party passes the far end's audio on, mixed with its microphone. The party mutes its
 * microphone, so whatever the supervisor hears can only be the far end.
 *
 * Barging, the far end hears the supervisor too: the party calls a sipp that echoes its audio
 * back, with its own microphone muted, so whatever comes back is what the far end received from
 * the supervisor (Chromium's fake microphone: a short beep every 500 ms).
 */
import { describe, expect, it } from 'vitest';
import { commands, userEvent } from 'vitest/browser';
import { createRelayClient, type RelayClient } from 'relaycall/core';
import { ringsFromTrunk, until } from './faultKit.js';
import { connections, poll, recordConnections } from './assistKit.js';
import { fetchTestToken, relayPerFile } from './helpers.js';

const { relay, clients, cleanups } = relayPerFile(
  () => commands.startSipRelay(),
  (id) => commands.stopSipRelay(id),
);
recordConnections();

/** A connected client; its token from `tokenUrl` (default: the inbound project's). */
async function connected(
  resource: string,
  scopes: string,
  tokenUrl = relay.inboundTokenUrl,
): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  await client.connect(await fetchTestToken(tokenUrl, resource, scopes));
  return client;
}

/**
 * How loud `stream` is now (RMS of its samples, 0 to 1), measured with Web Audio. Chromium
 * computes no audio level (getStats) for received audio that nothing plays out, and here fed the
 * analyser silence until a (muted) element played the stream too.
 */
function loudness(stream: MediaStream, measure: 'rms' | 'peak' = 'rms'): () => number {
  const element = document.createElement('audio');
  element.muted = true;
  element.srcObject = stream;
  document.body.append(element);
  void element.play();
  const context = new AudioContext();
  cleanups.push(() => void context.close());
  const analyser = context.createAnalyser();
  // Peak: over the largest window (0.68 s at 48 kHz), so no 20 ms beep falls between readings.
  if (measure === 'peak') analyser.fftSize = 32768;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  return () => {
    analyser.getFloatTimeDomainData(samples);
    if (measure === 'peak') return samples.reduce((max, x) => Math.max(max, Math.abs(x)), 0);
    return Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
  };
}

/** Resolves once `level()` rose above `threshold` (a beep, a word). */
function loud(level: () => number, threshold: number, label: string): Promise<void> {
  let heard = 0;
  return poll(
    async () => (heard = Math.max(heard, level())) > threshold,
    () => `${label}: loudest ${heard}`,
    15_000,
  );
}

/**
 * Resolves once `level()` (a peak over 0.68 s) stayed under `threshold` for 1.5 s in a row: with
 * a beep every 500 ms, silence.
 */
function quiet(level: () => number, threshold: number, label: string): Promise<void> {
  let since = performance.now();
  let last = 0;
  return poll(
    async () => {
      last = level();
      if (last >= threshold) since = performance.now();
      return performance.now() - since >= 1_500;
    },
    () => `${label}: last peak ${last}`,
    15_000,
  );
}

/** A click in the page: the party's Web Audio mixes may start (as answering with a click does). */
async function clickInPage(): Promise<void> {
  const button = document.createElement('button');
  button.textContent = 'answer';
  document.body.append(button);
  await userEvent.click(button);
}

describe('supervising a call from the phone network', () => {
  it('the supervisor hears the far end through the browser party', async () => {
    await clickInPage();

    const alice = await connected('alice', 'calls:receive');
    const supervisor = await connected('sip-sup', 'calls:list,calls:assist');
    const { incoming } = await ringsFromTrunk(relay, alice, 8000);
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

  it('barging, the far end hears the supervisor, even with the agent muted; not once it whispers', async () => {
    await clickInPage();
    const far = await commands.startSippFar(relay.id, 'uas-echo');
    const agent = await connected('barge-agent', 'calls:dial,calls:sip', relay.tokenUrl);
    const supervisor = await connected('barge-sup', 'calls:list,calls:assist', relay.tokenUrl);
    const callId = agent.call(`sip:echo@${far.address}`);
    const call = () => agent.store.getState().calls[callId]!;
    await until(
      agent,
      (s) => s.calls[callId]?.state === 'active' && !!s.calls[callId]?.remoteStream,
      'the call is active',
      20_000,
    );
    agent.setAudioMuted(callId, true);
    const mic = call().localStream!.getAudioTracks()[0]!;
    const gateway = connections.find((pc) => pc.getSenders().some((s) => s.track === mic))!;
    expect(gateway).toBeDefined();
    const sent = () => gateway.getSenders().find((s) => s.track?.kind === 'audio')?.track;
    // sipp echoes what it receives: what comes back is what the far end heard.
    const echoed = loudness(call().remoteStream!, 'peak');
    await quiet(echoed, 0.01, 'muted, the far end hears nothing');

    const { calls } = await supervisor.listCalls({ resource: 'barge-agent' });
    expect(calls).toEqual([expect.objectContaining({ media: 'sip', state: 'active' })]);
    const serverId = calls[0]!.id;
    await supervisor.assist(serverId, 'barge');
    await until(
      agent,
      (s) => s.calls[callId]?.supervisors[0]?.mode === 'barge',
      'the agent sees the barge',
      15_000,
    );
    await poll(
      async () => sent() !== mic && sent()?.readyState === 'live',
      () => `the call sends ${sent()?.label ?? 'nothing'}`,
      15_000,
    );
    await loud(echoed, 0.05, 'the far end hears the barging supervisor');
    expect(mic.enabled).toBe(false);

    // A microphone switched during the barge is mixed in its place; still muted.
    const mics = (await navigator.mediaDevices.enumerateDevices()).filter(
      (d) => d.kind === 'audioinput',
    );
    await agent.switchDevice(callId, 'audioinput', mics.at(-1)!.deviceId);
    const switched = call().localStream!.getAudioTracks()[0]!;
    expect(switched).not.toBe(mic);
    expect(switched.enabled).toBe(false);
    expect([sent()?.readyState, sent() === switched]).toEqual(['live', false]);
    await loud(echoed, 0.05, 'the far end still hears the supervisor after the switch');

    // Whispering to the agent: the far end gets the (muted) microphone alone, silence.
    await supervisor.assist(serverId, 'whisper');
    await until(
      agent,
      (s) => s.calls[callId]?.supervisors[0]?.mode === 'whisper',
      'the agent sees the whisper',
      15_000,
    );
    await poll(
      async () => sent() === switched,
      () => `the call sends ${sent()?.label ?? 'nothing'}`,
      15_000,
    );
    await quiet(echoed, 0.01, 'the far end no longer hears the supervisor');
    expect(call().supervisors[0]).toMatchObject({ heard: true });

    agent.hangup(callId);
    await until(supervisor, (s) => s.assists[serverId]?.state === 'ended', 'the assist ends');
  }, 90_000);
});
