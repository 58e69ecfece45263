import type { Member, Room } from './Room.js';

/**
 * What an SFU tells the rooms of this node: the RoomManager delivers it to the participants.
 * Rooms are passed back as the SfuMedia was given them.
 */
export interface SfuOutput {
  /** A signal for participant `to` (a participant id), `from` SFU_PEER or the participant it is about. */
  signal(room: Room, to: string, from: string, signal: unknown): void;
  /** The SFU heard a participant start or stop talking. */
  talking(room: Room, participantId: string, talking: boolean): void;
  /** The SFU lost the room (it went down, or refused to create it): the room ends `disconnected`. */
  lost(room: Room): void;
}

/**
 * The seam between the rooms of a node and a selective forwarding unit carrying the media of its
 * `sfu` rooms (JanusSfu). The RoomManager checks requests and membership; the SFU only carries
 * media, and learns of membership changes through these calls.
 */
export interface SfuMedia {
  /** The media server answers now: `sfu` rooms may be created and joined. */
  readonly available: boolean;
  /** `sfu` rooms the SFU holds media for now. */
  readonly size: number;
  /** Tells the SFU where to deliver (set once, before any room). */
  connect(output: SfuOutput): void;
  /**
   * A participant's `room.signal` in an `sfu` room: to SFU_PEER (its upload) or to another
   * participant (its download of that participant). Answers come through SfuOutput.signal.
   */
  signal(room: Room, member: Member, to: string, signal: unknown): void;
  /** A moderator muted, or the participant unmuted itself: the SFU stops or resumes forwarding. */
  muted(room: Room, member: Member, kind: 'audio' | 'video', muted: boolean): void;
  /** A participant left the room (or was removed): its media stops. */
  left(room: Room, member: Member): void;
  /** The room ended: the SFU drops it. */
  closed(room: Room): void;
  /** Stops: every room's media ends (nobody is told). */
  close(): Promise<void>;
}
