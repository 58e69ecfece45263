import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloseCodes } from 'relaycall/server';
import {
  OTHER_PROJECT,
  PROJECT,
  TestClient,
  connectWith,
  startRelay,
  type TestRelay,
} from './helpers.js';

let relay: TestRelay;
beforeEach(async () => {
  relay = await startRelay({
    iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }],
  });
});
afterEach(() => relay.close());

describe('authentication', () => {
  it('answers relay.connect with the session, clock and ICE servers', async () => {
    const pair = await relay.token({ resource: 'alice', expires_in: 10 });
    const { result } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    expect(result).toMatchObject({
      protocol: 1,
      resumed: false,
      resource: 'alice',
      scopes: ['calls:dial', 'calls:receive'],
      serverTime: relay.clock.now(),
      expiresAt: Math.floor(relay.clock.now() / 1000) * 1000 + 10 * 60_000,
      iceServers: [{ urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'c' }],
    });
    expect(result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a second relay.connect with invalid_state, whatever its params, and stays open', async () => {
    const pair = await relay.token({ resource: 'alice' });
    const { client } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    for (const params of [{ project: PROJECT.id, token: pair.jwt_token }, [], 'x', null]) {
      await expect(client.call('relay.connect', params)).rejects.toMatchObject({
        code: 'invalid_state',
        rpcCode: -32007,
      });
    }
    await client.settle();
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('negotiates the protocol version: 2 for a client that speaks it, 1 for one naming none', async () => {
    const pair = await relay.token({ resource: 'alice' });
    const v2 = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
      protocol: 2,
    });
    expect(v2.result.protocol).toBe(2);
    const future = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
      protocol: 9,
    });
    expect(future.result.protocol).toBe(2);
  });

  it('refuses other methods before relay.connect without closing', async () => {
    const client = await TestClient.open(relay.wsUrl);
    await expect(client.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'not_authenticated',
      rpcCode: -32001,
    });
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });

  it('closes a socket that does not authenticate in time', async () => {
    const client = await TestClient.open(relay.wsUrl);
    expect(relay.relay.stats().unauthenticated).toBe(1);
    relay.clock.advance(4_999);
    await client.call('relay.ping').catch(() => undefined);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    relay.clock.advance(1);
    expect(await client.closed).toMatchObject({ code: CloseCodes.authTimeout });
    await expect.poll(() => relay.relay.stats().unauthenticated).toBe(0);
  });

  it.each([
    [
      'a forged signature',
      (jwt: string) => jwt.slice(0, -4) + (jwt.endsWith('AAAA') ? 'BBBB' : 'AAAA'),
    ],
    ['garbage', () => 'not-a-jwt'],
    [
      'alg none',
      (jwt: string) => {
        const [, payload] = jwt.split('.');
        return `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      },
    ],
  ])('refuses %s with auth_failed and close 4003', async (_, forge) => {
    const pair = await relay.token({ resource: 'alice' });
    const client = await TestClient.open(relay.wsUrl);
    const failure = client.call('relay.connect', {
      project: PROJECT.id,
      token: forge(pair.jwt_token),
    });
    await expect(failure).rejects.toMatchObject({ code: 'auth_failed', rpcCode: -32002 });
    expect(await client.closed).toMatchObject({ code: CloseCodes.authFailed });
  });

  it('refuses a token presented for another project', async () => {
    const pair = await relay.token({ resource: 'alice' }, OTHER_PROJECT);
    const client = await TestClient.open(relay.wsUrl);
    await expect(
      client.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token }),
    ).rejects.toMatchObject({
      code: 'auth_failed',
    });
    expect((await client.closed).code).toBe(CloseCodes.authFailed);
  });

  it('refuses an expired token with token_expired and close 4004', async () => {
    const pair = await relay.token({ resource: 'alice', expires_in: 1 });
    relay.clock.advance(60_000);
    const client = await TestClient.open(relay.wsUrl);
    await expect(
      client.call('relay.connect', { project: PROJECT.id, token: pair.jwt_token }),
    ).rejects.toMatchObject({
      code: 'token_expired',
    });
    expect((await client.closed).code).toBe(CloseCodes.tokenExpired);
  });

  it('refuses malformed connect params with invalid_params and close 4002', async () => {
    const client = await TestClient.open(relay.wsUrl);
    await expect(client.call('relay.connect', { project: 42 })).rejects.toMatchObject({
      code: 'invalid_params',
      rpcCode: -32602,
    });
    expect((await client.closed).code).toBe(CloseCodes.notAuthenticated);
  });
});

describe('expiry and re-authentication', () => {
  it('closes a session with 4004 when its JWT expires, not before', async () => {
    const pair = await relay.token({ resource: 'alice', expires_in: 1 });
    const { client, result } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    relay.clock.advance((result.expiresAt as number) - relay.clock.now() - 1);
    await client.settle();
    relay.clock.advance(1);
    expect(await client.closed).toMatchObject({ code: CloseCodes.tokenExpired });
    await expect.poll(() => relay.relay.stats().sessions).toBe(0);
  });

  it('extends the session in place with a fresher token of the same resource', async () => {
    const first = await relay.token({ resource: 'alice', expires_in: 1 });
    const { client, result } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: first.jwt_token,
    });
    relay.clock.advance(30_000);
    const fresher = await relay.token({ resource: 'alice', expires_in: 5 });
    const reauth = await client.call('relay.reauthenticate', { token: fresher.jwt_token });
    expect(reauth.expiresAt).toBeGreaterThan(result.expiresAt as number);
    expect(reauth.serverTime).toBe(relay.clock.now());
    relay.clock.advance(60_000);
    const pong = await client.call('relay.ping');
    expect(pong.serverTime).toBe(relay.clock.now());
    relay.clock.advance((reauth.expiresAt as number) - relay.clock.now());
    expect((await client.closed).code).toBe(CloseCodes.tokenExpired);
  });

  it('refuses re-authentication as another resource and keeps the session', async () => {
    const pair = await relay.token({ resource: 'alice' });
    const { client } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    const bob = await relay.token({ resource: 'bob' });
    await expect(
      client.call('relay.reauthenticate', { token: bob.jwt_token }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(client.call('relay.reauthenticate', { token: 'junk' })).rejects.toMatchObject({
      code: 'auth_failed',
    });
    await client.settle();
  });

  it('applies the scopes of the fresher token', async () => {
    const pair = await relay.token({ resource: 'alice', scopes: ['calls:receive'] });
    const { client } = await connectWith(relay.wsUrl, {
      project: PROJECT.id,
      token: pair.jwt_token,
    });
    await relay.connect('bob');
    await expect(client.call('call.invite', { to: 'bob' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    const dial = await relay.token({ resource: 'alice', scopes: ['calls:dial'] });
    await client.call('relay.reauthenticate', { token: dial.jwt_token });
    await expect(client.call('call.invite', { to: 'bob' })).resolves.toHaveProperty('callId');
  });
});
