import { request, type IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OTHER_PROJECT,
  PROJECT,
  RpcFailure,
  TestClient,
  basic,
  connectWith,
  rest,
  startRelay,
  type Pair,
  type RestResponse,
  type TestRelay,
} from './helpers.js';

const JWT_PATH = '/api/relay/rest/jwt';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let t: TestRelay;
const sockets: TestClient[] = [];
const extraRelays: TestRelay[] = [];

beforeEach(async () => {
  t = await startRelay();
});

afterEach(async () => {
  for (const client of sockets.splice(0)) client.ws.terminate();
  await Promise.all([t, ...extraRelays.splice(0)].map((relay) => relay.close()));
});

function decode(jwt: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header = '', claims = ''] = jwt.split('.');
  const part = (text: string) =>
    JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(header), claims: part(claims) };
}

const auth = basic(PROJECT);
const errorCode = (json: unknown) => (json as { error?: { code?: unknown } }).error?.code;
const expectError = (response: RestResponse, status: number, code: string) =>
  expect({ status: response.status, code: errorCode(response.json) }).toEqual({ status, code });

/** Connects a raw socket with `jwt` and keeps it for cleanup. */
async function live(jwt: string): Promise<TestClient> {
  const { client } = await connectWith(t.wsUrl, { project: PROJECT.id, token: jwt });
  sockets.push(client);
  return client;
}

/** Sends a request with node:http, leaving the body to `write`; resolves the response. */
function rawRequest(
  url: string,
  headers: Record<string, string | number>,
  write: (req: ReturnType<typeof request>) => void,
): Promise<{ res: IncomingMessage; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${JWT_PATH}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ res, text }));
      res.on('error', reject);
    });
    // The server may close while we still send: that is the point of these tests.
    req.on('error', (error) => reject(error));
    write(req);
  });
}

describe('POST /jwt', () => {
  it('issues a default pair for a bare POST without body or content type', async () => {
    const response = await rest(t.url, 'POST', undefined, auth);
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const pair = response.json as Pair;
    expect(Object.keys(pair).sort()).toEqual(['jwt_token', 'refresh_token']);
    const { header, claims } = decode(pair.jwt_token);
    expect(header.alg).toBe('HS512');
    for (const claim of ['iss', 'sub', 'resource', 'scopes', 'iat', 'exp', 'jti', 'fam']) {
      expect(claims).toHaveProperty(claim);
    }
    expect(claims.iss).toBe('relaycall');
    expect(claims.sub).toBe(PROJECT.id);
    expect(claims.resource).toMatch(UUID);
    expect(claims.scopes).toEqual(['calls:dial', 'calls:receive']);
    expect((claims.exp as number) - (claims.iat as number)).toBe(15 * 60);
    expect(claims.iat).toBe(Math.floor(t.clock.now() / 1000));
  });

  it('treats a chunked POST with an empty body and no content type as bare', async () => {
    const { res } = await rawRequest(t.url, { authorization: auth }, (req) => {
      req.flushHeaders(); // Headers before end(): Node sends the empty body chunked.
      req.end();
    });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.statusCode).toBe(201);
  });

  it('honours resource, expires_in and scopes', async () => {
    const pair = await t.token({ resource: 'alice', expires_in: 42, scopes: ['calls:receive'] });
    const { claims } = decode(pair.jwt_token);
    expect(claims.resource).toBe('alice');
    expect(claims.scopes).toEqual(['calls:receive']);
    expect((claims.exp as number) - (claims.iat as number)).toBe(42 * 60);
  });

  it('accepts the boundary values: expires_in 1440 and a 128-character resource', async () => {
    const resource = 'r'.repeat(128);
    const { claims } = decode((await t.token({ resource, expires_in: 1440 })).jwt_token);
    expect(claims.resource).toBe(resource);
    expect((claims.exp as number) - (claims.iat as number)).toBe(1440 * 60);
  });

  it('gives a pair whose JWT connects and whose refresh token refreshes, both at once', async () => {
    const pair = await t.token({ resource: 'alice' });
    await expect(live(pair.jwt_token)).resolves.toBeInstanceOf(TestClient);
    const refreshed = await rest(t.url, 'PUT', { refresh_token: pair.refresh_token }, auth);
    expect(refreshed.status).toBe(200);
  });
});

describe('401 unauthorized', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  it.each([
    ['a missing Authorization header', undefined],
    ['a scheme other than Basic', `Bearer ${b64(`${PROJECT.id}:${PROJECT.token}`)}`],
    ['bad base64', 'Basic !!not*base64!!'],
    ['credentials without a colon', `Basic ${b64(`${PROJECT.id}${PROJECT.token}`)}`],
    ['a wrong token', basic({ id: PROJECT.id, token: 'wrong-token-0123456789abcdef' })],
    ['an unknown project', basic({ id: 'nobody', token: PROJECT.token })],
  ])('for %s', async (_name, authorization) => {
    const response = await rest(t.url, 'POST', undefined, authorization);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect(response.json).toEqual({
      error: { code: 'unauthorized', message: expect.stringMatching(/\w/) },
    });
  });
});

describe('400 bad request', () => {
  it.each([
    ['malformed JSON', '{"resource": "alice"', 'invalid_json'],
    ['an array body', [], 'bad_request'],
    ['a numeric resource', { resource: 42 }, 'bad_request'],
    ['scopes that are not an array', { scopes: 'calls:dial' }, 'bad_request'],
    ['a string expires_in', { expires_in: '5' }, 'bad_request'],
    ['expires_in 0', { expires_in: 0 }, 'bad_request'],
    ['a negative expires_in', { expires_in: -5 }, 'bad_request'],
    ['a fractional expires_in', { expires_in: 1.5 }, 'bad_request'],
    ['expires_in above the maximum', { expires_in: 1441 }, 'bad_request'],
    ['an unknown scope', { scopes: ['calls:dial', 'calls:admin'] }, 'bad_request'],
    ['an empty resource', { resource: '' }, 'bad_request'],
    ['a 129-character resource', { resource: 'r'.repeat(129) }, 'bad_request'],
    ['a resource with a bell character', { resource: 'ali\u0007ce' }, 'bad_request'],
    ['a resource with a newline', { resource: 'ali\nce' }, 'bad_request'],
  ])('for POST with %s', async (_name, body, code) => {
    expectError(await rest(t.url, 'POST', body, auth), 400, code);
  });

  it.each(['PUT', 'DELETE'])('for %s without a refresh_token', async (method) => {
    for (const body of [undefined, {}, { refresh_token: 42 }, { refresh_token: '' }]) {
      expectError(await rest(t.url, method, body, auth), 400, 'bad_request');
    }
  });
});

describe('413 and 415', () => {
  it('refuses a body over maxBodyBytes sent with an honest Content-Length', async () => {
    const body = JSON.stringify({ resource: 'alice', padding: 'x'.repeat(16 * 1024) });
    expectError(await rest(t.url, 'POST', body, auth), 413, 'payload_too_large');
  });

  const smallRelay = async () => {
    const small = await startRelay({ limits: { maxBodyBytes: 1024 } });
    extraRelays.push(small);
    return small.url;
  };
  const json = { authorization: auth, 'content-type': 'application/json' };

  it('answers 413 from a declared 1 MiB Content-Length before any body is sent', async () => {
    // Headers only, body never sent: the answer can only come from Content-Length.
    const { res, text } = await rawRequest(
      await smallRelay(),
      { ...json, 'content-length': 1 << 20 },
      (req) => req.flushHeaders(),
    );
    expect(res.statusCode).toBe(413);
    expect(errorCode(JSON.parse(text))).toBe('payload_too_large');
  });

  it('cuts off a chunked body once it passes maxBodyBytes, without waiting for its end', async () => {
    const url = await smallRelay();
    // Under the limit, a chunked body is read and served.
    const ok = await rawRequest(url, json, (req) => {
      req.write('{"resource":');
      req.end('"alice"}');
    });
    expect(ok.res.statusCode).toBe(201);
    // 1 MiB in 16 KiB chunks, and the request is never ended: a server that
    // buffers until the end of the body would never answer.
    const { res, text } = await rawRequest(url, json, (req) => {
      expect(req.getHeader('content-length')).toBeUndefined();
      for (let i = 0; i < 64; i++) req.write('x'.repeat(16 * 1024));
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(errorCode(JSON.parse(text))).toBe('payload_too_large');
  });

  it('refuses a text/plain body with 415', async () => {
    expectError(
      await rest(t.url, 'POST', '{"resource":"alice"}', auth, {
        'content-type': 'text/plain',
      }),
      415,
      'unsupported_media_type',
    );
  });

  it('refuses a chunked body without a content type with 415', async () => {
    const { res, text } = await rawRequest(t.url, { authorization: auth }, (req) => {
      req.write('{"resource":');
      req.end('"alice"}');
    });
    expect(res.statusCode).toBe(415);
    expect(errorCode(JSON.parse(text))).toBe('unsupported_media_type');
  });

  it('refuses a body without a content type with 415', async () => {
    // A byte body makes fetch send no Content-Type at all.
    const response = await fetch(`${t.url}${JWT_PATH}`, {
      method: 'POST',
      headers: { authorization: auth },
      body: new TextEncoder().encode('{"resource":"alice"}'),
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.status).toBe(415);
    expect(errorCode(await response.json())).toBe('unsupported_media_type');
  });
});

describe('429 after repeated failed authentications', () => {
  const wrong = basic({ id: PROJECT.id, token: 'wrong-token-0123456789abcdef' });
  const fail = async (times: number) => {
    for (let i = 0; i < times; i++) {
      expect((await rest(t.url, 'POST', undefined, wrong)).status).toBe(401);
    }
  };

  it('blocks the address, even with correct credentials, until the window passes', async () => {
    await fail(20);
    const blocked = await rest(t.url, 'POST', undefined, wrong);
    expect(blocked.status).toBe(429);
    expect(errorCode(blocked.json)).toBe('rate_limited');
    expect(blocked.headers.get('retry-after')).toBe('60');
    t.clock.advance(30_000);
    const stillBlocked = await rest(t.url, 'POST', undefined, auth);
    expect(stillBlocked.status).toBe(429);
    expect(stillBlocked.headers.get('retry-after')).toBe('30');
    t.clock.advance(30_000);
    expect((await rest(t.url, 'POST', undefined, auth)).status).toBe(201);
  });

  it('does not count successful authentications', async () => {
    await fail(19);
    for (let i = 0; i < 25; i++) {
      expect((await rest(t.url, 'POST', undefined, auth)).status).toBe(201);
    }
    await fail(1);
    expect((await rest(t.url, 'POST', undefined, auth)).status).toBe(429);
  });

  it('behind a trusted proxy, keys on the address the proxy appended, not on forged ones', async () => {
    const proxied = await startRelay({ trustProxy: true });
    try {
      const via = (client: string, forged: string) => ({
        'x-forwarded-for': `${forged}, ${client}`,
      });
      for (let i = 0; i < 20; i++) {
        const response = await rest(
          proxied.url,
          'POST',
          undefined,
          wrong,
          via('203.0.113.9', `f${i}`),
        );
        expect(response.status).toBe(401);
      }
      const blocked = await rest(proxied.url, 'POST', undefined, auth, via('203.0.113.9', 'new'));
      expect(blocked.status).toBe(429);
      const other = await rest(proxied.url, 'POST', undefined, auth, via('198.51.100.7', 'x'));
      expect(other.status).toBe(201);
    } finally {
      await proxied.close();
    }
  });
});

describe('routing and health', () => {
  it('answers 404 with a JSON error for an unknown path', async () => {
    const response = await fetch(`${t.url}/api/relay/rest/nothing`);
    expect(response.status).toBe(404);
    expect(errorCode(await response.json())).toBe('not_found');
  });

  it('answers 405 with Allow for GET on the token path', async () => {
    const response = await rest(t.url, 'GET', undefined, auth);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, PUT, DELETE');
    expect(errorCode(response.json)).toBe('method_not_allowed');
  });

  it('answers /healthz with 200 until closed', async () => {
    const response = await fetch(`${t.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    await t.relay.close();
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
  });
});

describe('PUT and DELETE /jwt', () => {
  const put = (token: string, project = PROJECT) =>
    rest(t.url, 'PUT', { refresh_token: token }, basic(project));
  const del = (token: string, project = PROJECT) =>
    rest(t.url, 'DELETE', { refresh_token: token }, basic(project));

  it('rotates: a new pair of the same family, and the old refresh token stops working', async () => {
    const first = await t.token({ resource: 'alice', scopes: ['calls:dial'], expires_in: 7 });
    const response = await put(first.refresh_token);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const second = response.json as Pair;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    const before = decode(first.jwt_token).claims;
    const after = decode(second.jwt_token).claims;
    expect(after).toMatchObject({ resource: 'alice', scopes: ['calls:dial'], fam: before.fam });
    expect((after.exp as number) - (after.iat as number)).toBe(7 * 60);
    expect(after.jti).not.toBe(before.jti);
    expectError(await put(first.refresh_token), 400, 'refresh_token_reused');
  });

  it('revokes the whole family when a rotated refresh token is presented again', async () => {
    const alice = await t.token({ resource: 'alice' });
    const bob = await t.token({ resource: 'bob' });
    const aliceLive = await live(alice.jwt_token);
    const bobLive = await live(bob.jwt_token);
    const second = (await put(alice.refresh_token)).json as Pair;
    const newest = (await put(second.refresh_token)).json as Pair;

    expectError(await put(alice.refresh_token), 400, 'refresh_token_reused');

    expect((await aliceLive.closed).code).toBe(4005);
    expectError(await put(newest.refresh_token), 400, 'invalid_refresh_token');
    const fresh = await TestClient.open(t.wsUrl);
    sockets.push(fresh);
    const failure = await fresh
      .call('relay.connect', { project: PROJECT.id, token: newest.jwt_token })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RpcFailure);
    expect((failure as RpcFailure).code).toBe('token_revoked');
    expect((await fresh.closed).code).toBe(4005);

    await expect(bobLive.call('relay.ping')).resolves.toHaveProperty('serverTime');
    expect((await put(bob.refresh_token)).status).toBe(200);
  });

  it('DELETE revokes the family: 204, live sessions closed with 4005, no more refresh', async () => {
    const pair = await t.token({ resource: 'alice' });
    const session = await live(pair.jwt_token);
    const response = await del(pair.refresh_token);
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expect((await session.closed).code).toBe(4005);
    expectError(await put(pair.refresh_token), 400, 'invalid_refresh_token');
  });

  it('DELETE of an unknown refresh token answers 400 invalid_refresh_token', async () => {
    expectError(await del('no-such-token'), 400, 'invalid_refresh_token');
  });

  it("refuses another project's refresh token without rotating or revoking it", async () => {
    const pair = await t.token({ resource: 'alice' });
    expectError(await put(pair.refresh_token, OTHER_PROJECT), 400, 'invalid_refresh_token');
    expectError(await del(pair.refresh_token, OTHER_PROJECT), 400, 'invalid_refresh_token');
    expect((await put(pair.refresh_token)).status).toBe(200);
  });
});
