'use client';
import { useEffect, useRef } from 'react';
import type { RelayClient } from '../core/index.js';

interface Leaving {
  client: RelayClient;
  name: string;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * `useRoom`'s `autoJoin` and `leaveOnUnmount`. The leave is deferred one task and cancelled when
 * the effect runs again for the same room: StrictMode's simulated unmount and remount stays in
 * the room, a real unmount (or a new `name`) leaves it.
 */
export function useRoomLifecycle(
  client: RelayClient,
  name: string,
  join: () => Promise<unknown>,
  options: { autoJoin?: boolean; leaveOnUnmount?: boolean } | undefined,
): void {
  const { autoJoin = false, leaveOnUnmount = false } = options ?? {};
  const leaving = useRef<Leaving | null>(null);
  useEffect(() => {
    const previous = leaving.current;
    if (previous?.client === client && previous.name === name) {
      clearTimeout(previous.timer);
      leaving.current = null;
    }
    if (autoJoin) void join();
    if (!leaveOnUnmount) return undefined;
    return () => {
      const timer = setTimeout(() => {
        if (leaving.current?.timer === timer) leaving.current = null;
        client.leaveRoom(name);
      }, 0);
      leaving.current = { client, name, timer };
    };
  }, [client, name, join, autoJoin, leaveOnUnmount]);
}
