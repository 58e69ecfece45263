/**
 * Supervisors: listing a project's ongoing calls (calls.list, calls.watch, GET /calls) and
 * joining one as a supervisor (call.assist: monitor, whisper, barge), on a real Relay.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRestClient, type AssistRecord, type CallRecord } from 'relaycall/server';
import {
  OTHER_PROJECT,
  PROJECT,
  activeCall,
  basic,
  refusal,
  startRelay,
  type TestClient,
  type TestRelay,
} from './helpers.js';

let relay: TestRelay;
const audit: AssistRecord[] = [];
beforeEach(async () => {
  audit.length = 0;
  relay = await startRelay({ onAssist: (record) => audit.push(record) });
});
afterEach(() => relay.close());

const SUPERVISOR = ['calls:list', 'calls:assist'];

async function listCalls(client: TestClient, params: Record<string, unknown> = {}) {
  return (await client.call('calls.list', params)) as { calls: CallRecord[]; truncated: boolean };
}

async function getCalls(query = '', project = PROJECT) {
  const response = await fetch(`${relay.url}/api/relay/rest/calls${query}`, {
    headers: { authorization: basic(project) },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('listing calls', () => {
  it('lists the project’s calls and rooms with participants, states and start times', async () => {
    const agent = await relay.connect('agent');
    const customer = await relay.connect('customer');
    const other = await relay.connect('carol');
    const supervisor = await relay.connect('sup', { scopes: SUPERVISOR });
    relay.clock.advance(1_000);
    const { callId: ringing } = (await other
      .call('call.invite', { to: 'nobody-home' })
      .catch(() => ({ callId: undefined }))) as { callId?: string };
    expect(ringing).toBeUndefined(); // nobody to ring: no call
    const callId = await activeCall(customer, agent, 'agent');
    const roomer = await relay.connect('roomer', { scopes: ['rooms:join'] });
    await roomer.call('room.join', { name: 'standup' });

    const { calls, truncated } = await listCalls(supervisor);
    expect(truncated).toBe(false);
    expect(calls).toHaveLength(2);
    const call = calls.find((c) => c.id === callId);
    expect(call).toMatchObject({
      kind: 'call',
      media: 'p2p',
      state: 'active',
      startedAt: relay.clock.now(),
      answeredAt: relay.clock.now(),
      assists: [],
    });
    expect(call?.participants.map((p) => [p.resource, p.role, p.state])).toEqual([
      ['customer', 'caller', 'joined'],
      ['agent', 'callee', 'joined'],
    ]);
    expect(calls.find((c) => c.kind === 'room')).toMatchObject({
      name: 'standup',
      media: 'mesh',
      state: 'active',
      participants: [{ resource: 'roomer', role: 'participant', state: 'joined' }],
    });
  });

  it('filters by resource and state, and never lists another project’s calls', async () => {
    const agent = await relay.connect('agent');
    const customer = await relay.connect('customer');
    const carol = await relay.connect('carol');
    const dave = await relay.connect('dave');
    const supervisor = await relay.connect('sup', { scopes: ['calls:list'] });
    const active = await activeCall(customer, agent, 'agent');
    relay.clock.advance(1_000); // listed oldest first
    const { callId: ringing } = (await carol.call('call.invite', { to: 'dave' })) as {
      callId: string;
    };
    await dave.next('call.incoming');
    const elsewhere = await relay.connect('agent', { project: OTHER_PROJECT });
    const elsewhereCaller = await relay.connect('x', { project: OTHER_PROJECT });
    await activeCall(elsewhereCaller, elsewhere, 'agent');

    const ids = async (params: Record<string, unknown>) =>
      (await listCalls(supervisor, params)).calls.map((c) => c.id);
    expect(await ids({})).toEqual([active, ringing]);
    expect(await ids({ resource: 'agent' })).toEqual([active]);
    expect(await ids({ state: 'ringing' })).toEqual([ringing]);
    expect(await ids({ state: 'active', resource: 'dave' })).toEqual([]);
    const bad = await refusal(supervisor.call('calls.list', { state: 'over' }));
    expect(bad.code).toBe('invalid_params');

    // REST: the same list, with the project's credentials.
    const listed = await getCalls('?resource=agent');
    expect(listed.status).toBe(200);
    expect((listed.json.calls as CallRecord[]).map((c) => c.id)).toEqual([active]);
    expect((await getCalls('?state=done')).status).toBe(400);
    expect((await getCalls('?sort=x')).status).toBe(400);
    const other = await getCalls('', OTHER_PROJECT);
    expect((other.json.calls as CallRecord[]).map((c) => c.participants[1]?.resource)).toEqual([
      'agent',
    ]);
    const unauthenticated = await fetch(`${relay.url}/api/relay/rest/calls`);
    expect(unauthenticated.status).toBe(401);
    const wrongMethod = await fetch(`${relay.url}/api/relay/rest/calls`, {
      method: 'POST',
      headers: { authorization: basic(PROJECT) },
    });
    expect(wrongMethod.status).toBe(405);
    // The back end's REST client.
    const client = createRestClient({ url: relay.url, project: PROJECT.id, token: PROJECT.token });
    expect((await client.listCalls({ state: 'ringing' })).calls.map((c) => c.id)).toEqual([
      ringing,
    ]);
    // In process.
    expect((await relay.relay.listCalls(PROJECT.id)).calls).toHaveLength(2);
  });

  it('needs calls:list to list or watch', async () => {
    const plain = await relay.connect('plain');
    expect((await refusal(plain.call('calls.list', {}))).code).toBe('forbidden');
    const watch = await refusal(plain.call('calls.watch', {}));
    expect(watch.code).toBe('forbidden');
    expect(watch.message).toContain('calls:list');
  });

  it('watches: calls.updated for every change of a matching call, and its end', async () => {
    const supervisor = await relay.connect('sup', { scopes: ['calls:list'] });
    const { calls } = (await supervisor.call('calls.watch', { resource: 'agent' })) as {
      calls: CallRecord[];
    };
    expect(calls).toEqual([]);
    const agent = await relay.connect('agent');
    const customer = await relay.connect('customer');
    const other = await relay.connect('other');
    const otherCallee = await relay.connect('callee');
    const { callId } = (await customer.call('call.invite', { to: 'agent' })) as {
      callId: string;
    };
    const ringing = await supervisor.next('calls.updated');
    expect(ringing).toMatchObject({ ended: false, call: { id: callId, state: 'ringing' } });
    // A call without the agent is not told to this watcher.
    await activeCall(other, otherCallee, 'callee');
    await agent.next('call.incoming');
    await agent.call('call.answer', { callId });
    const active = await supervisor.next('calls.updated');
    expect(active).toMatchObject({ ended: false, call: { id: callId, state: 'active' } });
    await customer.call('call.hangup', { callId });
    const ended = await supervisor.next('calls.updated');
    expect(ended).toMatchObject({ ended: true, call: { id: callId } });
    await supervisor.call('calls.unwatch', {});
    // Watching ringing calls: a call that is answered is told once more, as it leaves the filter.
    const { callId: second } = (await customer.call('call.invite', { to: 'agent' })) as {
      callId: string;
    };
    await agent.next('call.incoming', (p) => p.callId === second);
    await supervisor.call('calls.watch', { state: 'ringing' });
    await agent.call('call.answer', { callId: second });
    expect(await supervisor.next('calls.updated')).toMatchObject({
      ended: false,
      call: { id: second, state: 'active' },
    });
    await customer.call('call.hangup', { callId: second });
    await supervisor.call('calls.unwatch', {});
    await activeCall(customer, agent, 'agent');
    // Settled: every event of the calls above reached this socket before the next reply. None
    // is left: neither the call without the agent nor the one after unwatching was told.
    await supervisor.call('relay.ping', {});
    expect(supervisor.notifications.filter((n) => n.method === 'calls.updated')).toEqual([]);
  });
});

describe('assisting a call', () => {
  async function assisted() {
    const agent = await relay.connect('agent');
    const customer = await relay.connect('customer');
    const supervisor = await relay.connect('sup', { scopes: SUPERVISOR });
    const callId = await activeCall(customer, agent, 'agent');
    return { agent, customer, supervisor, callId };
  }

  it('monitor: the supervisor joins, every party is told, and signals go between supervisor and each party', async () => {
    const { agent, customer, supervisor, callId } = await assisted();
    const result = (await supervisor.call('call.assist', { callId, mode: 'monitor' })) as {
      participantId: string;
      parties: { participantId: string; resource: string }[];
    };
    expect(result.parties.map((p) => p.resource)).toEqual(['customer', 'agent']);
    const told = await agent.next('call.assisted');
    expect(told.supervisors).toEqual([
      {
        participantId: result.participantId,
        resource: 'sup',
        mode: 'monitor',
        since: relay.clock.now(),
      },
    ]);
    const agentId = result.parties[1]?.participantId;
    expect(told.participantId).toBe(agentId);
    expect((await customer.next('call.assisted')).participantId).toBe(
      result.parties[0]?.participantId,
    );
    expect((await supervisor.next('call.assisted')).participantId).toBe(result.participantId);

    // Supervisor → agent, and back.
    await supervisor.call('call.signal', { callId, to: agentId, signal: { type: 'offer' } });
    expect(await agent.next('call.signal', (p) => p.from !== undefined)).toMatchObject({
      from: result.participantId,
      signal: { type: 'offer' },
    });
    await agent.call('call.signal', {
      callId,
      to: result.participantId,
      signal: { type: 'answer' },
    });
    expect(await supervisor.next('call.signal')).toMatchObject({
      from: agentId,
      signal: { type: 'answer' },
    });
    // The parties' own signals are untouched.
    await agent.call('call.signal', { callId, signal: { n: 1 } });
    const plain = await customer.next('call.signal');
    expect(plain).toEqual({ seq: plain.seq, callId, signal: { n: 1 } });
    // A supervisor must name a party; nobody signals a supervisor it is not.
    const noTo = await refusal(supervisor.call('call.signal', { callId, signal: {} }));
    expect(noTo.code).toBe('invalid_params');
    const toSelf = await refusal(
      agent.call('call.signal', { callId, to: result.parties[0]?.participantId, signal: {} }),
    );
    expect(toSelf.code).toBe('invalid_params');

    // Listed with the call, and reported for the audit.
    const { calls } = await listCalls(supervisor);
    expect(calls[0]?.participants.map((p) => [p.resource, p.role, p.assist])).toEqual([
      ['customer', 'caller', undefined],
      ['agent', 'callee', undefined],
      ['sup', 'supervisor', 'monitor'],
    ]);
    expect(calls[0]?.assists).toEqual([
      { by: 'sup', participantId: result.participantId, mode: 'monitor', at: relay.clock.now() },
    ]);
    expect(audit).toEqual([
      {
        projectId: PROJECT.id,
        callId,
        by: 'sup',
        participantId: result.participantId,
        mode: 'monitor',
        at: relay.clock.now(),
      },
    ]);
  });

  it('whisper names its agent; barge; leaving keeps the call; the audit keeps every mode', async () => {
    const { agent, customer, supervisor, callId } = await assisted();
    const needsAgent = await refusal(supervisor.call('call.assist', { callId, mode: 'whisper' }));
    expect(needsAgent.code).toBe('invalid_params');
    expect(needsAgent.message).toContain('agent');
    const stranger = await refusal(
      supervisor.call('call.assist', { callId, mode: 'whisper', agent: 'stranger' }),
    );
    expect(stranger.code).toBe('invalid_params');
    const whisper = (await supervisor.call('call.assist', {
      callId,
      mode: 'whisper',
      agent: 'agent',
    })) as { participantId: string; parties: { participantId: string }[] };
    const agentId = whisper.parties[1]?.participantId;
    expect((await customer.next('call.assisted')).supervisors).toMatchObject([
      { mode: 'whisper', agent: agentId },
    ]);
    relay.clock.advance(5_000);
    const barge = (await supervisor.call('call.assist', { callId, mode: 'barge' })) as {
      participantId: string;
    };
    expect(barge.participantId).toBe(whisper.participantId);
    const bargeTold = await agent.next(
      'call.assisted',
      (p) => (p.supervisors as { mode: string }[])[0]?.mode === 'barge',
    );
    expect(bargeTold.supervisors).toEqual([
      {
        participantId: barge.participantId,
        resource: 'sup',
        mode: 'barge',
        since: relay.clock.now(),
      },
    ]);
    relay.clock.advance(5_000);
    await supervisor.call('call.hangup', { callId });
    const left = await agent.next(
      'call.assisted',
      (p) => (p.supervisors as unknown[]).length === 0,
    );
    expect(left.supervisors).toEqual([]);
    // The call goes on.
    await customer.call('call.signal', { callId, signal: { still: true } });
    expect((await agent.next('call.signal', (p) => p.from === undefined)).signal).toEqual({
      still: true,
    });
    const [call] = (await listCalls(supervisor)).calls;
    expect(call?.participants.map((p) => p.resource)).toEqual(['customer', 'agent']);
    const start = relay.clock.now() - 10_000;
    expect(call?.assists).toEqual([
      {
        by: 'sup',
        participantId: barge.participantId,
        mode: 'whisper',
        at: start,
        until: start + 5_000,
      },
      {
        by: 'sup',
        participantId: barge.participantId,
        mode: 'barge',
        at: start + 5_000,
        until: start + 10_000,
      },
    ]);
    expect(audit.map((a) => [a.mode, a.agent])).toEqual([
      ['whisper', agentId],
      ['barge', undefined],
    ]);
  });

  it('the call ending ends it for its supervisors; a supervisor’s session ending only makes it leave', async () => {
    const { agent, customer, supervisor, callId } = await assisted();
    await supervisor.call('call.assist', { callId, mode: 'monitor' });
    const second = await relay.connect('sup2', { scopes: ['calls:monitor'] });
    await second.call('call.assist', { callId, mode: 'monitor' });
    await agent.next('call.assisted', (p) => (p.supervisors as unknown[]).length === 2);
    second.ws.terminate();
    relay.clock.advance(60_000); // past the resume grace
    await agent.next('call.assisted', (p) => (p.supervisors as unknown[]).length === 1);
    await customer.call('call.hangup', { callId });
    expect(await supervisor.next('call.ended')).toMatchObject({ callId, reason: 'hangup' });
    expect((await agent.next('call.ended')).reason).toBe('hangup');
  });

  it('refuses: no scope, a mode the token lacks, another project, unanswered, parties, unknown modes', async () => {
    const { agent, customer, callId } = await assisted();
    const plain = await relay.connect('plain', { scopes: ['calls:list'] });
    const noScope = await refusal(plain.call('call.assist', { callId, mode: 'monitor' }));
    expect(noScope.code).toBe('forbidden');
    expect(noScope.message).toContain('calls:monitor');
    const monitorOnly = await relay.connect('listener', { scopes: ['calls:monitor'] });
    const barge = await refusal(monitorOnly.call('call.assist', { callId, mode: 'barge' }));
    expect(barge.code).toBe('forbidden');
    expect(barge.message).toContain('calls:assist');
    expect(await monitorOnly.call('call.assist', { callId, mode: 'monitor' })).toMatchObject({
      callId,
    });
    const foreign = await relay.connect('sup', { scopes: SUPERVISOR, project: OTHER_PROJECT });
    const elsewhere = await refusal(foreign.call('call.assist', { callId, mode: 'monitor' }));
    expect(elsewhere.code).toBe('call_not_found');
    const party = await refusal(
      (await relay.connect('agent', { scopes: SUPERVISOR })).call('call.assist', {
        callId: 'no-such-call',
        mode: 'monitor',
      }),
    );
    expect(party.code).toBe('call_not_found');
    const self = await relay.connect('self', { scopes: ['calls:dial', ...SUPERVISOR] });
    const ring = await relay.connect('ringee');
    const { callId: ringing } = (await self.call('call.invite', { to: 'ringee' })) as {
      callId: string;
    };
    await ring.next('call.incoming');
    const sup = await relay.connect('sup', { scopes: SUPERVISOR });
    const unanswered = await refusal(sup.call('call.assist', { callId: ringing, mode: 'monitor' }));
    expect(unanswered.code).toBe('invalid_state');
    await ring.call('call.answer', { callId: ringing });
    const own = await refusal(self.call('call.assist', { callId: ringing, mode: 'monitor' }));
    expect(own.code).toBe('invalid_state');
    const mode = await refusal(sup.call('call.assist', { callId, mode: 'spy' }));
    expect(mode.code).toBe('invalid_params');
    void agent;
    void customer;
  });
});

describe('assisting a room', () => {
  it('joins as a participant carrying its mode: room.joined, room.signal, room.updated, room.left, call.assisted', async () => {
    const scopes = ['rooms:join'];
    const agent = await relay.connect('agent', { scopes });
    const customer = await relay.connect('customer', { scopes });
    const a = (await agent.call('room.join', { name: 'desk' })) as {
      roomId: string;
      participantId: string;
    };
    await customer.call('room.join', { name: 'desk' });
    await agent.next('room.joined');
    // Supervisors need no rooms:join: their assist scope lets them in.
    const supervisor = await relay.connect('sup', { scopes: SUPERVISOR });
    const { calls } = await listCalls(supervisor, { resource: 'agent' });
    expect(calls[0]).toMatchObject({ id: a.roomId, kind: 'room', name: 'desk' });
    const result = (await supervisor.call('call.assist', {
      callId: a.roomId,
      mode: 'whisper',
      agent: 'agent',
    })) as {
      participantId: string;
      parties: { resource: string }[];
      room: { roomId: string; participants: { resource: string; assist?: string }[] };
    };
    expect(result.parties.map((p) => p.resource)).toEqual(['agent', 'customer']);
    expect(result.room.roomId).toBe(a.roomId);
    expect(result.room.participants.map((p) => [p.resource, p.assist])).toEqual([
      ['agent', undefined],
      ['customer', undefined],
      ['sup', 'whisper'],
    ]);
    expect(await customer.next('room.joined')).toMatchObject({
      participant: { resource: 'sup', assist: 'whisper', agent: a.participantId },
    });
    expect((await agent.next('call.assisted')).supervisors).toMatchObject([
      { mode: 'whisper', agent: a.participantId },
    ]);
    // Mesh: signals go between supervisor and participants as between any participants.
    await supervisor.call('room.signal', {
      roomId: a.roomId,
      to: a.participantId,
      signal: { type: 'offer' },
    });
    expect(await agent.next('room.signal')).toMatchObject({ from: result.participantId });
    await supervisor.call('call.assist', { callId: a.roomId, mode: 'barge' });
    expect(await customer.next('room.updated')).toMatchObject({
      participant: { resource: 'sup', assist: 'barge' },
    });
    await supervisor.call('room.leave', { roomId: a.roomId });
    expect(await customer.next('room.left')).toMatchObject({
      participant: { resource: 'sup' },
      reason: 'left',
    });
    await customer.next('call.assisted', (p) => (p.supervisors as unknown[]).length === 0);
    const [room] = (await listCalls(supervisor)).calls;
    expect(room?.participants.map((p) => p.resource)).toEqual(['agent', 'customer']);
    expect(room?.assists.map((e) => [e.mode, e.until !== undefined])).toEqual([
      ['whisper', true],
      ['barge', true],
    ]);
    // A participant cannot also supervise its room.
    const boss = await relay.connect('boss', { scopes: [...scopes, ...SUPERVISOR] });
    await boss.call('room.join', { name: 'desk' });
    const own = await refusal(boss.call('call.assist', { callId: a.roomId, mode: 'monitor' }));
    expect(own.code).toBe('invalid_state');
  });
});
