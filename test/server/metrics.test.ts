import { afterEach, describe, expect, it } from 'vitest';
import { createRelayServer } from 'relaycall/server';
import { activeCall, basic, refusal, rest, startRelay, type TestRelay } from './helpers.js';

/** An exposition, parsed: sample values by series (`name{label="value",…}`, labels sorted) and metric types. */
interface Exposition {
  samples: Map<string, number>;
  types: Map<string, string>;
}

function series(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => `${label}=${JSON.stringify(value)}`);
  return pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`;
}

/** Parses Prometheus's text format 0.0.4; throws on a line that is not part of it. */
function parseExposition(text: string): Exposition {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const helped = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][\w:]*) (.+)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (kind === 'TYPE') types.set(name, rest);
      else helped.add(name);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`Not an exposition line: ${line}`);
    const [, name = '', labelText = '', value = ''] = sample;
    const labels: Record<string, string> = {};
    for (const [, label = '', quoted = ''] of labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label] = JSON.parse(`"${quoted}"`) as string;
    }
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(name) && !types.has(family)) throw new Error(`${name} has no # TYPE line`);
    if (!helped.has(name) && !helped.has(family)) throw new Error(`${name} has no # HELP line`);
    samples.set(series(name, labels), value === '+Inf' ? Infinity : Number(value));
  }
  return { samples, types };
}

async function scrape(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/metrics`, { headers });
  return {
    status: response.status,
    headers: response.headers,
    text: await response.text(),
  };
}

async function metricsOf(url: string, headers: Record<string, string> = {}) {
  const scraped = await scrape(url, headers);
  expect(scraped.status).toBe(200);
  const { samples, types } = parseExposition(scraped.text);
  return {
    types,
    value: (name: string, labels?: Record<string, string>) => samples.get(series(name, labels)),
  };
}

let t: TestRelay | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('GET /metrics', () => {
  it('serves sessions, calls, messages, refusals and store latency to a scrape', async () => {
    t = await startRelay({ metrics: true });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const callId = await activeCall(alice, bob, 'bob');
    await refusal(alice.call('call.answer', { callId: 'no-such-call' }));
    const wrong = basic({ id: 'acme', token: 'not-the-token-0123456789' });
    expect((await rest(t.url, 'POST', { resource: 'eve' }, wrong)).status).toBe(401);

    const scraped = await scrape(t.url);
    expect(scraped.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const during = await metricsOf(t.url);
    expect(during.types.get('relaycall_sessions')).toBe('gauge');
    expect(during.types.get('relaycall_messages_received_total')).toBe('counter');
    expect(during.types.get('relaycall_store_seconds')).toBe('histogram');
    expect(during.value('relaycall_sessions')).toBe(2);
    expect(during.value('relaycall_sockets')).toBe(2);
    expect(during.value('relaycall_calls')).toBe(1);
    expect(during.value('relaycall_rooms')).toBe(0);
    expect(during.value('relaycall_sessions_opened_total')).toBe(2);
    expect(during.value('relaycall_calls_started_total')).toBe(1);
    // relay.connect twice, call.invite, call.answer, and the refused call.answer.
    expect(during.value('relaycall_messages_received_total')).toBe(5);
    // Their five replies, and call.incoming, call.ringing and call.answered at least.
    expect(during.value('relaycall_messages_sent_total')).toBeGreaterThanOrEqual(8);
    expect(
      during.value('relaycall_refusals_total', { api: 'signaling', code: 'call_not_found' }),
    ).toBe(1);
    expect(during.value('relaycall_refusals_total', { api: 'rest', code: 'unauthorized' })).toBe(1);
    expect(during.value('relaycall_rest_requests_total', { status: '201' })).toBe(2);
    expect(during.value('relaycall_rest_requests_total', { status: '401' })).toBe(1);
    // The first scrape counts once it is answered.
    expect(during.value('relaycall_rest_requests_total', { status: '200' })).toBe(1);
    // A token family per token issued; each relay.connect reads its family.
    const created = { operation: 'createFamily' };
    expect(during.value('relaycall_store_seconds_count', created)).toBe(2);
    expect(during.value('relaycall_store_seconds_bucket', { ...created, le: '+Inf' })).toBe(2);
    expect(during.value('relaycall_store_seconds_sum', created)).toBeGreaterThanOrEqual(0);
    expect(during.value('relaycall_store_seconds_count', { operation: 'getFamily' })).toBe(2);
    expect(during.value('relaycall_process_resident_memory_bytes')).toBeGreaterThan(0);

    await alice.call('call.hangup', { callId });
    const after = await metricsOf(t.url);
    expect(after.value('relaycall_calls')).toBe(0);
    expect(after.value('relaycall_calls_ended_total', { reason: 'hangup' })).toBe(1);
    expect(t.relay.metrics()).toContain('relaycall_calls_ended_total{reason="hangup"} 1\n');
  });

  it('answers 404 when metrics are not enabled; relay.metrics() renders them still', async () => {
    t = await startRelay();
    const scraped = await scrape(t.url);
    expect(scraped.status).toBe(404);
    expect(JSON.parse(scraped.text)).toMatchObject({ error: { code: 'not_found' } });
    expect(t.relay.metrics()).toMatch(/^relaycall_sessions 0$/m);
  });

  it('answers 401 without the bearer token, and serves the metrics with it', async () => {
    const token = 'metrics-token-0123456789abcdef';
    t = await startRelay({ metrics: { bearerToken: token } });
    const missing = await scrape(t.url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(JSON.parse(missing.text)).toMatchObject({
      error: { code: 'unauthorized', message: expect.stringContaining('Authorization: Bearer') },
    });
    expect((await scrape(t.url, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(
      401,
    );
    const served = await metricsOf(t.url, { authorization: `Bearer ${token}` });
    expect(served.value('relaycall_refusals_total', { api: 'rest', code: 'unauthorized' })).toBe(2);
    expect(served.value('relaycall_rest_requests_total', { status: '401' })).toBe(2);
  });

  it('refuses a bearer token shorter than 16 characters at creation', async () => {
    await expect(createRelayServer({ metrics: { bearerToken: 'short' } })).rejects.toThrow(
      /at least 16 characters/,
    );
  });
});
