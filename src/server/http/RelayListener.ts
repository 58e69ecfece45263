import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCodes, RelayError, WS_PATH, type RelayLimits } from '../../protocol/index.js';
import { limitConnectionsPerAddress } from './limitConnectionsPerAddress.js';
import { rejectUpgrade } from './rawSocket.js';
import { sendError, httpError } from './respond.js';
import { sendNotFound } from './restApi.js';

/** How often the standalone server enforces its header and request deadlines, in ms. */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

/** A certificate chain and its private key, PEM. */
export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ListenOptions {
  /** TCP port; 0 picks a free one. Default: 8080. */
  port?: number;
  /** Interface to bind. Default: '127.0.0.1'. */
  host?: string;
  /**
   * Serve HTTPS and `wss` with this certificate chain and private key (PEM), so browsers on
   * other machines can reach the Relay without a TLS-terminating proxy in front. Replace them
   * later (a renewed certificate) with `setTls`. Default: none (plain HTTP and `ws`, for
   * loopback or behind a proxy that terminates TLS).
   */
  tls?: TlsFiles;
}

export interface RelayListenerDeps {
  limits: RelayLimits;
  trustProxy: boolean;
  /** Serves a REST request; resolves false when the path is not the Relay's. */
  request(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Takes a WebSocket upgrade; false when the path is not the Relay's. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** A request the REST handler failed on (answered 500 here). */
  failed(error: unknown, req: IncomingMessage): void;
}

/** The Relay's own HTTP(S) server, for `listen()`: REST, the signaling upgrade, deadlines. */
export class RelayListener {
  #server: Server | TlsServer | undefined;
  #url: string | undefined;

  constructor(private readonly deps: RelayListenerDeps) {}

  get url(): string | undefined {
    return this.#url;
  }

  async listen({ port = 8080, host = '127.0.0.1', tls }: ListenOptions = {}): Promise<string> {
    const { limits } = this.deps;
    const serverOptions = {
      // Slow or stalled clients must not hold connections open. Node enforces both
      // deadlines when it checks its connections, every second here (30 s by default).
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    };
    const serve = (req: IncomingMessage, res: ServerResponse) => this.#serve(req, res);
    const http = tls
      ? createTlsServer({ ...serverOptions, cert: tls.cert, key: tls.key }, serve)
      : createServer(serverOptions, serve);
    if (!this.deps.trustProxy) limitConnectionsPerAddress(http, limits.maxConnectionsPerAddress);
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!this.deps.upgrade(req, socket, head)) {
        rejectUpgrade(socket, 404, `Nothing here. The signaling socket is at ${WS_PATH}.`);
      }
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    this.#server = http;
    const address = http.address() as AddressInfo;
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `${tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
    return this.#url;
  }

  setTls(tls: TlsFiles): void {
    const server = this.#server;
    if (!server || !('setSecureContext' in server)) {
      throw new RelayError(
        ErrorCodes.badRequest,
        'This Relay does not serve TLS: start it with listen({ tls }) to replace certificates.',
      );
    }
    server.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  /** Stops listening and cuts every connection still open. */
  async close(): Promise<void> {
    const http = this.#server;
    if (!http) return;
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    this.deps.request(req, res).then(
      (handled) => {
        if (!handled) sendNotFound(res);
      },
      (error: unknown) => {
        this.deps.failed(error, req);
        if (res.headersSent) res.destroy();
        else {
          sendError(
            res,
            httpError(500, ErrorCodes.internal, 'The Relay failed on this request. Retry.'),
          );
        }
      },
    );
  }
}
