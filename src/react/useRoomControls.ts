'use client';
import { useMemo } from 'react';
import type { RelayClient } from '../core/index.js';
import type { VideoQuality } from '../protocol/index.js';

/** What can be done in a room. Each acts on the room's latest state in the client. */
export interface RoomControls {
  /** Leaves the room (the others stay); the room shows `left` until `dismiss()`. */
  leave: () => void;
  /** Removes the room from the client (leaving it first if needed); the hook shows `idle`. */
  dismiss: () => void;
  setAudioMuted: (muted: boolean) => void;
  setVideoMuted: (muted: boolean) => void;
  /** Mutes or unmutes your microphone in the room. */
  toggleAudio: () => void;
  /** Turns your camera off or on in the room. */
  toggleVideo: () => void;
  /**
   * Rings the resource `to` into the room (it shows as a ringing participant until it joins or
   * declines). Rejects with a RelayError when the Relay refuses.
   */
  invite: (to: string, metadata?: unknown) => Promise<void>;
  /** Moderators (`isModerator`): mutes a participant's audio or video. Rejects when refused. */
  muteParticipant: (participantId: string, kind: 'audio' | 'video') => Promise<void>;
  /** Moderators: removes a participant from the room. Rejects when refused. */
  removeParticipant: (participantId: string) => Promise<void>;
  /** Moderators: ends the room for everyone in it. Rejects when refused. */
  end: () => Promise<void>;
  /**
   * In an `sfu` room, which layer of a participant's video you receive: `low` (¼ resolution,
   * ~100 kbit/s), `medium` (½, ~300 kbit/s) or `high` (full, ~900 kbit/s; the default), e.g.
   * `low` for thumbnails and `high` for the active speaker. Kept across rejoins; may be set
   * before the participant's video arrives. Does nothing in `mesh` rooms.
   */
  setQuality: (participantId: string, quality: VideoQuality) => void;
}

/** Controls bound to the room `name` of `client`. */
export function useRoomControls(client: RelayClient, name: string): RoomControls {
  return useMemo(() => {
    const room = () => client.store.getState().rooms[name];
    return {
      leave: () => client.leaveRoom(name),
      dismiss: () => client.dismissRoom(name),
      setAudioMuted: (muted) => client.setRoomAudioMuted(name, muted),
      setVideoMuted: (muted) => client.setRoomVideoMuted(name, muted),
      toggleAudio: () => client.setRoomAudioMuted(name, !(room()?.audioMuted ?? false)),
      toggleVideo: () => client.setRoomVideoMuted(name, !(room()?.videoMuted ?? false)),
      invite: (to, metadata) => client.inviteToRoom(name, to, metadata),
      muteParticipant: (id, kind) => client.muteParticipant(name, id, kind),
      removeParticipant: (id) => client.removeParticipant(name, id),
      end: () => client.endRoom(name),
      setQuality: (id, quality) => client.setRoomQuality(name, id, quality),
    };
  }, [client, name]);
}
