/**
 * The standalone server's deadlines hold to the second: a client that trickles its headers, an
 * upgrade that never completes, a connection that sends nothing, or a body that never ends is
 * closed within its deadline plus the one-second check. Node checks deadlines on
 * `connectionsCheckingInterval`, 30 s by default, so they used to be closed after ~30 s
 * whatever the configured deadline.
 *
 * Node's HTTP deadlines run on the real clock, so these tests do too; small deadlines keep them
 * short. The bounds are generous below (the deadline itself) and above (deadline + the 1 s check
 * + 2 s for a loaded machine), and far from the 30 s of the fault.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { basic, startRelay, type TestRelay, PROJECT } from './helpers.js';
import { upgradeRequest } from './rawHttp.js';

const HEADERS_MS = 1_000;
const REQUEST_MS = 1_500;
const CHECK_MS = 1_000;
const SLACK_MS = 2_000;

let relay: TestRelay | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await relay?.close();
});

/** Connects, runs `drive` on the socket, and resolves how long the server took to close it. */
async function timeToClose(url: string, drive: (socket: Socket) => void): Promise<number> {
  const { port } = new URL(url);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  sockets.push(socket);
  socket.on('error', () => undefined);
  socket.resume();
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = performance.now();
  drive(socket);
  await new Promise((resolve) => socket.once('close', resolve));
  return performance.now() - started;
}

/** Writes `text` a byte every 100 ms, forever (until the socket closes). */
function trickle(socket: Socket, text: string): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(text[at++ % text.length] ?? ' ');
  }, 100);
  socket.once('close', () => clearInterval(timer));
}

describe('deadlines of the standalone server', () => {
  it.each([
    ['trickled request headers', (s: Socket) => trickle(s, 'GET /healthz HTTP/1.1\r\nX-A: ')],
    ['a trickled upgrade', (s: Socket) => trickle(s, upgradeRequest().slice(0, -4))],
    ['a connection that sends nothing', () => undefined],
  ])('closes %s within headersTimeoutMs', async (_, drive) => {
    relay = await startRelay({
      limits: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS },
    });
    const elapsed = await timeToClose(relay.url, drive);
    expect(elapsed).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(elapsed).toBeLessThan(HEADERS_MS + CHECK_MS + SLACK_MS);
  });

  it('closes a chunked body that never ends within requestTimeoutMs', async () => {
    relay = await startRelay({
      limits: { headersTimeoutMs: HEADERS_MS, requestTimeoutMs: REQUEST_MS },
    });
    const elapsed = await timeToClose(relay.url, (socket) => {
      socket.write(
        'POST /api/relay/rest/jwt HTTP/1.1\r\nHost: relay.test\r\n' +
          `Authorization: ${basic(PROJECT)}\r\nContent-Type: application/json\r\n` +
          'Transfer-Encoding: chunked\r\n\r\n',
      );
      trickle(socket, '1\r\n \r\n');
    });
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(elapsed).toBeLessThan(REQUEST_MS + CHECK_MS + SLACK_MS);
  });
});
