import { connect, type Socket } from 'node:net';

/** When a client resets its connection (TCP RST) during an upgrade. */
export type ResetMoment =
  /** Sent right behind the request, in the same instant. */
  | 'with-request'
  /** As soon as the first bytes of the answer arrive. */
  | 'on-answer'
  /** Halfway through the request's headers. */
  | 'mid-request';

export const RESET_MOMENTS: readonly ResetMoment[] = ['with-request', 'on-answer', 'mid-request'];

export interface UpgradeRequest {
  path?: string;
  origin?: string;
  /** A broken Sec-WebSocket-Key makes the handshake itself malformed (ws answers 400). */
  key?: string;
  /** Extra header lines, e.g. X-Forwarded-For. */
  headers?: Record<string, string>;
}

/** The raw text of a WebSocket upgrade request. */
export function upgradeRequest({
  path = '/api/relay/ws',
  origin,
  key = 'dGhlIHNhbXBsZSBub25jZQ==',
  headers = {},
}: UpgradeRequest = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: relay.test',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Key: ${key}`,
    ...(origin ? [`Origin: ${origin}`] : []),
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Sends `request` over a fresh TCP connection and resets it (RST, not FIN) at `moment`.
 * Resolves with whatever answer arrived first (often nothing) once the socket is gone.
 */
export function resetDuringUpgrade(
  url: string,
  request: string,
  moment: ResetMoment,
  localAddress?: string,
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: hostname, port: Number(port), localAddress });
    let answer = '';
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.once('connect', () => {
      if (moment === 'mid-request') {
        socket.write(request.slice(0, request.length >> 1));
        setImmediate(() => socket.resetAndDestroy());
        return;
      }
      socket.write(request);
      if (moment === 'with-request') socket.resetAndDestroy();
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (moment === 'on-answer' && !socket.destroyed) socket.resetAndDestroy();
    });
    // The answer never comes when the server waits for more (a held, accepted upgrade).
    socket.setTimeout(2_000, () => socket.resetAndDestroy());
  });
}

/**
 * Writes raw bytes to the server at `url` (or a loopback port) and resolves everything it
 * answers (as latin1) once it closes, or once `ms` passed.
 */
export function rawExchange(
  url: string | number,
  request: string | Buffer,
  { localAddress, ms = 5_000 }: { localAddress?: string; ms?: number } = {},
): Promise<string> {
  const { hostname, port } =
    typeof url === 'number' ? { hostname: '127.0.0.1', port: url } : new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.once('connect', () => socket.write(request));
  });
}
