import type { AssistMode } from './supervision.js';

/**
 * Rooms: N participants exchanging media, of which a 1:1 call is the two-party case with
 * ringing. See docs/PROTOCOL.md#rooms.
 */

/**
 * Where a participant is in a room:
 * - `ringing`: invited with `room.invite`, its devices are being rung;
 * - `joined`: in the room, exchanging media;
 * - `away`: joined, but its Relay connection dropped (it may resume within the grace period);
 * - `left`: gone (told once, in `room.left`, then forgotten).
 */
export type ParticipantState = 'ringing' | 'joined' | 'away' | 'left';

/** A participant as the Relay describes it in results and events. */
export interface Participant {
  /** Unique within the room; stable while the participant stays (and across resumes). */
  id: string;
  /** Resource (user) of the participant. */
  resource: string;
  state: ParticipantState;
  audioMuted: boolean;
  videoMuted: boolean;
  /** May mute and remove others, and end the room (its token has `rooms:moderate`). */
  moderator: boolean;
  /** Opaque JSON the participant joined with (e.g. a display name). */
  metadata?: unknown;
  /**
   * Set on a supervisor (`call.assist`): how it assists. It is heard by nobody (`monitor`), only
   * by `agent` (`whisper`) or by everyone (`barge`); see docs/PROTOCOL.md#supervision.
   */
  assist?: AssistMode;
  /** A whispering supervisor's agent: the participant id of the one who hears it. */
  agent?: string;
}

/**
 * How a room carries media:
 * - `mesh`: every participant peers with every other (uploads its media once per other);
 * - `sfu`: every participant sends its media once, to the Relay's media server (Janus), and
 *   receives each other participant's from it. The Relay carries the negotiation: see
 *   {@link SFU_PEER}.
 */
export type RoomMedia = 'mesh' | 'sfu';

/**
 * In an `sfu` room, the `to` of `room.signal` (and the `from` of its events) that stands for
 * this participant's upload to the media server: an offer sent to it is answered by it, and
 * ICE candidates go with it. A `room.signal` to another participant's id is about receiving
 * that participant's media from the server: `{ type: 'subscribe', quality? }` asks for it (the
 * offer comes back from that participant's id once it sends media), `{ type: 'answer' }` and
 * candidates complete it, `{ type: 'quality', quality }` picks its simulcast layer.
 */
export const SFU_PEER = '@sfu';

/** Which simulcast layer of a participant's video a subscriber receives through an SFU. */
export type VideoQuality = 'low' | 'medium' | 'high';

/** Why a participant left. */
export type LeftReason = 'left' | 'removed' | 'disconnected' | 'declined' | 'no-answer';

/** Why a room ended for everyone in it. */
/**
 * Why a room ended: a moderator `ended` it, it became `empty`, or (several nodes) the node
 * holding it went away: `disconnected`, after which its participants join it again by name.
 */
export type RoomEndReason = 'ended' | 'empty' | 'disconnected';

export interface RoomJoinParams {
  /** Room name within the project; the room is created by its first participant. */
  name: string;
  /** Opaque JSON shown to the others with this participant (at most maxMetadataBytes). */
  metadata?: unknown;
  /**
   * The participant id this client had in the room before its session was lost (a Relay
   * restart): taken again when free, so the others keep their media with it.
   */
  participantId?: string;
  audioMuted?: boolean;
  videoMuted?: boolean;
  /**
   * How a room created by this join carries media (ignored when the room exists): `sfu` needs
   * a Relay with a media server (else `sfu_unavailable`). Default `mesh`.
   */
  media?: RoomMedia;
}

export interface RoomJoinResult {
  roomId: string;
  name: string;
  media: RoomMedia;
  /** This session's participant id in the room. */
  participantId: string;
  /** Everyone in the room, this participant included. */
  participants: Participant[];
  /** Largest number of participants the room takes. */
  maxParticipants: number;
}

export interface RoomIdParams {
  roomId: string;
}

export interface RoomInviteParams extends RoomIdParams {
  /** Resource to ring into the room. */
  to: string;
  metadata?: unknown;
}

export interface RoomSignalParams extends RoomIdParams {
  /** Participant the signal is for. */
  to: string;
  /** Opaque WebRTC payload (SDP or ICE candidate). */
  signal: unknown;
}

export interface RoomUpdateParams extends RoomIdParams {
  audioMuted?: boolean;
  videoMuted?: boolean;
}

export interface RoomModerateParams extends RoomIdParams {
  /** Participant acted on. */
  participantId: string;
}

export interface RoomMuteParams extends RoomModerateParams {
  kind: 'audio' | 'video';
}

/** Every room event names its room, and who caused it (`from`, a participant id, or null for the Relay). */
export interface RoomEvent {
  seq: number;
  roomId: string;
  from: string | null;
}

/** `room.joined` (a participant arrived) and `room.updated` (its state or mute flags changed). */
export interface RoomParticipantEvent extends RoomEvent {
  participant: Participant;
}

export interface RoomLeftEvent extends RoomEvent {
  participant: Participant;
  reason: LeftReason;
}

export interface RoomSignalEvent extends RoomEvent {
  /** The sending participant. */
  from: string;
  signal: unknown;
}

/** `room.invited`: this session is rung into a room; join it by name, or decline with `room.decline`. */
export interface RoomInvitedEvent extends RoomEvent {
  name: string;
  /** Resource of the inviter. */
  by: string;
  metadata?: unknown;
}

/** `room.muted`: a moderator muted this participant (the client turns its track off). */
export interface RoomMutedEvent extends RoomEvent {
  kind: 'audio' | 'video';
}

/**
 * `room.media`: the room's media changed (a mesh room outgrew the mesh on a Relay with an SFU,
 * and is `sfu` from now on). Clients join it again (`room.join`, as the participant they are)
 * and set up their media the room's new way.
 */
export interface RoomMediaEvent extends RoomEvent {
  media: RoomMedia;
}

/** `room.talking` (`sfu` rooms): the media server heard a participant start or stop talking. */
export interface RoomTalkingEvent extends RoomEvent {
  participantId: string;
  talking: boolean;
}

export interface RoomEndedEvent extends RoomEvent {
  reason: RoomEndReason;
}
