import type SimplePeer from 'simple-peer';
import type { ClientClock } from '../types.js';
import { IceRestarter, type IceRestartOptions } from './IceRestarter.js';

/** The simple-peer internals the restart replaces or drives (the same in its min bundle). */
interface SimplePeerInternals {
  _onIceStateChange(): void;
  _onConnectionStateChange(): void;
  negotiate(): void;
  destroy(error?: Error): void;
  offerOptions: RTCOfferOptions;
}

export interface RestartWiring {
  sp: SimplePeer.Instance;
  pc: RTCPeerConnection;
  initiator: boolean;
  clock: ClientClock | undefined;
  options: IceRestartOptions;
  /** Emits a signal for the other side. */
  signal(data: Record<string, unknown>): void;
  reconnecting: (reconnecting: boolean) => void;
}

const globalClock: ClientClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A signal asking the initiator for an ICE restart (older peers just renegotiate). */
export const isRestartRequest = (data: unknown): boolean =>
  typeof data === 'object' && data !== null && 'iceRestart' in data;

/**
 * Makes a connected simple-peer survive ICE failures: where it would destroy itself on ICE or
 * connection `failed`, an IceRestarter restarts ICE instead (`restartIce()` and a new offer on
 * the initiator; a `renegotiate` request carrying `iceRestart` from the other side), and only
 * its giving up ends the peer, as the same ICE failure simple-peer reports. The data channel's
 * SCTP association survives a restart.
 */
export function makeRestartable(wiring: RestartWiring): IceRestarter {
  const { sp, pc, initiator } = wiring;
  const internals = sp as unknown as SimplePeerInternals;
  const clock = wiring.clock ?? globalClock;
  let requests = 0;
  const restarter = new IceRestarter(
    {
      clock,
      iceState: () => pc.iceConnectionState,
      restart() {
        if (!initiator) {
          // Unique per request: the Relay's receivers drop a signal they have already seen.
          requests += 1;
          wiring.signal({
            type: 'renegotiate',
            renegotiate: true,
            iceRestart: `${clock.now()}.${requests}`,
          });
          return;
        }
        if (typeof pc.restartIce === 'function') pc.restartIce();
        else internals.offerOptions = { ...internals.offerOptions, iceRestart: true };
        try {
          internals.negotiate();
        } catch {
          // destroyed meanwhile: its close stops the restarter
        }
      },
      giveUp() {
        internals.destroy(
          Object.assign(new Error('ICE could not reconnect after restarts.'), {
            code: 'ERR_ICE_CONNECTION_FAILURE',
          }),
        );
      },
      reconnecting: wiring.reconnecting,
    },
    wiring.options,
  );
  const onIce = internals._onIceStateChange.bind(sp);
  internals._onIceStateChange = () => {
    restarter.iceStateChanged();
    if (restarter.active && pc.iceConnectionState === 'failed') return;
    onIce();
  };
  const onConnection = internals._onConnectionStateChange.bind(sp);
  internals._onConnectionStateChange = () => {
    // A DTLS failure (ICE up) is not the network's: simple-peer's handling stands.
    const iceDown = !['connected', 'completed'].includes(pc.iceConnectionState);
    if (restarter.active && iceDown && pc.connectionState === 'failed') return;
    onConnection();
  };
  return restarter;
}
