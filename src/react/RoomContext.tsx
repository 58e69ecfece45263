'use client';
import { createContext, useContext, type ReactNode } from 'react';
import { ErrorCodes, RelayError } from '../protocol/index.js';

/** The name of the room the subtree shows; null outside `<RoomProvider>` and `<RoomGrid>`. */
const RoomContext = createContext<string | null>(null);

export interface RoomProviderProps {
  /** The room's name (as given to `useRoom` or `joinRoom`). */
  name: string;
  children?: ReactNode;
}

/**
 * Names a room for its subtree: inside it, `useRoom()`, `useParticipants()`,
 * `useParticipant(id)` and `<RoomGrid>` may omit the room's name. `<RoomGrid>` provides one too.
 * Joins nothing by itself.
 */
export function RoomProvider({ name, children }: RoomProviderProps) {
  return <RoomContext.Provider value={name}>{children}</RoomContext.Provider>;
}

/** `name`, else the enclosing room's, else an `invalid_params` RelayError naming `hook`. */
export function useRoomName(hook: string, name: string | undefined): string {
  const enclosing = useContext(RoomContext);
  const resolved = name ?? enclosing;
  if (resolved === null) {
    throw new RelayError(
      ErrorCodes.invalidParams,
      `${hook} needs a room: pass the room's name, or render it inside <RoomProvider name={…}> or <RoomGrid name={…}>.`,
    );
  }
  return resolved;
}
