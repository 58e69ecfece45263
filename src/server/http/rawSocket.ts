import type { Duplex } from 'node:stream';
import { ErrorCodes, type ErrorCode } from '../../protocol/index.js';

const guarded = new WeakSet<Duplex>();

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * Gives a raw socket (an upgrade's) an 'error' listener. Node removes its own when it hands
 * the socket to an 'upgrade' listener, so a client resetting the connection (ECONNRESET,
 * EPIPE) would otherwise raise an unhandled 'error' and end the process.
 */
export function guardSocket(socket: Duplex): void {
  if (guarded.has(socket)) return;
  guarded.add(socket);
  socket.on('error', destroyOnError);
}

const REFUSALS: Record<number, { text: string; code: ErrorCode; retryAfter?: number }> = {
  403: { text: 'Forbidden', code: ErrorCodes.forbidden },
  404: { text: 'Not Found', code: ErrorCodes.notFound },
  429: { text: 'Too Many Requests', code: ErrorCodes.rateLimited, retryAfter: 1 },
  503: { text: 'Service Unavailable', code: ErrorCodes.unavailableService, retryAfter: 1 },
};

/**
 * Refuses a WebSocket upgrade with an HTTP answer and a JSON error body, then lets the socket
 * go: it is destroyed once the answer is written, so a client that never closes its side does
 * not keep it.
 */
export function rejectUpgrade(
  socket: Duplex,
  status: 403 | 404 | 429 | 503,
  message: string,
): void {
  guardSocket(socket);
  const { text, code, retryAfter } = REFUSALS[status] as (typeof REFUSALS)[number];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      (retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`) +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
