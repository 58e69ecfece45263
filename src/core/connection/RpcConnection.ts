import {
  CloseCodes,
  ErrorCodes,
  RelayError,
  RelayRpcError,
  WS_PATH,
  type ErrorCode,
  type Method,
  type MethodParams,
  type MethodResult,
} from '../../protocol/index.js';
import type { ClientClock, WebSocketFactory, WebSocketLike } from '../types.js';

export interface RpcConnectionOptions {
  /** Relay base URL (http, https, ws or wss); the signaling path is added when missing. */
  url: string;
  WebSocket: WebSocketFactory;
  clock: ClientClock;
  /** A request without a reply after this long fails with `timeout`, in ms. */
  requestTimeoutMs: number;
  onNotification(method: string, params: Record<string, unknown>): void;
  /** The socket closed (not called after `close()` by us). */
  onClose(code: number, reason: string): void;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: RelayError): void;
  timer: unknown;
}

/** The signaling socket: JSON-RPC 2.0 requests with timeouts, and notifications. */
export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly ws: WebSocketLike,
    private readonly options: RpcConnectionOptions,
  ) {
    ws.onmessage = (event) => this.onMessage(event.data);
    ws.onclose = (event) => this.onSocketClose(event.code, event.reason);
    ws.onerror = () => undefined;
  }

  /** Opens the socket; rejects with `network_error` when it cannot. */
  static open(options: RpcConnectionOptions): Promise<RpcConnection> {
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = new options.WebSocket(signalingUrl(options.url));
      } catch (cause) {
        reject(networkError(options.url, cause));
        return;
      }
      const timer = options.clock.setTimeout(() => {
        ws.onopen = ws.onclose = null;
        ws.close();
        reject(networkError(options.url, 'timeout'));
      }, options.requestTimeoutMs);
      ws.onopen = () => {
        options.clock.clearTimeout(timer);
        resolve(new RpcConnection(ws, options));
      };
      ws.onerror = () => undefined;
      ws.onclose = (event) => {
        options.clock.clearTimeout(timer);
        reject(networkError(options.url, `closed with ${event.code}`));
      };
    });
  }

  /** Sends a request; rejects with a RelayRpcError, `timeout`, `closed` or `not_connected`. */
  request<M extends Method>(method: M, params: MethodParams<M>): Promise<MethodResult<M>> {
    if (this.closed) return Promise.reject(notConnected());
    const id = this.nextId++;
    return new Promise<MethodResult<M>>((resolve, reject) => {
      const timer = this.options.clock.setTimeout(() => {
        this.pending.delete(id);
        reject(
          new RelayError(ErrorCodes.timeout, `The Relay did not answer ${method} in time. Retry.`),
        );
      }, this.options.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Sends a JSON-RPC notification: no id, so the Relay acts on it without replying. */
  notify<M extends Method>(method: M, params: MethodParams<M>): void {
    if (!this.closed) this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Closes the socket without reporting it through onClose. Pending requests fail. */
  close(code: number = CloseCodes.normal, reason = ''): void {
    if (this.closed) return;
    this.finish();
    this.ws.onclose = null;
    this.ws.onmessage = null;
    try {
      this.ws.close(code, reason);
    } catch {
      // A socket that never opened or is already closing: nothing left to close.
    }
  }

  private onMessage(data: unknown): void {
    let parsed: RpcMessage | RpcMessage[];
    try {
      parsed = JSON.parse(String(data)) as RpcMessage | RpcMessage[];
    } catch {
      return;
    }
    // The Relay sends the messages of one turn together, as a JSON-RPC batch (an array).
    if (Array.isArray(parsed)) {
      for (const message of parsed) if (message) this.handle(message);
    } else if (parsed) this.handle(parsed);
  }

  private handle(message: RpcMessage): void {
    if (typeof message.id === 'number') {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      this.options.clock.clearTimeout(pending.timer);
      if (message.error) {
        const { code, message: text, data: details } = message.error;
        pending.reject(
          new RelayRpcError(code, (details?.code ?? ErrorCodes.internal) as ErrorCode, text),
        );
      } else {
        pending.resolve(message.result);
      }
      return;
    }
    if (typeof message.method === 'string' && typeof message.params === 'object') {
      this.options.onNotification(message.method, message.params as Record<string, unknown>);
    }
  }

  private onSocketClose(code: number, reason: string): void {
    if (this.closed) return;
    this.finish();
    this.options.onClose(code, reason);
  }

  private finish(): void {
    this.closed = true;
    for (const pending of this.pending.values()) {
      this.options.clock.clearTimeout(pending.timer);
      pending.reject(
        new RelayError(ErrorCodes.closed, 'The connection to the Relay closed. Retry when back.'),
      );
    }
    this.pending.clear();
  }
}

/** ws(s)://host/api/relay/ws from a base URL in any of the accepted forms. */
export function signalingUrl(base: string): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = WS_PATH;
  return url.toString();
}

/** A request that was not sent: no connection is open (it never reached the Relay). */
export function notConnected(): RelayError {
  return new RelayError(
    ErrorCodes.notConnected,
    'Not connected to the Relay, so nothing was sent. It is sent once the client is connected.',
  );
}

function networkError(url: string, cause: unknown): RelayError {
  return new RelayError(
    ErrorCodes.network,
    `Could not reach the Relay at ${url}. Check the URL and your connection; retrying.`,
    { cause },
  );
}

interface RpcMessage {
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: { code?: string } };
}

/** A typed signaling request, as the managers get it from the client. */
export type RequestFn = <M extends Method>(
  method: M,
  params: MethodParams<M>,
) => Promise<MethodResult<M>>;
