import type { RelayClient, RoomSnapshot } from '../core/index.js';

/**
 * The room `name` (which the client has) once it is no longer `joining`, or as last seen if it is
 * dismissed meanwhile: for a join another component started, without joining again.
 */
export function settledRoom(client: RelayClient, name: string): Promise<RoomSnapshot> {
  return new Promise((resolve) => {
    let last: RoomSnapshot | undefined;
    const settled = (): boolean => {
      const room = client.store.getState().rooms[name];
      if (room?.state === 'joining') {
        last = room;
        return false;
      }
      const result = room ?? last;
      if (result) resolve(result);
      return true;
    };
    if (settled()) return;
    const unsubscribe = client.store.subscribe(() => {
      if (settled()) unsubscribe();
    });
  });
}
