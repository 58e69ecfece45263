import type { IceServer } from '../../protocol/index.js';
import type { CreatePeerOptions, Peer } from '../peer/createPeer.js';
import type { IceRestartOptions } from '../peer/IceRestarter.js';
import type { ClientClock } from '../types.js';
import { MeshSession, type MediaSessionFactory } from './MediaSession.js';
import { SfuSession } from './SfuSession.js';

export interface MediaSessionsOptions {
  /** The ICE servers of now (the Relay's, once connected), read for each new connection. */
  iceServers: () => IceServer[];
  /** Makes the peers of mesh rooms. */
  createPeer: (options: CreatePeerOptions) => Promise<Peer>;
  /** `'relay'`: TURN relay candidates only, in sfu rooms too. Default: `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * ICE restarts of sfu rooms' connections with the media server (mesh peers get theirs from
   * `createPeer`); `false`: none. Default: `{}` (the defaults of `IceRestartOptions`).
   */
  iceRestart?: IceRestartOptions | false;
  /** The clock of those restarts and of mesh peers' connect deadline. Default: the global timers. */
  clock?: ClientClock;
  /** The peer connection constructor of sfu rooms. Default: `globalThis.RTCPeerConnection`. */
  RTCPeerConnection?: typeof RTCPeerConnection | undefined;
}

/**
 * The default way rooms carry media: a MeshSession (peers) for `mesh` rooms, an SfuSession
 * (the Relay's media server) for `sfu` rooms.
 */
export function mediaSessions(options: MediaSessionsOptions): MediaSessionFactory {
  const { iceServers, createPeer, iceTransportPolicy, iceRestart, clock, RTCPeerConnection } =
    options;
  return (session) =>
    session.media === 'sfu'
      ? new SfuSession({
          ...session,
          iceServers,
          iceTransportPolicy: iceTransportPolicy ?? 'all',
          ...(iceRestart === undefined ? {} : { iceRestart }),
          ...(clock ? { clock } : {}),
          ...(RTCPeerConnection ? { RTCPeerConnection } : {}),
        })
      : new MeshSession({ ...session, iceServers, createPeer, ...(clock ? { clock } : {}) });
}
