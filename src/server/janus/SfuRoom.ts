import type { Room } from '../rooms/Room.js';
import type { SfuParticipant } from './SfuParticipant.js';

/** A room's media on Janus: a videoroom with a secret and a pin only the Relay knows. */
export interface SfuRoom {
  readonly room: Room;
  readonly janusId: number;
  readonly secret: string;
  readonly pin: string;
  /** Resolves once the videoroom exists on Janus. */
  readonly created: Promise<void>;
  readonly participants: Map<string, SfuParticipant>;
  /** Participant id of each published camera feed (screen shares are not listed: not talking). */
  readonly feeds: Map<number, string>;
  readonly talking: Set<string>;
}
