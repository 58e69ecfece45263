import type { Gateway } from '../../protocol/index.js';
import type { CallDirection, CallSnapshot } from '../types.js';

/** The snapshot of a call that has just been placed or has just come in. */
export function newCallSnapshot(
  id: string,
  direction: CallDirection,
  remote: string,
  metadata: unknown,
  gateway: Gateway | null = null,
): CallSnapshot {
  return {
    id,
    direction,
    remote,
    state: 'dialing',
    gateway,
    metadata,
    localStream: null,
    remoteStream: null,
    audioMuted: false,
    videoMuted: false,
    remoteAudioMuted: false,
    remoteVideoMuted: false,
    held: false,
    remoteHeld: false,
    remoteDtmf: '',
    peerConnected: true,
    reconnecting: false,
    startedAt: null,
    endedAt: null,
    endReason: null,
    error: null,
    sipStatus: null,
    audioInputId: null,
    videoInputId: null,
    audioOutputId: null,
    supervisors: [],
    screenSharing: false,
    screenStream: null,
    remoteScreenSharing: false,
    remoteScreenStream: null,
  };
}
