/**
 * Supervision in Chromium (issue 16): an agent and a customer in a call between two clients of
 * the page, and a supervisor client assisting it through a real Relay. What each side sends and
 * receives is read from the links' own statistics (getStats), with the fake microphone of
 * Chromium (a beep) as the audio.
 */
import { describe, expect, it } from 'vitest';
import {
  createRelayClient,
  type AssistSnapshot,
  type CallSnapshot,
  type RelayClient,
} from 'relaycall/core';
import { until } from './faultKit.js';
import { fetchTestToken, relayPerFile, ringingCall, within } from './helpers.js';
import {
  audioBytes,
  connections,
  monitorsOnly,
  receives,
  recordConnections,
  whispersToAgentOnly,
} from './assistKit.js';

const { relay, clients } = relayPerFile();
recordConnections();

async function connected(resource: string, scopes?: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  clients.push(client);
  await client.connect(await fetchTestToken(relay.tokenUrl, resource, scopes));
  return client;
}

/** The customer calls the agent, who answers: both active. Returns the Relay's call id too. */
async function activeCall(agentName: string, customerName: string, supervisor: RelayClient) {
  const agent = await connected(agentName);
  const customer = await connected(customerName);
  const customerCall = customer.call(agentName, { video: false });
  const ringing = ringingCall(await until(agent, (s) => !!ringingCall(s), 'the agent rings'))!;
  await agent.answer(ringing.id, { video: false });
  await until(customer, (s) => s.calls[customerCall]?.state === 'active', 'customer active');
  await until(agent, (s) => s.calls[ringing.id]?.state === 'active', 'agent active');
  const listed = await supervisor.listCalls({ resource: agentName });
  expect(listed.calls).toHaveLength(1);
  const record = listed.calls[0]!;
  expect(record).toMatchObject({ kind: 'call', state: 'active' });
  return { agent, customer, agentCall: ringing.id, customerCall, callId: record.id };
}

const callOf = (client: RelayClient, id: string) =>
  client.store.getState().calls[id] as CallSnapshot;
const assistOf = (client: RelayClient, callId: string) =>
  client.store.getState().assists[callId] as AssistSnapshot;

/** A party's link with the supervisor: not its call's (no data channel), sending its mic. */
function partyLink(client: RelayClient, callId: string): RTCPeerConnection {
  const mic = callOf(client, callId).localStream?.getAudioTracks()[0];
  const pc = connections.find(
    (c) =>
      c.connectionState !== 'closed' &&
      c.sctp === null &&
      c.getSenders().some((s) => s.track !== null && s.track === mic),
  );
  if (!pc) throw new Error(`no supervisor link on the party of call ${callId}`);
  return pc;
}

describe('supervisors assisting a call between two browsers', () => {
  it('monitors, whispers to the agent, barges in and leaves while the call goes on', async () => {
    const supervisor = await connected('sup-1', 'calls:list,calls:assist');
    const { agent, customer, agentCall, customerCall, callId } = await activeCall(
      'agent-1',
      'customer-1',
      supervisor,
    );

    // (a) Monitor: the supervisor hears both parties and sends nothing.
    const monitored = await supervisor.assist(callId, 'monitor');
    expect(monitored).toMatchObject({ callId, mode: 'monitor', state: 'assisting' });
    expect(monitored.parties.map((p) => p.resource).sort()).toEqual(['agent-1', 'customer-1']);
    await until(
      supervisor,
      (s) => !!s.assists[callId]?.parties.every((p) => p.connected && p.stream),
      () => `links up: ${JSON.stringify(assistOf(supervisor, callId).parties)}`,
      15_000,
    );
    const [toAgent, toCustomer] = await monitorsOnly(supervisor, callId, 'agent-1', 'customer-1');

    // (e) The parties see a listening supervisor, and get no stream of it to play.
    const listening = { resource: 'sup-1', mode: 'monitor', heard: false, stream: null };
    await until(agent, (s) => s.calls[agentCall]?.supervisors.length === 1, 'agent sees it');
    await until(customer, (s) => s.calls[customerCall]?.supervisors.length === 1, 'customer too');
    expect(callOf(agent, agentCall).supervisors[0]).toMatchObject(listening);
    expect(callOf(customer, customerCall).supervisors[0]).toMatchObject(listening);
    const atAgent = partyLink(agent, agentCall);
    const atCustomer = partyLink(customer, customerCall);
    expect((await audioBytes(atAgent)).received).toBe(0);
    expect((await audioBytes(atCustomer)).received).toBe(0);

    // (b) Whisper to the agent: the agent's link receives the supervisor, the customer's not.
    const whispering = await supervisor.assist(callId, 'whisper', { agent: 'agent-1' });
    const agentId = whispering.parties.find((p) => p.resource === 'agent-1')!.participantId;
    await whispersToAgentOnly(whispering, agentId, { toAgent, toCustomer, atAgent, atCustomer });
    await until(
      agent,
      (s) => s.calls[agentCall]?.supervisors[0]?.mode === 'whisper',
      'agent sees the whisper',
    );
    expect(callOf(agent, agentCall).supervisors[0]).toMatchObject({
      mode: 'whisper',
      agent: agentId,
      heard: true,
    });
    await until(agent, (s) => !!s.calls[agentCall]?.supervisors[0]?.stream, 'whisper stream');
    await until(
      customer,
      (s) => s.calls[customerCall]?.supervisors[0]?.mode === 'whisper',
      'customer sees the whisper',
    );
    expect(callOf(customer, customerCall).supervisors[0]).toMatchObject({
      heard: false,
      stream: null,
    });

    // (c) Barge: both parties hear the supervisor.
    await supervisor.assist(callId, 'barge');
    await receives(atCustomer, 'the customer hears the barge');
    const agentBefore = (await audioBytes(atAgent)).received;
    await receives(atAgent, 'the agent still hears it', agentBefore);
    for (const [client, id] of [
      [agent, agentCall],
      [customer, customerCall],
    ] as const) {
      await until(client, (s) => s.calls[id]?.supervisors[0]?.mode === 'barge', 'barge shown');
      await until(client, (s) => !!s.calls[id]?.supervisors[0]?.stream, 'barge stream');
      expect(callOf(client, id).supervisors[0]).toMatchObject({ mode: 'barge', heard: true });
    }

    // (f) The supervisor leaves: the parties' lists empty, the call goes on.
    const mic = assistOf(supervisor, callId).localStream!.getAudioTracks()[0]!;
    supervisor.stopAssist(callId);
    expect(assistOf(supervisor, callId)).toMatchObject({ state: 'ended', localStream: null });
    expect(mic.readyState).toBe('ended');
    await until(agent, (s) => s.calls[agentCall]?.supervisors.length === 0, 'agent: none');
    await until(customer, (s) => s.calls[customerCall]?.supervisors.length === 0, 'customer: none');
    await until(agent, () => atAgent.connectionState === 'closed', 'agent link closed');
    expect(callOf(agent, agentCall).state).toBe('active');
    expect(callOf(customer, customerCall).state).toBe('active');
    expect(toAgent.connectionState).toBe('closed');

    // The call ending ends an assist too.
    await supervisor.assist(callId, 'monitor');
    await until(agent, (s) => s.calls[agentCall]?.supervisors.length === 1, 'assisted again');
    customer.hangup(customerCall);
    await until(supervisor, (s) => s.assists[callId]?.state === 'ended', 'the assist ends');
    expect(assistOf(supervisor, callId).error).toBeNull();
  });

  it('refuses a token without calls:assist, and whisper to a calls:monitor-only token', async () => {
    const lister = await connected('sup-2', 'calls:list');
    const { agentCall, agent, callId } = await activeCall('agent-2', 'customer-2', lister);
    await expect(lister.assist(callId, 'monitor')).rejects.toMatchObject({ code: 'forbidden' });
    expect(assistOf(lister, callId)).toMatchObject({
      state: 'ended',
      error: { code: 'forbidden' },
    });

    const monitorOnly = await connected('sup-3', 'calls:monitor');
    const whisper = monitorOnly.assist(callId, 'whisper', { agent: 'agent-2' });
    await expect(whisper).rejects.toMatchObject({ code: 'forbidden' });
    expect(((await whisper.catch((e: unknown) => e)) as Error).message).toMatch(/calls:assist/);
    // Monitoring is what it may do.
    await expect(monitorOnly.assist(callId, 'monitor')).resolves.toMatchObject({
      state: 'assisting',
    });
    await until(agent, (s) => s.calls[agentCall]?.supervisors[0]?.mode === 'monitor', 'shown');
    monitorOnly.stopAssist(callId);
    await until(agent, (s) => s.calls[agentCall]?.supervisors.length === 0, 'gone');
  });

  it('joins once on a double click, and the second request gets the same assist', async () => {
    const supervisor = await connected('sup-4', 'calls:list,calls:assist');
    const { agent, agentCall, callId } = await activeCall('agent-4', 'customer-4', supervisor);
    const [first, second] = await within(
      Promise.all([supervisor.assist(callId, 'monitor'), supervisor.assist(callId, 'monitor')]),
      10_000,
      'two clicks',
    );
    expect(second).toBe(first);
    await until(agent, (s) => s.calls[agentCall]?.supervisors.length === 1, 'one supervisor');
    supervisor.stopAssist(callId);
  });
});
