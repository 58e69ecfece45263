'use client';
import { useCallback } from 'react';
import { useStore } from 'zustand';
import type { CallMessage, SendMessageOptions } from '../core/index.js';
import { ErrorCodes, RelayError } from '../protocol/index.js';
import { useClientOf } from './RelayContext.js';

export interface UseCallMessagesResult {
  /**
   * The messages of the call or room, oldest first: those this client sent (`local`) and those
   * it received, the last 100 (`MAX_MESSAGE_HISTORY`). Kept after the call ends or the room is
   * left, until it is dismissed. The same array until a message comes or goes.
   */
  messages: readonly CallMessage[];
  /**
   * Sends a message (a string, or JSON-serialisable data of at most 16 KiB of JSON) to everyone
   * else, or to one room participant (`options.to`, its participant id). Resolves once sent;
   * rejects with a RelayError (see `RelayClient.sendMessage`): `payload_too_large`,
   * `invalid_state`, `not_connected`…
   */
  send: (body: unknown, options?: SendMessageOptions) => Promise<CallMessage>;
}

const NONE: readonly CallMessage[] = [];

/**
 * In-call messages of the call `id` (a call id, e.g. `useCall().id`) or of the room `id` (its
 * name): the list, and `send`. They travel on the peer data channel where there is one (calls
 * between browsers, mesh rooms), else through the Relay (sfu rooms).
 */
export function useCallMessages(id: string | null): UseCallMessagesResult {
  const client = useClientOf('useCallMessages');
  const messages = useStore(client.store, (state) =>
    id === null ? NONE : (state.messages[id] ?? NONE),
  );
  const send = useCallback(
    (body: unknown, options?: SendMessageOptions) => {
      if (id === null) {
        return Promise.reject(
          new RelayError(
            ErrorCodes.invalidState,
            'No call or room to send the message in: pass a call id or a room name.',
          ),
        );
      }
      return client.sendMessage(id, body, options);
    },
    [client, id],
  );
  return { messages, send };
}
