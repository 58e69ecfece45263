import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createRelayServer,
  createRestClient,
  type CreateTokenOptions,
  type RelayServer,
  type RelayServerOptions,
} from '../server/index.js';
import type { Scope } from '../protocol/index.js';
import { rejectUpgrade } from '../server/http/rawSocket.js';

export interface TestRelayOptions extends Omit<RelayServerOptions, 'projects'> {
  /** Port to listen on. Default: 0 (a free one). */
  port?: number;
  /** Host to bind. Default: '127.0.0.1'. */
  host?: string;
  /** The project to create. Default: a random one. Reuse it (and `secret`) to restart a relay. */
  project?: { id: string; token: string };
}

export interface TestRelay {
  /** Base URL, e.g. http://127.0.0.1:53211. Give it to RelayProvider or createRelayClient. */
  url: string;
  /**
   * A stand-in for your app's back end:
   * `GET {tokenUrl}?resource=alice[&expires_in=N][&scopes=calls:dial,rooms:join]`
   * answers `{"token": "<jwt>"}` (with CORS for test pages). Test-only: never expose it.
   */
  tokenUrl: string;
  /** The project the relay was started with. */
  project: { id: string; token: string };
  /** Issues a JWT for `resource` (default lifetime 15 minutes). */
  issueToken(resource: string, options?: Omit<CreateTokenOptions, 'resource'>): Promise<string>;
  /** Issues a token pair for `resource`. */
  issueTokenPair(
    resource: string,
    options?: Omit<CreateTokenOptions, 'resource'>,
  ): Promise<{ jwtToken: string; refreshToken: string }>;
  /** The underlying Relay (stats, putProject…). */
  server: RelayServer;
  /** Stops the relay, closing every session with 1001. */
  close(): Promise<void>;
}

const TOKEN_PATH = '/testing/token';

/**
 * Starts a real Relay in this process for tests: in-memory store, one random
 * project, loopback only, plus a test token endpoint. Node only.
 */
export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const {
    port = 0,
    host = '127.0.0.1',
    project = {
      id: `test-${randomBytes(4).toString('hex')}`,
      token: randomBytes(24).toString('hex'),
    },
    ...serverOptions
  } = options;
  const server = await createRelayServer({ ...serverOptions, projects: [project] });
  // Set once the address is known; the endpoint answers 404 before that.
  const backEnd: { rest?: ReturnType<typeof createRestClient> } = {};
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (await server.handleRequest(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://relay');
    const cors = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' };
    const rest = backEnd.rest;
    if (url.pathname !== TOKEN_PATH || !rest) {
      res.writeHead(404, cors).end();
      return;
    }
    const resource = url.searchParams.get('resource') ?? undefined;
    const expiresIn = url.searchParams.get('expires_in');
    const scopes = url.searchParams.get('scopes');
    try {
      const pair = await rest.createToken({
        resource,
        expiresIn: expiresIn === null ? undefined : Number(expiresIn),
        ...(scopes === null ? {} : { scopes: scopes.split(',').filter(Boolean) as Scope[] }),
      });
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token: pair.jwtToken }));
    } catch (error) {
      res.writeHead(500, { ...cors, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: (error as Error).message }));
    }
  };
  const http: Server = createServer((req, res) => {
    answer(req, res).catch((error: unknown) => {
      // The Relay failed on the request: the test sees a 500 saying why, not a hanging request.
      if (res.headersSent) {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      res.writeHead(500, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ error: `The test Relay failed on ${req.url ?? '/'}: ${message}` }));
    });
  });
  http.on('upgrade', (req, socket, head) => {
    if (!server.handleUpgrade(req, socket, head)) {
      rejectUpgrade(socket, 404, 'Nothing here. The signaling socket is at /api/relay/ws.');
    }
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  const address = http.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  const client = createRestClient({ url, project: project.id, token: project.token });
  backEnd.rest = client;
  return {
    url,
    tokenUrl: `${url}${TOKEN_PATH}`,
    project,
    server,
    issueTokenPair: (resource, tokenOptions = {}) =>
      client.createToken({ ...tokenOptions, resource }),
    async issueToken(resource, tokenOptions = {}) {
      return (await client.createToken({ ...tokenOptions, resource })).jwtToken;
    },
    async close() {
      await server.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
