import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Plugin } from 'vite';
import {
  createRelayServer,
  type RelayServer,
  type RelayServerOptions,
  type Scope,
} from '../server/index.js';

export interface RelaycallPluginOptions {
  /** Id of the development project. Default: 'dev'. */
  project?: string;
  /** Path of the dev-only token endpoint. Default: '/api/relaycall/dev-token'. */
  tokenPath?: string;
  /** Lifetime of dev tokens, in minutes. Default: 15. */
  expiresInMinutes?: number;
  /** Options of the mounted Relay (limits, iceServers, …). Its store is always in memory. */
  relay?: Omit<RelayServerOptions, 'projects' | 'store' | 'secret'>;
}

export const DEV_TOKEN_PATH = '/api/relaycall/dev-token';

/**
 * Mounts a Relay (in-memory store, one dev project) on Vite's dev server, plus a
 * dev-only token endpoint: `GET /api/relaycall/dev-token?resource=alice` answers
 * `{"token": "<jwt>"}` to loopback clients. Pages then use
 * `<RelayProvider url={location.origin} fetchToken={…that endpoint…}>` exactly as an
 * app does with its back end. Development only: `vite build` skips it, and a dev
 * server in production mode refuses it. In middleware mode (Storybook, SSR frameworks)
 * the Relay's WebSocket upgrades are taken on the host's server given as `server.hmr.server`.
 */
export function relaycall(options: RelaycallPluginOptions = {}): Plugin {
  const projectId = options.project ?? 'dev';
  const tokenPath = options.tokenPath ?? DEV_TOKEN_PATH;
  return {
    name: 'relaycall',
    apply: 'serve',
    configResolved(config) {
      if (config.mode === 'production' || config.isProduction) {
        throw new Error(
          'relaycall/vite mounts a development Relay with a well-known project and must not run ' +
            'in production mode. Serve in development mode, or remove the plugin.',
        );
      }
    },
    async configureServer(server) {
      // In middleware mode (Storybook, SSR frameworks) Vite has no server of its own: the host's
      // HTTP server is the one it was given for HMR, and WebSocket upgrades arrive there.
      const { hmr, ws } = server.config.server;
      const httpServer =
        server.httpServer ?? (typeof hmr === 'object' ? (hmr.server ?? null) : null);
      if (!httpServer) {
        // A server without sockets (e.g. Vitest's module server, `ws: false`) serves no pages.
        if (ws !== false) {
          server.config.logger.warn(
            '  relaycall: no HTTP server to take WebSocket upgrades on, so no Relay is mounted. ' +
              'In middleware mode, pass your HTTP server as server.hmr.server.',
          );
        }
        return;
      }
      const relay = await createRelayServer({
        ...options.relay,
        projects: [{ id: projectId, token: randomBytes(24).toString('hex') }],
      });
      server.middlewares.use((req, res, next) => {
        serve(relay, req, res, { projectId, tokenPath, expiresIn: options.expiresInMinutes }).then(
          (handled) => handled || next(),
          next,
        );
      });
      // Typed here: on Vite's union of HTTP/1 and HTTP/2 servers the listener's arguments are `any`.
      httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        // Vite's own HMR socket and anything else are left to their listeners.
        relay.handleUpgrade(req, socket, head);
      });
      httpServer.once('close', () => void relay.close());
      server.config.logger.info(
        `  relaycall: Relay mounted on this server (project "${projectId}", tokens at ${tokenPath})`,
      );
    },
  };
}

async function serve(
  relay: RelayServer,
  req: IncomingMessage,
  res: ServerResponse,
  settings: { projectId: string; tokenPath: string; expiresIn: number | undefined },
): Promise<boolean> {
  if (await relay.handleRequest(req, res)) return true;
  const url = new URL(req.url ?? '/', 'http://dev');
  if (url.pathname !== settings.tokenPath) return false;
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  if (!isLoopback(req.socket.remoteAddress)) {
    send(403, { error: { code: 'forbidden', message: 'Dev tokens are for this machine only.' } });
    return true;
  }
  const resource = url.searchParams.get('resource') ?? undefined;
  const scopes = url.searchParams.get('scopes')?.split(',').filter(Boolean) as Scope[] | undefined;
  try {
    const pair = await relay.issueToken({
      project: settings.projectId,
      resource,
      expiresInMinutes: settings.expiresIn,
      scopes,
    });
    send(200, { token: pair.jwtToken });
  } catch (error) {
    send(400, { error: { code: 'bad_request', message: (error as Error).message } });
  }
  return true;
}

function isLoopback(address: string | undefined): boolean {
  return (
    address !== undefined &&
    (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
  );
}
