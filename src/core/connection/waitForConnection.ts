import type { StoreApi } from 'zustand/vanilla';
import { ErrorCodes, RelayError } from '../../protocol/index.js';
import type { ClientClock, RelayClientState } from '../types.js';

/** How the errors say what did not happen (`subject`) and what to do (`retry`). */
export interface WaitWording {
  subject: string;
  retry: string;
}

const CALL_WORDING: WaitWording = { subject: 'The call was not placed', retry: 'call again' };
export const ROOM_WORDING: WaitWording = {
  subject: 'The room was not joined',
  retry: 'join again',
};

/** Why calls waiting for a connection cannot get one, or null while one may still come. */
export function connectionGivenUp(
  state: RelayClientState,
  { subject, retry }: WaitWording = CALL_WORDING,
): RelayError | null {
  const { status, error } = state;
  if (status === 'disconnected') {
    return new RelayError(
      ErrorCodes.notConnected,
      `${subject}: the client was disconnected. Connect, then ${retry}.`,
    );
  }
  // An expired token may still be replaced (updateToken, or the provider's next fetch).
  if (status === 'failed' && error?.code !== ErrorCodes.tokenExpired) {
    return new RelayError(
      ErrorCodes.notConnected,
      `${subject}: the client cannot connect to the Relay (${error?.message ?? 'failed'})`,
      { cause: error },
    );
  }
  return null;
}

/**
 * Resolves once `isConnected()` holds, checked on every store change. Rejects with
 * `not_connected` when the client gives up (see {@link connectionGivenUp}) or after `waitMs`.
 */
export function waitForConnection(
  store: StoreApi<RelayClientState>,
  clock: ClientClock,
  isConnected: () => boolean,
  waitMs: number,
  wording: WaitWording = CALL_WORDING,
): Promise<void> {
  const { subject, retry } = wording;
  if (isConnected()) return Promise.resolve();
  const gaveUp = connectionGivenUp(store.getState(), wording);
  if (gaveUp) return Promise.reject(gaveUp);
  return new Promise((resolve, reject) => {
    const done = () => {
      clock.clearTimeout(timer);
      unsubscribe();
    };
    const timer = clock.setTimeout(() => {
      done();
      reject(
        new RelayError(
          ErrorCodes.notConnected,
          `${subject}: the client could not connect to the Relay within ${Math.round(waitMs / 1000)} s. ` +
            `Check the network and the Relay URL, then ${retry}.`,
        ),
      );
    }, waitMs);
    const unsubscribe = store.subscribe((state) => {
      if (isConnected()) {
        done();
        resolve();
        return;
      }
      const error = connectionGivenUp(state, wording);
      if (error) {
        done();
        reject(error);
      }
    });
  });
}
