import { createServer, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RelayHttpError, createRestClient, type RestClient } from 'relaycall/server';
import { PROJECT, connectWith, startRelay, type TestClient, type TestRelay } from './helpers.js';

let t: TestRelay;
let client: RestClient;
const sockets: TestClient[] = [];

beforeEach(async () => {
  t = await startRelay();
  client = createRestClient({ url: t.url, project: PROJECT.id, token: PROJECT.token });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await t.close();
});

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<RelayHttpError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RelayHttpError);
  return error as RelayHttpError;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A raw TCP server answering every request with `head`, then dropping or stalling. */
async function brokenServer(head: string, then: 'drop' | 'stall') {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.once('data', () => {
      socket.write(head);
      if (then === 'drop') setImmediate(() => socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('createRestClient', () => {
  it('creates a token pair with the Relay defaults', async () => {
    const pair = await client.createToken();
    expect(Object.keys(pair).sort()).toEqual(['jwtToken', 'refreshToken']);
    const payload = claims(pair.jwtToken);
    expect(payload.sub).toBe(PROJECT.id);
    expect(payload.scopes).toEqual(['calls:dial', 'calls:receive']);
    expect((payload.exp as number) - (payload.iat as number)).toBe(15 * 60);
  });

  it('creates a token pair with resource, lifetime and scopes', async () => {
    const pair = await client.createToken({
      resource: 'alice',
      expiresIn: 5,
      scopes: ['calls:receive'],
    });
    const payload = claims(pair.jwtToken);
    expect(payload.resource).toBe('alice');
    expect(payload.scopes).toEqual(['calls:receive']);
    expect((payload.exp as number) - (payload.iat as number)).toBe(5 * 60);
    const { result } = await connectWith(t.wsUrl, { project: PROJECT.id, token: pair.jwtToken });
    expect(result.resource).toBe('alice');
  });

  it('refreshes a pair within its family; the old refresh token is then reused', async () => {
    const first = await client.createToken({ resource: 'alice' });
    const second = await client.refreshToken(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(claims(second.jwtToken).fam).toBe(claims(first.jwtToken).fam);
    expect(claims(second.jwtToken).resource).toBe('alice');

    const error = await rejection(client.refreshToken(first.refreshToken));
    expect(error.status).toBe(400);
    expect(error.code).toBe('refresh_token_reused');
    // Reuse revoked the family, including the newest refresh token.
    expect((await rejection(client.refreshToken(second.refreshToken))).code).toBe(
      'invalid_refresh_token',
    );
  });

  it('revokes a family: its session is closed and its refresh token stops working', async () => {
    const pair = await client.createToken({ resource: 'alice' });
    const { client: session } = await connectWith(t.wsUrl, {
      project: PROJECT.id,
      token: pair.jwtToken,
    });
    sockets.push(session);
    await expect(client.revokeToken(pair.refreshToken)).resolves.toBeUndefined();
    expect((await session.closed).code).toBe(4005);
    const error = await rejection(client.refreshToken(pair.refreshToken));
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_refresh_token');
  });

  it('reports the Relay validation errors as RelayHttpError', async () => {
    const error = await rejection(client.createToken({ expiresIn: 0 }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('bad_request');
    expect(error.message).toMatch(/expires_in/);
  });

  it('rejects wrong credentials with status 401 and code unauthorized', async () => {
    const wrong = createRestClient({
      url: t.url,
      project: PROJECT.id,
      token: 'not-the-token-0123',
    });
    const error = await rejection(wrong.createToken());
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthorized');
  });

  it('reports an unreachable Relay as status 0, code network_error', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const offline = createRestClient({ url, project: PROJECT.id, token: PROJECT.token });
    for (const attempt of [
      offline.createToken(),
      offline.refreshToken('x'),
      offline.revokeToken('x'),
    ]) {
      const error = await rejection(attempt);
      expect(error.status).toBe(0);
      expect(error.code).toBe('network_error');
      expect(error.message).toContain(url);
    }
  });

  it.each(['drop', 'stall'] as const)(
    'reports a response body that fails (%s) as network_error',
    async (then) => {
      const head =
        'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"jwt';
      const server = await brokenServer(head, then);
      try {
        const broken = createRestClient({ ...server, project: 'p', token: 't', timeoutMs: 200 });
        const error = await rejection(broken.createToken());
        expect(error.status).toBe(0);
        expect(error.code).toBe('network_error');
      } finally {
        await server.close();
      }
    },
  );
});
