/**
 * Hostile REST requests, each with the status the README promises for it.
 *
 * Requests come in runs per client address (a fresh 127.x.y.z each, bound with `localAddress`):
 * the Relay's failed-authentication limiter keys on the socket address, so a per-address model
 * (failures so far) tells whether a request is answered 401 or, past the limit, 429. Checks run
 * in the README's order: method (405), rate limit (429), credentials (401), body (413, 415,
 * 400), fields (400).
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Rng, deriveSeed } from './prng.js';
import type { RunLog } from './socket.js';
import { OWED_WITHIN_MS, preview } from './socket.js';
import { rawExchange } from '../../server/rawHttp.js';

export const REST_CATEGORIES = [
  'basic-malformed',
  'wrong-credentials',
  'bad-json',
  'wrong-types',
  'not-an-object',
  'content-type',
  'oversize-declared',
  'oversize-chunked',
  'oversize-body',
  'refresh-garbage',
  'refresh-reuse',
  'unknown-path',
  'method-not-allowed',
  'malformed-http',
] as const;
export type RestCategory = (typeof REST_CATEGORIES)[number];

const WEIGHTS: Record<RestCategory, number> = {
  'basic-malformed': 14,
  'wrong-credentials': 14,
  'bad-json': 8,
  'wrong-types': 10,
  'not-an-object': 5,
  'content-type': 6,
  'oversize-declared': 4,
  'oversize-chunked': 3,
  'oversize-body': 4,
  'refresh-garbage': 8,
  'refresh-reuse': 1,
  'unknown-path': 8,
  'method-not-allowed': 8,
  'malformed-http': 3,
};

const JWT = '/api/relay/rest/jwt';
const DEEP_ARRAY: unknown = JSON.parse(`${'['.repeat(500)}${']'.repeat(500)}`);
const HEALTH = '/healthz';
const JWT_ALLOW = 'POST, PUT, DELETE';

export interface RestSetup {
  seed: number;
  log: RunLog;
  port: number;
  project: { id: string; token: string };
  maxBodyBytes: number;
  authFailuresPerWindow: number;
}

interface Expect {
  status: number;
  /** `error.code` of the JSON body; undefined: no JSON error body (204, HEAD, 200). */
  code?: string;
  /** Node's HTTP parser refused the request: no body, connection closed. */
  parserError?: boolean;
  allow?: string;
}

interface Planned {
  category: RestCategory;
  sub: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** How the body goes out. */
  mode: 'normal' | 'declared' | 'chunked' | 'raw';
  raw?: string;
  /** A raw request whose headers parse: the handler sees it (and counts a failed login). */
  reachesHandler?: boolean;
  /** Whether the request presents the right project credentials. */
  auth: 'good' | 'bad';
  /** Outcome once method, rate limit and credentials passed. */
  outcome: Expect;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Runs at least `total` hostile requests over `concurrency` address lanes. */
export async function runRest(setup: RestSetup, total: number, concurrency: number): Promise<void> {
  let nextAddress = 0;
  let planned = 0;
  const lane = async () => {
    while (planned < total) {
      const index = nextAddress++;
      const rng = new Rng(deriveSeed(setup.seed, 'rest', index));
      const count = rng.range(10, 60);
      planned += count;
      await runAddress(setup, index, rng, count);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** A unique loopback address per index (never 127.0.0.1, which the sockets use). */
export function addressOf(index: number): string {
  const a = 1 + Math.floor(index / (254 * 256));
  const b = Math.floor(index / 254) % 256;
  const c = 1 + (index % 254);
  return `127.${a}.${b}.${c}`;
}

async function runAddress(setup: RestSetup, index: number, rng: Rng, count: number): Promise<void> {
  const localAddress = addressOf(index);
  const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress });
  const where = `REST address ${localAddress} (#${index})`;
  let failures = 0;
  // Some addresses are credential stuffers: mostly failed logins, so they reach the 429s.
  const attacker = rng.chance(0.35);
  try {
    for (let i = 0; i < count; i++) {
      const category: RestCategory =
        attacker && rng.chance(0.8)
          ? rng.pick(['basic-malformed', 'wrong-credentials'] as const)
          : rng.weighted(WEIGHTS);
      if (category === 'refresh-reuse') {
        // Five requests in a row, each depending on the answer before.
        if (failures >= setup.authFailuresPerWindow) continue;
        await refreshReuse(setup, agent, `${where} request ${i}`);
        i += 4;
        continue;
      }
      const plan = plan_(setup, rng, category);
      const expect = expected(plan, failures, setup.authFailuresPerWindow);
      if (plan.auth === 'bad' && expect.status === 401) failures += 1;
      // Headers fine, body broken: the handler ran (no credentials: a failure) before the
      // parser refused the body.
      if (plan.reachesHandler && failures < setup.authFailuresPerWindow) failures += 1;
      const answer = await send(setup, plan, agent, localAddress);
      check(setup.log, `${where} request ${i}`, plan, expect, answer);
    }
  } finally {
    agent.destroy();
  }
}

/** The status the README promises, given this address's failures so far. */
function expected(plan: Planned, failures: number, limit: number): Expect {
  if (plan.mode === 'raw' || plan.outcome.status === 404) return plan.outcome;
  if (plan.path.split('?')[0] === HEALTH) return plan.outcome;
  if (!JWT_ALLOW.split(', ').includes(plan.method)) {
    // HEAD answers carry no body.
    return {
      status: 405,
      code: plan.method === 'HEAD' ? undefined : 'method_not_allowed',
      allow: JWT_ALLOW,
    };
  }
  if (failures >= limit) return { status: 429, code: 'rate_limited' };
  if (plan.auth === 'bad') return { status: 401, code: 'unauthorized' };
  return plan.outcome;
}

function badAuthorization(
  rng: Rng,
  project: { id: string; token: string },
): [string, string | undefined] {
  const [sub, make] = rng.pick<[string, () => string | undefined]>([
    ['missing', () => undefined],
    ['bearer', () => `Bearer ${rng.string(40)}`],
    ['scheme-only', () => 'Basic'],
    ['not-base64', () => 'Basic !!!'],
    ['no-colon', () => `Basic ${Buffer.from('nocolon').toString('base64')}`],
    ['empty-user', () => basic('', project.token)],
    ['empty-password', () => basic(project.id, '')],
    [
      'padding',
      () => `Basic ${Buffer.from(`${project.id}:${project.token}`).toString('base64')}===`,
    ],
    ['huge', () => `Basic ${Buffer.from(rng.string(64).repeat(90)).toString('base64')}`],
    ['unicode', () => basic(rng.unicode(20).replace(/:/g, ''), rng.unicode(20))],
    ['case', () => basic(project.id.toUpperCase(), project.token)],
    ['trailing-garbage', () => `${basic(project.id, project.token)} x`],
  ]);
  return [sub, make()];
}

function plan_(setup: RestSetup, rng: Rng, category: RestCategory): Planned {
  const { project, maxBodyBytes } = setup;
  const good = basic(project.id, project.token);
  const json = {
    'content-type': rng.pick([
      'application/json',
      'application/json; charset=utf-8',
      'application/vnd.relay+json',
    ]),
  };
  const spoof: Record<string, string> = rng.chance(0.3)
    ? { 'x-forwarded-for': `10.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}` }
    : {};
  const base = (
    method: string,
    sub: string,
    outcome: Expect,
    extra: Partial<Planned> = {},
  ): Planned => ({
    category,
    sub,
    method,
    path: JWT,
    headers: { authorization: good, ...spoof },
    mode: 'normal',
    auth: 'good',
    outcome,
    ...extra,
  });
  const anyMethod = () => rng.pick(['POST', 'PUT', 'DELETE']);
  const refreshMethod = () => rng.pick(['PUT', 'DELETE']);
  const badRequest: Expect = { status: 400, code: 'bad_request' };
  switch (category) {
    case 'basic-malformed':
    case 'wrong-credentials': {
      const [sub, authorization] =
        category === 'basic-malformed'
          ? badAuthorization(rng, project)
          : rng.pick<[string, string]>([
              ['wrong-token', basic(project.id, `${project.token}x`)],
              ['unknown-project', basic(`ghost-${rng.int(1000)}`, project.token)],
              ['other-projects-id', basic('globex', project.token)],
              ['random', basic(rng.string(12), rng.string(30))],
            ]);
      const headers: Record<string, string> = { ...spoof, ...json };
      if (authorization !== undefined) headers.authorization = authorization;
      // The body would be refused too, but credentials are checked first.
      return {
        ...base(anyMethod(), sub, badRequest),
        headers,
        body: rng.pick(['{"resource":"alice"}', '{', '']),
        auth: 'bad',
      };
    }
    case 'bad-json': {
      const body = rng.pick([
        '{',
        '{"resource":',
        "{'resource':'x'}",
        '{"resource":"x",}',
        '\ufeff{}',
        'NaN',
        `{"expires_in":${'9'.repeat(20)}x}`,
        `${'['.repeat(200)}`,
        rng.unicode(rng.range(1, 200)).replace(/^[\s\ufeff\u2028]+/, '') || 'x',
      ]);
      let invalid = true;
      try {
        JSON.parse(body);
        invalid = false;
      } catch {
        // as intended
      }
      const outcome: Expect = invalid ? { status: 400, code: 'invalid_json' } : badRequest;
      if (!invalid && isObjectJson(body))
        return base(refreshMethod(), 'garbage-object', badRequest, {
          headers: { ...json, authorization: good },
          body: '{}',
        });
      return base(anyMethod(), invalid ? 'syntax' : 'valid-non-object', outcome, {
        headers: { authorization: good, ...json, ...spoof },
        body,
      });
    }
    case 'wrong-types': {
      const field = rng.pick<[string, Record<string, unknown>]>([
        ['resource-number', { resource: 5 }],
        ['resource-null', { resource: null }],
        ['resource-empty', { resource: '' }],
        ['resource-long', { resource: 'r'.repeat(129) }],
        ['resource-control', { resource: 'a\u0000b' }],
        ['resource-c1', { resource: 'x\u0085' }],
        ['resource-deep', { resource: DEEP_ARRAY }],
        ['expires-string', { expires_in: '15' }],
        ['expires-zero', { expires_in: 0 }],
        ['expires-negative-zero', { expires_in: -0 }],
        ['expires-over', { expires_in: 1441 }],
        ['expires-fraction', { expires_in: 1.5 }],
        ['expires-huge', { expires_in: 1e308 }],
        ['expires-null', { expires_in: null }],
        ['scopes-string', { scopes: 'calls:dial' }],
        ['scopes-unknown', { scopes: ['calls:admin'] }],
        ['scopes-number', { scopes: [1] }],
        ['scopes-null', { scopes: null }],
        ['scopes-object', { scopes: { 0: 'calls:dial' } }],
        ['proto', JSON.parse('{"__proto__":{"resource":"x"},"expires_in":"bad"}')],
      ]);
      const [sub, fields] = field;
      // PUT and DELETE refuse it too: it has no refresh_token.
      return base(anyMethod(), sub, badRequest, {
        headers: { authorization: good, ...json, ...spoof },
        body: JSON.stringify(fields),
      });
    }
    case 'not-an-object': {
      const body = rng.pick([
        '[]',
        '[{"resource":"x"}]',
        '1',
        '"x"',
        'null',
        'true',
        `${'['.repeat(1000)}${']'.repeat(1000)}`,
      ]);
      return base(anyMethod(), 'top-level', badRequest, {
        headers: { authorization: good, ...json, ...spoof },
        body,
      });
    }
    case 'content-type': {
      const type = rng.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonx',
        'application/json-patch',
        'text/json',
        '',
        undefined,
      ]);
      const headers: Record<string, string> = { authorization: good, ...spoof };
      if (type !== undefined) headers['content-type'] = type;
      return base(
        anyMethod(),
        type === undefined ? 'missing' : type || 'empty',
        { status: 415, code: 'unsupported_media_type' },
        {
          headers,
          body: rng.pick(['{"resource":"x"}', 'resource=x', 'x']),
        },
      );
    }
    case 'oversize-declared':
      return base(
        anyMethod(),
        'content-length',
        { status: 413, code: 'payload_too_large' },
        {
          headers: {
            authorization: good,
            ...json,
            'content-length': String(
              rng.pick([maxBodyBytes + 1, 10 * maxBodyBytes, 2 ** 31, 1e15]),
            ),
          },
          body: Buffer.alloc(rng.range(0, maxBodyBytes), 0x20),
          mode: 'declared',
        },
      );
    case 'oversize-chunked':
      return base(
        anyMethod(),
        'chunked',
        { status: 413, code: 'payload_too_large' },
        {
          headers: { authorization: good, ...json, 'transfer-encoding': 'chunked' },
          mode: 'chunked',
        },
      );
    case 'oversize-body': {
      const size = rng.range(maxBodyBytes + 1, 3 * maxBodyBytes);
      const body = `{"resource":"${'x'.repeat(size)}"}`;
      return base(
        anyMethod(),
        'body',
        { status: 413, code: 'payload_too_large' },
        { headers: { authorization: good, ...json }, body },
      );
    }
    case 'refresh-garbage': {
      const [sub, fields, outcome] = rng.pick<[string, unknown, Expect]>([
        [
          'unknown',
          { refresh_token: rng.string(rng.range(1, 256)) },
          { status: 400, code: 'invalid_refresh_token' },
        ],
        [
          'unicode',
          { refresh_token: rng.unicode(rng.range(1, 256)) },
          { status: 400, code: 'invalid_refresh_token' },
        ],
        ['too-long', { refresh_token: 'r'.repeat(257) }, badRequest],
        ['empty', { refresh_token: '' }, badRequest],
        ['number', { refresh_token: 12345 }, badRequest],
        ['array', { refresh_token: ['x'] }, badRequest],
        ['missing', {}, badRequest],
        ['no-body', undefined, badRequest],
      ]);
      return base(refreshMethod(), sub, outcome, {
        headers:
          fields === undefined
            ? { authorization: good, ...spoof }
            : { authorization: good, ...json, ...spoof },
        body: fields === undefined ? undefined : JSON.stringify(fields),
      });
    }
    case 'unknown-path': {
      const path = rng.pick([
        '/',
        `${JWT}/`,
        '/api/relay/rest/JWT',
        '/api/relay/rest',
        `${JWT}#fragment`,
        `${JWT}%20`,
        `/${JWT}`,
        `${HEALTH}/`,
        '/api/relay/ws',
        '/%2e%2e/%2e%2e/etc/passwd',
        `/${percentEncode(rng.unicode(30))}`,
        `/${'a'.repeat(rng.range(100, 6000))}`,
        'http://evil.example/api/relay/rest/jwt',
      ]);
      return base(
        rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']),
        'path',
        { status: 404, code: 'not_found' },
        { path },
      );
    }
    case 'method-not-allowed': {
      if (rng.chance(0.3)) {
        const method = rng.pick(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
        return base(
          method,
          `health-${method}`,
          { status: 405, code: 'method_not_allowed', allow: 'GET, HEAD' },
          { path: HEALTH },
        );
      }
      const method = rng.pick(['GET', 'HEAD', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND']);
      const outcome: Expect = {
        status: 405,
        code: method === 'HEAD' ? undefined : 'method_not_allowed',
        allow: JWT_ALLOW,
      };
      return base(method, method, outcome, {
        headers: rng.chance(0.5) ? { authorization: 'Basic !!!' } : { authorization: good },
      });
    }
    case 'malformed-http': {
      const [sub, raw, status] = rng.pick<[string, string, number]>([
        ['garbage-line', 'HELLO\r\n\r\n', 400],
        ['bad-version', `GET ${JWT} HTTP/9.9\r\nHost: x\r\n\r\n`, 400],
        ['unknown-method', `FUZZ ${JWT} HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
        ['bad-header', `POST ${JWT} HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n`, 400],
        ['bare-lf', `GET ${HEALTH} HTTP/1.1\nHost: x\n\n`, 400],
        [
          'content-length-text',
          `POST ${JWT} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`,
          400,
        ],
        [
          'content-length-twice',
          `POST ${JWT} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
          400,
        ],
        [
          'smuggling',
          `POST ${JWT} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
          400,
        ],
        [
          'transfer-encoding',
          `POST ${JWT} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n`,
          400,
        ],
        [
          'bad-chunk',
          `POST ${JWT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
          400,
        ],
        ['non-ascii-path', `GET /\u00ff HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
        [
          'headers-too-large',
          `POST ${JWT} HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(17 * 1024)}\r\n\r\n`,
          431,
        ],
        // Node closes a CONNECT request's connection without an answer (no 'connect' handler).
        ['connect', 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n', 0],
      ]);
      const reachesHandler = sub === 'bad-chunk' || sub === 'transfer-encoding';
      return {
        ...base('RAW', sub, { status, parserError: true }),
        mode: 'raw',
        raw,
        auth: 'good',
        reachesHandler,
      };
    }
    case 'refresh-reuse':
      throw new Error('refresh-reuse is a sequence');
  }
}

/** Percent-encodes every UTF-8 byte (lone surrogates become U+FFFD first). */
function percentEncode(text: string): string {
  return [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
}

function isObjectJson(text: string): boolean {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function send(
  setup: RestSetup,
  plan: Planned,
  agent: Agent,
  localAddress: string,
): Promise<Answer | Error> {
  if (plan.mode === 'raw') {
    // Every raw request here is answered and closed, or just closed (CONNECT), by the server:
    // wait for that close however loaded the machine, bounded for a server that never does.
    const text = await rawExchange(setup.port, Buffer.from(plan.raw ?? '', 'latin1'), {
      localAddress,
      ms: OWED_WITHIN_MS,
    });
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    const [head = '', body = ''] = text.split('\r\n\r\n');
    const headers: IncomingHttpHeaders = {};
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status, headers, body };
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (value: Answer | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    };
    const headers = { ...plan.headers };
    // Node's client frames a DELETE body with neither Content-Length nor chunked encoding.
    if (plan.mode === 'normal' && plan.body !== undefined) {
      headers['content-length'] = String(Buffer.byteLength(plan.body));
    }
    const req = httpRequest(
      { host: '127.0.0.1', port: setup.port, method: plan.method, path: plan.path, headers, agent },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          done({ status: res.statusCode ?? 0, headers: res.headers, body });
          if (plan.mode !== 'normal') req.destroy();
        });
        res.on('error', (error) => done(error));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done(new Error(`no answer within ${OWED_WITHIN_MS} ms`));
    }, OWED_WITHIN_MS);
    // A request cut off by the server's Connection: close after its answer is not an error.
    req.on('error', (error) => done(error));
    if (plan.mode === 'declared') {
      req.write(plan.body ?? '');
    } else if (plan.mode === 'chunked') {
      let written = 0;
      const chunk = Buffer.alloc(1024, 0x20);
      const pump = () => {
        if (settled || req.destroyed || written > 8 * setup.maxBodyBytes) return;
        written += chunk.length;
        req.write(chunk, () => setImmediate(pump));
      };
      pump();
    } else {
      req.end(plan.body);
    }
  });
}

function check(
  log: RunLog,
  where: string,
  plan: Planned,
  want: Expect,
  answer: Answer | Error,
): void {
  log.frame(plan.category);
  const what = `${plan.category}/${plan.sub} (${plan.method} ${preview(plan.path)})`;
  if (answer instanceof Error) {
    log.outcome(plan.category, `error ${answer.message}`);
    log.fail(where, `${what}: ${answer.message}, expected ${want.status}`);
    return;
  }
  let code: string | undefined;
  const problems: string[] = [];
  if (want.parserError) {
    if (answer.body !== '') problems.push('a body');
    if (want.status !== 0 && answer.headers.connection !== 'close')
      problems.push('no Connection: close');
  } else if (want.code !== undefined) {
    try {
      const body = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
      code = typeof body.error?.code === 'string' ? body.error.code : undefined;
      if (typeof body.error?.message !== 'string' || body.error.message === '')
        problems.push('no error message');
    } catch {
      problems.push(`a body that is not JSON: ${preview(answer.body)}`);
    }
    if (!String(answer.headers['content-type']).startsWith('application/json'))
      problems.push('no JSON content type');
    if (code !== want.code) problems.push(`error.code ${code}, expected ${want.code}`);
  }
  if (!want.parserError && answer.headers['cache-control'] !== 'no-store')
    problems.push('no Cache-Control: no-store');
  if (want.status === 401 && !answer.headers['www-authenticate'])
    problems.push('no WWW-Authenticate');
  if (want.status === 405 && answer.headers.allow !== want.allow)
    problems.push(`Allow ${answer.headers.allow}`);
  if (want.status === 413 && answer.headers.connection !== 'close')
    problems.push('no Connection: close');
  if (want.status === 429 && !/^[1-9]\d*$/.test(String(answer.headers['retry-after'])))
    problems.push('no Retry-After');
  log.outcome(
    plan.category,
    answer.status === 0 ? 'closed without an answer' : `${answer.status}${code ? ` ${code}` : ''}`,
  );
  if (answer.status !== want.status || problems.length > 0) {
    log.fail(
      where,
      `${what}: answered ${answer.status}${problems.length ? ` with ${problems.join(', ')}` : ''}, expected ${want.status} ${want.code ?? ''}`,
    );
  }
}

/** POST, rotate, reuse the rotated token (the family is revoked), then the now-dead tokens. */
async function refreshReuse(setup: RestSetup, agent: Agent, where: string): Promise<void> {
  const { project } = setup;
  const headers = {
    authorization: basic(project.id, project.token),
    'content-type': 'application/json',
  };
  const step = async (
    sub: string,
    method: string,
    body: unknown,
    want: Expect,
  ): Promise<Record<string, unknown> | undefined> => {
    const plan: Planned = {
      category: 'refresh-reuse',
      sub,
      method,
      path: JWT,
      headers,
      body: JSON.stringify(body),
      mode: 'normal',
      auth: 'good',
      outcome: want,
    };
    const answer = await send(setup, plan, agent, '');
    check(setup.log, where, plan, want, answer);
    if (answer instanceof Error || answer.status >= 300) return undefined;
    return answer.body ? (JSON.parse(answer.body) as Record<string, unknown>) : {};
  };
  const first = await step(
    'issue',
    'POST',
    { resource: 'reuse-victim', expires_in: 1 },
    { status: 201 },
  );
  const old = first?.refresh_token;
  const rotated = await step('rotate', 'PUT', { refresh_token: old }, { status: 200 });
  await step('reuse', 'PUT', { refresh_token: old }, { status: 400, code: 'refresh_token_reused' });
  await step(
    'after-revocation',
    'PUT',
    { refresh_token: rotated?.refresh_token },
    { status: 400, code: 'invalid_refresh_token' },
  );
  await step('revoke-revoked', 'DELETE', { refresh_token: old }, { status: 204 });
}
