import { request } from 'node:http';
import { SignJWT, decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCodes, createRelayServer, systemClock } from 'relaycall/server';
import {
  OTHER_PROJECT,
  PROJECT,
  TestClient,
  basic,
  rest,
  startRelay,
  type TestRelay,
} from './helpers.js';

/**
 * The attack catalogue of docs/RELIABILITY.md: each forged or hostile credential is
 * refused with its documented JSON-RPC error and close code, or HTTP status.
 */
const SECRET = 'attack-suite-signing-secret-'.repeat(3);
const key = new TextEncoder().encode(SECRET);

let relay: TestRelay;
afterEach(() => relay.close());

/** A JWT signed with the Relay's own key (as only the Relay could), with chosen claims. */
async function sign(
  claims: Record<string, unknown>,
  { alg = 'HS512', secret = key }: { alg?: string; secret?: Uint8Array } = {},
): Promise<string> {
  const now = Math.floor(relay.clock.now() / 1000);
  return new SignJWT({ resource: 'alice', scopes: ['calls:dial', 'calls:receive'], ...claims })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer('relaycall')
    .setSubject(PROJECT.id)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 600)
    .setJti(crypto.randomUUID())
    .sign(secret);
}

/** Re-encodes a JWT's payload without re-signing it. */
function tamper(jwt: string, change: (claims: Record<string, unknown>) => void): string {
  const [header, , signature] = jwt.split('.');
  const claims = decodeJwt(jwt) as Record<string, unknown>;
  change(claims);
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

async function refused(token: string, project = PROJECT.id) {
  const client = await TestClient.open(relay.wsUrl);
  const error = await client.call('relay.connect', { project, token }).then(
    () => undefined,
    (failure: unknown) => failure as { code: string; rpcCode: number },
  );
  return { error, close: (await client.closed).code };
}

async function family(resource = 'alice') {
  const pair = await relay.token({ resource });
  return { pair, fam: decodeJwt(pair.jwt_token).fam as string };
}

describe('forged and tampered JWTs on the signaling socket', () => {
  it.each([
    [
      'signed with another key',
      () => sign({}, { secret: new TextEncoder().encode('x'.repeat(64)) }),
    ],
    [
      'alg none',
      async () => {
        const [, payload] = (await sign({})).split('.');
        return `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      },
    ],
    ['switched to HS256 with the right key', () => sign({}, { alg: 'HS256' })],
    ['switched to HS384 with the right key', () => sign({}, { alg: 'HS384' })],
    [
      'not yet valid (nbf in the future)',
      async () => {
        const now = Math.floor(relay.clock.now() / 1000);
        return new SignJWT({ resource: 'alice', scopes: [], fam: 'x' })
          .setProtectedHeader({ alg: 'HS512' })
          .setIssuer('relaycall')
          .setSubject(PROJECT.id)
          .setIssuedAt(now)
          .setNotBefore(now + 300)
          .setExpirationTime(now + 600)
          .setJti('j')
          .sign(key);
      },
    ],
    [
      'of another issuer',
      async () => {
        const now = Math.floor(relay.clock.now() / 1000);
        return new SignJWT({ resource: 'alice', scopes: [], fam: 'x' })
          .setProtectedHeader({ alg: 'HS512' })
          .setIssuer('someone-else')
          .setSubject(PROJECT.id)
          .setIssuedAt(now)
          .setExpirationTime(now + 600)
          .setJti('j')
          .sign(key);
      },
    ],
  ])('refuses a JWT %s: auth_failed, close 4003', async (_, forge) => {
    relay = await startRelay({ secret: SECRET });
    const { error, close } = await refused(await forge());
    expect(error).toMatchObject({ code: 'auth_failed', rpcCode: -32002 });
    expect(close).toBe(CloseCodes.authFailed);
  });

  it.each([
    ['resource', (c: Record<string, unknown>) => void (c.resource = 'bob')],
    [
      'scopes',
      (c: Record<string, unknown>) =>
        void (c.scopes = ['calls:dial', 'calls:receive', 'calls:dial']),
    ],
    ['exp', (c: Record<string, unknown>) => void (c.exp = (c.exp as number) + 86_400)],
    ['fam', (c: Record<string, unknown>) => void (c.fam = crypto.randomUUID())],
    ['sub', (c: Record<string, unknown>) => void (c.sub = OTHER_PROJECT.id)],
  ])('refuses a JWT whose %s was tampered with: auth_failed, close 4003', async (_, change) => {
    relay = await startRelay({ secret: SECRET });
    const { pair } = await family();
    const { error, close } = await refused(tamper(pair.jwt_token, change));
    expect(error).toMatchObject({ code: 'auth_failed' });
    expect(close).toBe(CloseCodes.authFailed);
  });

  it('refuses an expired JWT: token_expired, close 4004', async () => {
    relay = await startRelay({ secret: SECRET });
    const { pair } = await family();
    relay.clock.advance(15 * 60_000);
    const { error, close } = await refused(pair.jwt_token);
    expect(error).toMatchObject({ code: 'token_expired' });
    expect(close).toBe(CloseCodes.tokenExpired);
  });

  it("refuses another project's valid JWT: auth_failed, close 4003", async () => {
    relay = await startRelay({ secret: SECRET });
    const pair = await relay.token({ resource: 'alice' }, OTHER_PROJECT);
    const { error, close } = await refused(pair.jwt_token, PROJECT.id);
    expect(error).toMatchObject({ code: 'auth_failed' });
    expect(close).toBe(CloseCodes.authFailed);
  });

  it('refuses a validly signed JWT of a revoked or unknown family: token_revoked, close 4005', async () => {
    relay = await startRelay({ secret: SECRET });
    const { pair, fam } = await family();
    expect(
      (await rest(relay.url, 'DELETE', { refresh_token: pair.refresh_token }, basic(PROJECT)))
        .status,
    ).toBe(204);
    expect(await refused(await sign({ fam }))).toMatchObject({
      error: { code: 'token_revoked' },
      close: CloseCodes.tokenRevoked,
    });
    expect(await refused(await sign({ fam: crypto.randomUUID() }))).toMatchObject({
      error: { code: 'token_revoked' },
      close: CloseCodes.tokenRevoked,
    });
  });
});

describe('expiry, measured in real time', () => {
  it('closes a session with 4004 within one second of its JWT exp', async () => {
    relay = await startRelay({ secret: SECRET, clock: systemClock });
    const { fam } = await family();
    // exp two seconds ahead: signed with the Relay's key for a live family.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ resource: 'alice', scopes: ['calls:receive'], fam })
      .setProtectedHeader({ alg: 'HS512' })
      .setIssuer('relaycall')
      .setSubject(PROJECT.id)
      .setIssuedAt()
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID())
      .sign(key);
    const client = await TestClient.open(relay.wsUrl);
    await client.call('relay.connect', { project: PROJECT.id, token });
    const { code } = await client.closed;
    const lateMs = Date.now() - exp * 1000;
    expect(code).toBe(CloseCodes.tokenExpired);
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1000);
  });
});

describe('refresh tokens and Basic auth', () => {
  it('closes the family sessions within one second of a refresh-token reuse (real time)', async () => {
    relay = await startRelay({ clock: systemClock });
    const { pair } = await family();
    const live = await TestClient.open(relay.wsUrl);
    await live.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token });
    const auth = basic(PROJECT);
    expect((await rest(relay.url, 'PUT', { refresh_token: pair.refresh_token }, auth)).status).toBe(
      200,
    );
    const reused = rest(relay.url, 'PUT', { refresh_token: pair.refresh_token }, auth);
    const sent = performance.now();
    const [response, closed] = await Promise.all([reused, live.closed]);
    const elapsed = performance.now() - sent;
    expect(response.status).toBe(400);
    expect(closed.code).toBe(CloseCodes.tokenRevoked);
    expect(elapsed).toBeLessThan(1000);
  });

  it("refuses a refresh token under another project's credentials, without rotating it", async () => {
    relay = await startRelay();
    const { pair } = await family();
    const other = await rest(
      relay.url,
      'PUT',
      { refresh_token: pair.refresh_token },
      basic(OTHER_PROJECT),
    );
    expect(other.status).toBe(400);
    expect((other.json as { error: { code: string } }).error.code).toBe('invalid_refresh_token');
    expect(
      (await rest(relay.url, 'PUT', { refresh_token: pair.refresh_token }, basic(PROJECT))).status,
    ).toBe(200);
  });

  it('refuses missing, malformed, wrong and oversized Basic auth', async () => {
    relay = await startRelay();
    const statuses = [];
    for (const authorization of [
      undefined,
      'Bearer abc',
      'Basic !!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      basic({ id: PROJECT.id, token: 'wrong-token-0123456789' }),
      basic({ id: 'no-such-project', token: PROJECT.token }),
    ]) {
      const response = await rest(relay.url, 'POST', undefined, authorization);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic/);
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    // Past Node's 16 KiB header limit the request is refused before any handler runs.
    const status = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(relay.url);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/relay/rest/jwt',
          method: 'POST',
          headers: { authorization: `Basic ${'A'.repeat(20_000)}` },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(431);
  });

  it('rate-limits a brute force on project tokens per client address', async () => {
    relay = await startRelay();
    const results: number[] = [];
    for (let i = 0; i < 25; i++) {
      const guess = basic({ id: PROJECT.id, token: `guess-${i}-0123456789abcdef` });
      results.push((await rest(relay.url, 'POST', undefined, guess)).status);
    }
    expect(results.slice(0, 20).every((status) => status === 401)).toBe(true);
    expect(results.slice(20).every((status) => status === 429)).toBe(true);
    expect((await rest(relay.url, 'POST', undefined, basic(PROJECT))).status).toBe(429);
  });

  it('refuses to start with a signing key shorter than HS512 needs', async () => {
    await expect(createRelayServer({ secret: 'x'.repeat(63) })).rejects.toThrow(/64 bytes/);
  });
});

describe('sessions and projects stay apart', () => {
  it('does not let a session signal, answer or hang up a call it is not part of', async () => {
    relay = await startRelay();
    const alice = await relay.connect('alice');
    const bob = await relay.connect('bob');
    const mallory = await relay.connect('mallory');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    for (const [method, params] of [
      ['call.answer', { callId }],
      ['call.reject', { callId }],
      ['call.hangup', { callId }],
      ['call.signal', { callId, signal: { type: 'offer', sdp: 'evil' } }],
    ] as const) {
      await expect(mallory.call(method, params)).rejects.toMatchObject({ code: 'call_not_found' });
    }
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    expect(relay.relay.stats().calls).toBe(1);
  });

  it('keeps resources of projects apart even when their names collide when concatenated', async () => {
    relay = await startRelay({
      projects: [PROJECT, { id: 'ac', token: 'ac-project-token-0123456789' }],
    });
    // "ac" + "mebob" reads like "acme" + "bob" to a naive key.
    const impostor = await relay.connect('mebob', {
      project: { id: 'ac', token: 'ac-project-token-0123456789' },
    });
    const alice = await relay.connect('alice');
    await expect(alice.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'unavailable',
    });
    const bob = await relay.connect('bob');
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    expect(await bob.next('call.incoming')).toMatchObject({ callId });
    await impostor.settle();
    expect(impostor.notifications).toHaveLength(0);
  });
});
