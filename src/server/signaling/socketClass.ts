import { WebSocket, type RawData } from 'ws';
import type { Connection } from './Connection.js';

/** What a server does with its sockets' events. */
export interface SocketEvents {
  message(connection: Connection, data: RawData, isBinary: boolean): void;
  ping(connection: Connection, data: Buffer): void;
  close(connection: Connection, code: number): void;
  /** ws found a protocol violation on the socket (it closes next). */
  error(connection: Connection, error: Error): void;
}

/**
 * ws's WebSocket, its events handed straight to the server instead of listeners: five
 * closures per socket, and the listener table they turn into, were a fifth of an idle
 * session's heap. Listeners added with on()/once() still hear every event.
 */
export function socketClass(events: SocketEvents): typeof WebSocket {
  return class RelaySocket extends WebSocket {
    connection: Connection | undefined = undefined;

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const { connection } = this;
      if (connection) {
        switch (event) {
          case 'message':
            events.message(connection, args[0] as RawData, args[1] as boolean);
            break;
          case 'ping':
            events.ping(connection, args[0] as Buffer);
            break;
          case 'pong':
            connection.alive = true;
            break;
          case 'close':
            events.close(connection, args[0] as number);
            break;
          case 'error':
            // ws reports frame violations (oversized, bad UTF-8, bad framing) here, then
            // closes with 1009/1007/1002 but no longer reads, so 'close' says 1006.
            connection.violated = true;
            events.error(connection, args[0] as Error);
            // Handled: without listeners, an 'error' emitted would throw.
            if (this.listenerCount('error') === 0) return true;
            break;
        }
      }
      return super.emit(event, ...args);
    }
  };
}
