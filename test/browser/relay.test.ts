import { describe, expect, inject, it } from 'vitest';
import { within } from './helpers.js';

/** The globalSetup's Relay is reachable from the page: token endpoint (CORS) and socket. */
describe('test Relay from the browser', () => {
  it('issues a token over CORS and accepts relay.connect on its socket', async () => {
    const response = await fetch(`${inject('tokenUrl')}?resource=alice`);
    expect(response.ok).toBe(true);
    const { token } = (await response.json()) as { token: string };
    expect(token.split('.')).toHaveLength(3);
    const claims = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));

    const socket = new WebSocket(`${inject('relayUrl').replace(/^http/, 'ws')}/api/relay/ws`);
    try {
      await within(
        new Promise((resolve, reject) => {
          socket.onopen = resolve;
          socket.onerror = reject;
        }),
        5000,
        'socket open',
      );
      const reply = within(
        new Promise<{ result?: { resource: string; iceServers: unknown[] } }>((resolve) => {
          socket.onmessage = (event) => resolve(JSON.parse(String(event.data)));
        }),
        5000,
        'relay.connect reply',
      );
      const params = { project: claims.sub, token };
      socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'relay.connect', params }));
      expect((await reply).result).toMatchObject({ resource: 'alice', iceServers: [] });
    } finally {
      socket.close();
    }
  });
});
