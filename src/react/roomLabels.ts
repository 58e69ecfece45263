import type { VideoTileLabels } from './VideoTile.js';

/** Every text `<RoomGrid>` and `<ParticipantTile>` show; pass some to `labels` to translate them. */
export interface RoomLabels extends VideoTileLabels {
  /** Accessible name of the grid, from the room's name. */
  room: (name: string) => string;
  /** The tile of a participant's shared screen (`local`: this client's own). */
  screenOf: (name: string, local: boolean) => string;
  /** Caption of your own tile, from your name. */
  you: (name: string) => string;
  /** Shown on the tile of someone invited whose devices are ringing. */
  ringing: string;
  /** Shown while a participant's connection to the Relay is lost (it may come back). */
  away: string;
  /** Shown while the media connection with a participant is being set up. */
  connecting: string;
  /**
   * What a supervisor of the room does, shown in place of a tile (each gets the supervisor's
   * resource): `listening` (it hears the room, or whispers to someone else), `whispering` (only
   * you hear it), `joined` (it barged in: everyone hears it).
   */
  supervisor: Record<'listening' | 'whispering' | 'joined', (supervisor: string) => string>;
}

export const defaultRoomLabels: RoomLabels = {
  play: 'Play',
  microphoneMuted: 'Microphone muted',
  room: (name) => `Room ${name}`,
  screenOf: (name, local) => (local ? 'Your screen' : `${name}'s screen`),
  you: (name) => `${name} (you)`,
  ringing: 'Ringing…',
  away: 'Reconnecting…',
  connecting: 'Connecting…',
  supervisor: {
    listening: () => 'Supervisor listening',
    whispering: () => 'Supervisor whispering to you',
    joined: () => 'Supervisor joined the room',
  },
};

/** Merges partial labels (also a partial `supervisor`) over the defaults. */
export function mergeRoomLabels(labels: Partial<RoomLabels> | undefined): RoomLabels {
  if (!labels) return defaultRoomLabels;
  return {
    ...defaultRoomLabels,
    ...labels,
    supervisor: { ...defaultRoomLabels.supervisor, ...labels.supervisor },
  };
}
