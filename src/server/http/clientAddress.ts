import type { IncomingMessage } from 'node:http';

/**
 * The address a request comes from, as the Relay's per-address limits count it. With
 * `trustProxy`, the last X-Forwarded-For entry: the one the proxy in front appended (earlier
 * entries are the client's to forge). Otherwise the TCP peer.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const forwarded = Array.isArray(header) ? header.join(',') : header;
    const last = forwarded?.split(',').pop()?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
