'use client';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { ConnectionStatus, RelayClient } from '../core/index.js';
import type { RelayError } from '../protocol/index.js';
import { useClientOf } from './RelayContext.js';

export interface UseRelayClientResult {
  /** The provider's client, for anything the hooks do not cover. */
  client: RelayClient;
  status: ConnectionStatus;
  /** Why the client is failed, disconnected or reconnecting; null when fine. */
  error: RelayError | null;
  /** This client's resource (who others call), once connected. */
  resource: string | null;
}

/** The provider's RelayClient and its connection state. */
export function useRelayClient(): UseRelayClientResult {
  const client = useClientOf('useRelayClient');
  const { status, error, resource } = useStore(
    client.store,
    useShallow((state) => ({ status: state.status, error: state.error, resource: state.resource })),
  );
  return { client, status, error, resource };
}
