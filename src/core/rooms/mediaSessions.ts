import type { IceServer } from '../../protocol/index.js';
import type { CreatePeerOptions, Peer } from '../peer/createPeer.js';
import { MeshSession, type MediaSessionFactory } from './MediaSession.js';
import { SfuSession } from './SfuSession.js';

export interface MediaSessionsOptions {
  /** The ICE servers of now (the Relay's, once connected), read for each new connection. */
  iceServers(): IceServer[];
  /** Makes the peers of mesh rooms. */
  createPeer(options: CreatePeerOptions): Promise<Peer>;
  /** `'relay'`: TURN relay candidates only, in sfu rooms too. Default: `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
}

/**
 * The default way rooms carry media: a MeshSession (peers) for `mesh` rooms, an SfuSession
 * (the Relay's media server) for `sfu` rooms.
 */
export function mediaSessions(options: MediaSessionsOptions): MediaSessionFactory {
  const { iceServers, createPeer, iceTransportPolicy } = options;
  return (session) =>
    session.media === 'sfu'
      ? new SfuSession({ ...session, iceServers, iceTransportPolicy: iceTransportPolicy ?? 'all' })
      : new MeshSession({ ...session, iceServers, createPeer });
}
