import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  MemoryStore,
  jsonLogger,
  textLogger,
  type LogFields,
  type RelayLogger,
} from 'relaycall/server';
import {
  ManualClock,
  activeCall,
  basic,
  connectWith,
  refusal,
  rest,
  startRelay,
  until,
  type TestClient,
  type TestRelay,
} from './helpers.js';

interface Entry {
  level: 'info' | 'warn' | 'error';
  event: string;
  fields: LogFields;
}

/** A logger that keeps what it is told. */
function collector(): RelayLogger & { entries: Entry[]; named(event: string): Entry[] } {
  const entries: Entry[] = [];
  const keep =
    (level: Entry['level']) =>
    (event: string, fields: LogFields = {}) =>
      void entries.push({ level, event, fields });
  return {
    entries,
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
    named: (event) => entries.filter((entry) => entry.event === event),
  };
}

/** A fixed instant for the loggers' lines. */
const AT = { now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 6) };

let t: TestRelay | undefined;
const sockets: TestClient[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await t?.close();
  t = undefined;
});

/** Connects `resource` with a fresh token; resolves the client and its session id. */
async function session(relay: TestRelay, resource: string) {
  const pair = await relay.token({ resource });
  const { client, result } = await connectWith(relay.wsUrl, {
    project: 'acme',
    token: pair.jwt_token,
  });
  sockets.push(client);
  return { client, sessionId: result.sessionId as string };
}

describe('the Relay log', () => {
  it('logs a session opening and closing', async () => {
    const log = collector();
    t = await startRelay({ logger: log });
    const { client, sessionId } = await session(t, 'alice');
    expect(log.named('session.opened')).toEqual([
      {
        level: 'info',
        event: 'session.opened',
        fields: { sessionId, project: 'acme', resource: 'alice', address: '127.0.0.1' },
      },
    ]);
    await client.close(1000);
    await until('the session to close', async () => log.named('session.closed').length > 0);
    expect(log.named('session.closed')).toEqual([
      {
        level: 'info',
        event: 'session.closed',
        fields: { sessionId, project: 'acme', code: 1000, reason: 'closed by the client' },
      },
    ]);
  });

  it('logs a call started and ended, with the reason it ended', async () => {
    const log = collector();
    t = await startRelay({ logger: log });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    const callId = await activeCall(alice, bob, 'bob');
    expect(log.named('call.started')).toEqual([
      {
        level: 'info',
        event: 'call.started',
        fields: { callId, project: 'acme', from: 'alice', to: 'bob' },
      },
    ]);
    await alice.call('call.hangup', { callId });
    expect(log.named('call.ended')).toEqual([
      { level: 'info', event: 'call.ended', fields: { callId, project: 'acme', reason: 'hangup' } },
    ]);
  });

  it('logs refused requests with their method and code', async () => {
    const log = collector();
    t = await startRelay({ logger: log });
    const { client, sessionId } = await session(t, 'alice');
    const refused = await refusal(client.call('call.answer', { callId: 'no-such-call' }));
    expect(refused.code).toBe('call_not_found');
    client.send('not json');
    await client.nextRaw((message) => message.id === null && message.error !== undefined);
    expect(log.named('request.refused')).toEqual([
      {
        level: 'info',
        event: 'request.refused',
        fields: {
          method: 'call.answer',
          code: 'call_not_found',
          sessionId,
          address: '127.0.0.1',
        },
      },
      {
        level: 'info',
        event: 'request.refused',
        fields: { method: null, code: 'parse_error', sessionId, address: '127.0.0.1' },
      },
    ]);
  });

  it('logs REST requests refused, with path, status and code', async () => {
    const log = collector();
    t = await startRelay({ logger: log });
    const wrong = basic({ id: 'acme', token: 'not-the-token-0123456789' });
    expect((await rest(t.url, 'POST', { resource: 'alice' }, wrong)).status).toBe(401);
    expect(log.named('rest.refused')).toEqual([
      {
        level: 'info',
        event: 'rest.refused',
        fields: { method: 'POST', path: '/api/relay/rest/jwt', status: 401, code: 'unauthorized' },
      },
    ]);
  });

  it('logs a failing store purge as a warning instead of swallowing it', async () => {
    class FailingPurge extends MemoryStore {
      override async purgeExpired(): Promise<number> {
        throw new Error('the disk is full');
      }
    }
    const log = collector();
    const clock = new ManualClock();
    t = await startRelay({ logger: log, clock, store: new FailingPurge() });
    clock.advance(60 * 60_000);
    await until('the purge failure to be logged', async () => log.named('store.failed').length > 0);
    const [failure] = log.named('store.failed');
    expect(failure?.level).toBe('warn');
    expect(failure?.fields).toEqual({ operation: 'purgeExpired', error: expect.any(Error) });
    expect((failure?.fields.error as Error).message).toBe('the disk is full');
    expect(t.relay.metrics()).toContain('relaycall_store_errors_total{operation="purgeExpired"} 1');
  });

  it('goes on when the logger throws', async () => {
    const throwing: RelayLogger = {
      info: () => {
        throw new Error('log sink down');
      },
      warn: () => undefined,
      error: () => undefined,
    };
    t = await startRelay({ logger: throwing });
    const alice = await t.connect('alice');
    const bob = await t.connect('bob');
    await activeCall(alice, bob, 'bob');
  });
});

describe('jsonLogger', () => {
  it('writes one JSON object per line: time, level, event, then the fields', () => {
    const lines: string[] = [];
    const log = jsonLogger((line) => lines.push(line), AT);
    log.info('session.opened', { sessionId: 's1', resource: 'two\nlines' });
    log.warn('store.failed', { operation: 'ping', error: new Error('down'), level: 'ignored' });
    log.error('request.refused', { error: Object.assign(new Error('bug'), { code: 'E_BUG' }) });
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
    const [opened, failed, refused] = lines.map((line) => JSON.parse(line) as LogFields);
    expect(opened).toEqual({
      time: '2026-01-02T03:04:05.006Z',
      level: 'info',
      event: 'session.opened',
      sessionId: 's1',
      resource: 'two\nlines',
    });
    expect(failed).toEqual({
      time: '2026-01-02T03:04:05.006Z',
      level: 'warn',
      event: 'store.failed',
      operation: 'ping',
      error: { name: 'Error', message: 'down' },
    });
    expect(refused?.error).toMatchObject({ name: 'Error', message: 'bug', code: 'E_BUG' });
    expect((refused?.error as { stack: string }).stack).toContain('bug');
  });

  it("writes the Relay's events as lines that parse", async () => {
    const lines: string[] = [];
    t = await startRelay({ logger: jsonLogger((line) => lines.push(line)) });
    const alice = await t.connect('alice');
    await alice.close();
    await until('the session to close', async () =>
      lines.some((l) => l.includes('session.closed')),
    );
    const events = lines.map((line) => (JSON.parse(line) as { event: string }).event);
    expect(events).toEqual(['session.opened', 'session.closed']);
  });
});

describe('textLogger', () => {
  it('writes time, level, event and key=value pairs on one line', () => {
    const lines: string[] = [];
    const log = textLogger((line) => lines.push(line), AT);
    log.warn('store.failed', {
      operation: 'purgeExpired',
      error: new Error('the disk is full'),
      attempts: 3,
      skipped: undefined,
      note: 'say "hi"\nbye',
    });
    expect(lines).toEqual([
      '2026-01-02T03:04:05.006Z warn store.failed operation=purgeExpired ' +
        'error="the disk is full" attempts=3 note="say \\"hi\\"\\nbye"',
    ]);
  });
});

describe('socket opens refused before the handshake', () => {
  it('are counted by status and logged at most once per 10 s, with how many were not', async () => {
    const log = collector();
    t = await startRelay({ logger: log, allowedOrigins: ['https://app.example.com'] });
    const refusedWith = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(t!.wsUrl, { origin });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      });
    for (let i = 0; i < 3; i++) expect(await refusedWith('https://evil.example.net')).toBe(403);
    expect(log.named('upgrade.refused')).toEqual([
      {
        level: 'warn',
        event: 'upgrade.refused',
        fields: { status: 403, address: '127.0.0.1', reason: 'origin https://evil.example.net' },
      },
    ]);
    t.clock.advance(10_000);
    expect(await refusedWith('https://other.example.org')).toBe(403);
    expect(log.named('upgrade.refused')[1]?.fields).toMatchObject({ status: 403, unlogged: 2 });
    expect(t.relay.metrics()).toContain('relaycall_upgrades_refused_total{status="403"} 4\n');
  });
});
