/**
 * Calls through the Relay's SIP gateway in Chromium: a real Janus with its SIP plugin and sipp as
 * the far ends and trunks (test/browser/sipCommands.ts, the scenarios in test/sipp), so media goes
 * both ways for real: the page's audio reaches sipp, which echoes it (uas-*) or plays a recording
 * (uac-inbound), and the page receives it. The signaling side of every SIP response is covered in
 * Node (test/server/sip.test.ts). Runs inside scripts/loopback.sh (its veth pair: Janus's SIP side
 * on 10.77.0.1, every sipp on 10.77.0.2).
 */
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { describe, expect, it } from 'vitest';
import { commands, userEvent } from 'vitest/browser';
import { Dialer, RelayProvider } from 'relaycall';
import { createRelayClient, type CallState, type RelayClient } from 'relaycall/core';
import { audioBytes, connections, poll, recordConnections } from './assistKit.js';
import { ringsFromTrunk, until } from './faultKit.js';
import { describeCall, fetchTestToken, relayPerFile, untilTrue, within } from './helpers.js';

const { relay, clients, cleanups } = relayPerFile(
  () => commands.startSipRelay(),
  (id) => commands.stopSipRelay(id),
);
// Every peer connection the page made, to read what each sent and received.
recordConnections();

async function connected(tokenUrl: string, resource: string, scopes: string) {
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  await client.connect(await fetchTestToken(tokenUrl, resource, scopes));
  return client;
}

/** Records every state the call goes through, from now on. */
function statesOf(client: RelayClient, callId: string): CallState[] {
  const seen: CallState[] = [];
  const note = () => {
    const state = client.store.getState().calls[callId]?.state;
    if (state && seen.at(-1) !== state) seen.push(state);
  };
  note();
  cleanups.push(client.store.subscribe(note));
  return seen;
}

/** The peer connection of the page's one call through the gateway. */
function gatewayConnection(): RTCPeerConnection {
  const open = connections.filter((pc) => pc.connectionState !== 'closed');
  expect(open).toHaveLength(1);
  return open[0]!;
}

/**
 * Resolves once `pc` is connected, DTLS included: the page's call is `active` once ICE connects,
 * which may be a moment before DTLS is done and the browser may send (and insert DTMF).
 */
function untilConnected(pc: RTCPeerConnection): Promise<void> {
  return poll(
    async () => pc.connectionState === 'connected',
    () => `connection ${pc.connectionState}, ICE ${pc.iceConnectionState}`,
    10_000,
  );
}

/**
 * Audio flows both ways on `pc`: it sends (bytesSent > 0) and what it receives keeps growing
 * (`growth` more bytes than at the first reading with any, i.e. not a burst that then stopped).
 */
async function audioFlows(pc: RTCPeerConnection, growth = 2_000): Promise<void> {
  let last = { sent: 0, received: 0 };
  let firstReceived = 0;
  await poll(
    async () => {
      last = await audioBytes(pc);
      if (firstReceived === 0) firstReceived = last.received;
      return last.sent > 0 && firstReceived > 0 && last.received >= firstReceived + growth;
    },
    () => `audio both ways: ${JSON.stringify(last)} (first received ${firstReceived})`,
    15_000,
  );
}

/** A `<Dialer>` in its own provider, connected as `resource` (calls:dial, calls:sip). */
async function connectedDialer(resource: string) {
  const host = document.createElement('div');
  document.body.append(host);
  const root = createRoot(host);
  cleanups.push(() => root.unmount());
  root.render(
    createElement(
      RelayProvider,
      {
        url: relay.url,
        fetchToken: () => fetchTestToken(relay.tokenUrl, resource, 'calls:dial,calls:sip'),
      },
      createElement(Dialer),
    ),
  );
  await untilTrue(() => host.querySelector('.relaycall-dialer') !== null, 'Dialer rendered');
  const dialer = host.querySelector<HTMLElement>('.relaycall-dialer')!;
  await untilTrue(() => dialer.dataset.connection === 'connected', 'Dialer connected', 10_000);
  return { host, dialer };
}

describe('calls through the SIP gateway in Chromium', () => {
  it('calls a sip: URI: active, audio both ways (sipp echoes it), BYE on hang-up', async () => {
    const far = await commands.startSippFar(relay.id, 'uas-echo');
    const alice = await connected(relay.tokenUrl, 'sip-alice', 'calls:dial,calls:sip');
    const callId = alice.call(`sip:echo@${far.address}`);
    const states = statesOf(alice, callId);
    const describeIt = describeCall(alice, callId);
    await until(alice, (s) => s.calls[callId]?.state === 'active', describeIt, 20_000);
    expect(alice.store.getState().calls[callId]).toMatchObject({
      gateway: 'sip',
      direction: 'outgoing',
      remote: `sip:echo@${far.address}`,
    });
    expect(states[0]).toBe('dialing');
    expect(states).toContain('ringing');

    await audioFlows(gatewayConnection());
    const during = await commands.sippResult(far.sippId);
    expect(during.messages).toMatch(/^INVITE sip:echo@/m);

    alice.hangup(callId);
    await until(alice, (s) => s.calls[callId]?.state === 'ended', describeIt, 10_000);
    const result = await commands.sippResult(far.sippId, { wait: true });
    expect(result.code).toBe(0);
    expect(result.messages).toMatch(/^BYE sip:/m);
    expect(result.rtpEchoed).toBeGreaterThan(0);
  }, 60_000);

  it('calls a phone number through the trunk: active, audio both ways', async () => {
    const alice = await connected(relay.tokenUrl, 'pstn-alice', 'calls:dial,calls:pstn');
    const callId = alice.call('+15557654321');
    const describeIt = describeCall(alice, callId);
    await until(alice, (s) => s.calls[callId]?.state === 'active', describeIt, 20_000);
    expect(alice.store.getState().calls[callId]).toMatchObject({
      gateway: 'pstn',
      direction: 'outgoing',
      remote: '+15557654321',
    });
    await audioFlows(gatewayConnection());
    alice.hangup(callId);
    await until(alice, (s) => s.calls[callId]?.state === 'ended', describeIt, 10_000);
    await poll(
      async () => (await commands.sipRelayStats(relay.id)).sip?.calls === 0,
      () => 'the gateway leg ended',
      10_000,
    );
  }, 60_000);

  it('answers a call from the trunk: gateway pstn, the caller number, its audio', async () => {
    const alice = await connected(relay.inboundTokenUrl, 'alice', 'calls:receive');
    const { caller, incoming } = await ringsFromTrunk(relay, alice, 5000);
    expect(incoming).toMatchObject({ gateway: 'pstn', remote: '+15557654321' });
    const describeIt = describeCall(alice, incoming.id);

    await alice.answer(incoming.id);
    await until(alice, (s) => s.calls[incoming.id]?.state === 'active', describeIt, 15_000);
    // The recording sipp plays (PCMA) arrives: what the page receives keeps growing.
    const pc = gatewayConnection();
    let last = { sent: 0, received: 0 };
    await poll(
      async () => (last = await audioBytes(pc)).received > 4_000,
      () => `the caller's audio: ${JSON.stringify(last)}`,
      15_000,
    );
    // sipp hangs up after hold_ms.
    await until(alice, (s) => s.calls[incoming.id]?.state === 'ended', describeIt, 20_000);
    expect(alice.store.getState().calls[incoming.id]?.endReason).toBe('hangup');
    const result = await commands.sippResult(caller.sippId, { wait: true });
    expect(result.finalStatuses).toEqual([200]);
    expect(result.code).toBe(0);
  }, 60_000);

  it('sends the Dialer keypad as SIP INFO when the far end offers no telephone-event', async () => {
    const far = await commands.startSippFar(relay.id, 'uas-dtmf-info');
    const { host, dialer } = await connectedDialer('dialer-dtmf');

    const target = `sip:dtmf@${far.address}`;
    await userEvent.fill(host.querySelector('.relaycall-dialer__input')!, target);
    await userEvent.click(host.querySelector('.relaycall-dialer__call')!);
    const status = () => dialer.querySelector('[role="status"]')?.textContent ?? '';
    await untilTrue(
      () => dialer.dataset.state === 'active' && status() === `In call with ${target}`,
      'in call',
      20_000,
    );
    // No telephone-event in the answer: the browser cannot play RFC 4733 tones.
    const pc = gatewayConnection();
    await untilConnected(pc);
    const sender = pc.getSenders().find((s) => s.track?.kind === 'audio');
    expect(sender?.dtmf?.canInsertDTMF).toBe(false);

    for (const key of ['Key 1', 'Key 2', 'Key pound']) {
      await userEvent.click(host.querySelector(`[aria-label="${key}"]`)!);
    }
    let dtmf = '';
    await poll(
      async () => (dtmf = (await commands.sippResult(far.sippId)).dtmf) === '12#',
      () => `sipp's INFO digits: ${JSON.stringify(dtmf)}`,
      10_000,
    );

    await userEvent.click(host.querySelector('.relaycall-dialer__hangup')!);
    await untilTrue(() => dialer.dataset.state === 'ended', 'call ended', 10_000);
    const result = await commands.sippResult(far.sippId, { wait: true });
    expect(result.dtmf).toBe('12#');
    expect(result.code).toBe(0);
  }, 60_000);

  it('plays the Dialer keypad as RFC 4733 tones when telephone-event is negotiated', async () => {
    const far = await commands.startSippFar(relay.id, 'uas-dtmf');
    const { host, dialer } = await connectedDialer('dialer-4733');
    await userEvent.fill(
      host.querySelector('.relaycall-dialer__input')!,
      `sip:dtmf@${far.address}`,
    );
    await userEvent.click(host.querySelector('.relaycall-dialer__call')!);
    await untilTrue(() => dialer.dataset.state === 'active', 'in call', 20_000);

    const pc = gatewayConnection();
    const atActive = `${pc.connectionState}/${pc.iceConnectionState}`;
    await untilConnected(pc);
    const dtmfSender = pc.getSenders().find((s) => s.track?.kind === 'audio')?.dtmf;
    expect(dtmfSender?.canInsertDTMF, `connection/ICE when active: ${atActive}`).toBe(true);
    const played: string[] = [];
    const done = new Promise<void>((resolve) => {
      dtmfSender!.addEventListener('tonechange', (event) => {
        if (event.tone) played.push(event.tone);
        else if (played.length === 3) resolve(); // '' once the buffer is played out
      });
    });
    for (const key of ['Key 1', 'Key 2', 'Key pound']) {
      await userEvent.click(host.querySelector(`[aria-label="${key}"]`)!);
    }
    await within(done, 10_000, `the three tones played (so far ${played.join('')})`);
    expect(played.join('')).toBe('12#');

    await userEvent.click(host.querySelector('.relaycall-dialer__hangup')!);
    await untilTrue(() => dialer.dataset.state === 'ended', 'call ended', 10_000);
    // In the media, not through the Relay: sipp got no INFO before the BYE.
    const result = await commands.sippResult(far.sippId, { wait: true });
    expect(result.code).toBe(0);
    expect(result.messages).not.toMatch(/^INFO /m);
    expect(result.dtmf).toBe('');
  }, 60_000);

  it('ends a sip: call as forbidden without calls:sip; no INVITE reaches sipp', async () => {
    const far = await commands.startSippFar(relay.id, 'uas-echo');
    const plain = await connected(relay.tokenUrl, 'no-sip', 'calls:dial');
    const callId = plain.call(`sip:echo@${far.address}`);
    const describeIt = describeCall(plain, callId);
    await until(plain, (s) => s.calls[callId]?.state === 'ended', describeIt, 10_000);
    expect(plain.store.getState().calls[callId]).toMatchObject({
      endReason: 'forbidden',
      gateway: 'sip',
    });
    expect(plain.store.getState().calls[callId]?.error?.message).toContain('calls:sip');
    expect((await commands.sipRelayStats(relay.id)).sip?.calls).toBe(0);
    expect((await commands.sippResult(far.sippId)).messages).not.toMatch(/INVITE/);
  }, 60_000);
});
