'use client';
import { useEffect, useState } from 'react';
import type { RelayClient } from '../core/index.js';

/**
 * One lazily created client per provider instance. The effect cleanup does not
 * destroy the client at once but one macrotask later, and a re-run of the effect
 * cancels that: StrictMode's simulated unmount/remount keeps the same client
 * (one connection), a real unmount destroys it.
 */
class ClientCell {
  private client: RelayClient | null = null;
  private readonly teardowns = new Map<RelayClient, ReturnType<typeof setTimeout>>();

  constructor(private readonly create: () => RelayClient) {}

  /** The live client, created on first use. */
  get(): RelayClient {
    this.client ??= this.create();
    return this.client;
  }

  /** Keeps `client` alive; false when it was already destroyed. */
  retain(client: RelayClient): boolean {
    clearTimeout(this.teardowns.get(client));
    this.teardowns.delete(client);
    return this.client === client;
  }

  /** Destroys `client` after the current task unless it is retained again. */
  release(client: RelayClient): void {
    const timer = setTimeout(() => {
      this.teardowns.delete(client);
      if (this.client === client) this.client = null;
      client.destroy();
    }, 0);
    this.teardowns.set(client, timer);
  }
}

/** The provider's client: created on first render, destroyed on real unmount only. */
export function useOwnedRelayClient(create: () => RelayClient): RelayClient {
  const [cell] = useState(() => new ClientCell(create));
  const [, setGeneration] = useState(0);
  const client = cell.get();
  useEffect(() => {
    if (!cell.retain(client)) {
      // Shown again after a real teardown (e.g. <Activity>): render with a fresh client.
      queueMicrotask(() => setGeneration((generation) => generation + 1));
    }
    return () => cell.release(client);
  }, [cell, client]);
  return client;
}
