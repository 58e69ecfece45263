import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Caps the HTTP connections one client address holds on `server` at once: past `max`, a new
 * connection from it is closed before anything is read. A connection stops counting when it
 * closes or becomes a WebSocket (the signaling limits take over then).
 */
export function limitConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  const counted = new WeakMap<Socket, string>();
  const release = (socket: Socket) => {
    const address = counted.get(socket);
    if (address === undefined) return;
    counted.delete(socket);
    const count = (open.get(address) ?? 1) - 1;
    if (count > 0) open.set(address, count);
    else open.delete(address);
  };
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    counted.set(socket, address);
    socket.once('close', () => release(socket));
  });
  server.on('upgrade', (_req, socket: Socket) => release(socket));
}
