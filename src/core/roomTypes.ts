import type {
  AssistMode,
  LeftReason,
  ParticipantState,
  RelayError,
  RoomEndReason,
  RoomMedia,
} from '../protocol/index.js';
import type { MediaOptions } from './types.js';

/**
 * Where this client is in a room: `joining` (acquiring media, waiting for the connection or
 * the Relay's answer), `joined`, `reconnecting` (the Relay connection dropped, or the client is
 * joining again as the same participant after the Relay lost its session; media keeps flowing
 * peer to peer meanwhile in `mesh` rooms; an `sfu` room whose media server went down stays here
 * with `error` `sfu_unavailable`, rejoining until it is back), `left` (it left, was removed, the
 * room ended, or joining failed: see `leftReason` and `error`).
 */
export type RoomState = 'joining' | 'joined' | 'reconnecting' | 'left';

/** Why this client is no longer in a room. */
export type RoomLeftReason = LeftReason | RoomEndReason | 'failed';

/** One participant of a room, as this client sees it. Immutable: replaced on every change. */
export interface ParticipantSnapshot {
  /** Participant id, unique within the room. */
  id: string;
  resource: string;
  state: ParticipantState;
  /** This client's own participant. */
  isLocal: boolean;
  /** Metadata the participant joined with. */
  metadata: unknown;
  audioMuted: boolean;
  videoMuted: boolean;
  moderator: boolean;
  /** Its media: the local stream for the local participant, the received one for others. */
  stream: MediaStream | null;
  /**
   * The screen it shares (`startRoomScreenShare`), apart from `stream`: this client's share for
   * the local participant, the received one for others; null when none. Mesh rooms only.
   */
  screenStream: MediaStream | null;
  /** The peer connection with it is up (always true for the local participant). */
  connected: boolean;
  /**
   * `mesh` rooms: the media path with it is down (a network change, an ICE failure) and ICE
   * restarts to restore it (show "Reconnecting…"). If the restarts fail the peer closes and is
   * made again. Always false for the local participant and in `sfu` rooms.
   */
  reconnecting: boolean;
  /**
   * It is speaking now. In `mesh` rooms: its audio level, sampled every 250 ms with Web Audio,
   * is above a threshold (always false where there is no `AudioContext`, e.g. Node). In `sfu`
   * rooms: the media server's voice activity detection says so (`room.talking`).
   */
  speaking: boolean;
  /**
   * Set when the participant is a supervisor (`call.assist`): how it assists. `monitor` is heard
   * by nobody, `whisper` only by `agent`, `barge` by everyone. A supervisor this client does not
   * hear has no `stream` here (it is never played), never becomes the active speaker, and is
   * not shown as a tile by `RoomGrid`. Null for the room's own participants.
   */
  assist: AssistMode | null;
  /** A whispering supervisor's agent: the participant id of the one who hears it; else null. */
  agent: string | null;
}

export interface RoomSnapshot {
  /** The room's name in the project. */
  name: string;
  /** Room id from the Relay, once joined. */
  id: string | null;
  state: RoomState;
  /** This client's participant id, once joined. */
  participantId: string | null;
  /**
   * Every participant, the local one included (once joined), by id; ringing invitees too
   * (`state: 'ringing'`). Empty once left.
   */
  participants: Record<string, ParticipantSnapshot>;
  /** The media this client sends (acquired, or the app's `localStream`); null once left. */
  localStream: MediaStream | null;
  /** The screen this client shares in the room (`startRoomScreenShare`), or null. */
  screenStream: MediaStream | null;
  /**
   * Why this client's share ended by itself after it started (`screen_share_failed`: the media
   * server refused it or its connection failed for good), until the next share; null
   * otherwise. The capture is stopped; share again to retry.
   */
  screenShareError: RelayError | null;
  /** This client's microphone is off (muted, muted by a moderator, or no audio track). */
  audioMuted: boolean;
  /** This client's camera is off (muted, muted by a moderator, or no video track). */
  videoMuted: boolean;
  /**
   * The other participant who spoke the loudest last (in `sfu` rooms: who last started
   * talking; see `speaking`): it stays until another one speaks or it leaves. Never the local
   * participant. Null until someone speaks.
   */
  activeSpeakerId: string | null;
  /** Largest number of participants the room takes (from the Relay, once joined). */
  maxParticipants: number | null;
  /**
   * How the room carries media (the room's, from the Relay, once joined): `mesh` (peer to peer)
   * or `sfu` (through the Relay's media server). Null until joined.
   */
  media: RoomMedia | null;
  leftReason: RoomLeftReason | null;
  /**
   * Typed error when joining failed or the room was left on an error. While `reconnecting`, why
   * the rejoin has not succeeded yet (`sfu_unavailable`: the media server is down, the client
   * tries again); in an `sfu` room that stays joined, why this client's media stopped reaching
   * the media server (`call_failed`). Null when fine.
   */
  error: RelayError | null;
}

/** An invitation into a room (`room.invite` by another participant). */
export interface RoomInvite {
  roomId: string;
  /** Room name: join it with `joinRoom(name)`. */
  name: string;
  /** Resource of the inviter. */
  by: string;
  metadata: unknown;
}

/**
 * How to join a room. `audio: false, video: false` (and no `localStream`) joins without media:
 * the participant receives only, and shows as muted.
 */
export interface RoomJoinOptions extends MediaOptions {
  /** Opaque JSON shown to the others with this participant (e.g. a display name). */
  metadata?: unknown;
  /**
   * How the room carries media when this join creates it (a room that exists keeps its own, see
   * `RoomSnapshot.media`): `mesh` (peer to peer, a few participants) or `sfu` (every
   * participant sends its media once, to the Relay's media server; needs a Relay with Janus,
   * else the join fails with `sfu_unavailable`). Default: `mesh`.
   */
  media?: RoomMedia;
}
