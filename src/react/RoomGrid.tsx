'use client';
import type { CSSProperties, ReactNode } from 'react';
import type { ParticipantSnapshot } from '../core/index.js';
import { ParticipantTile } from './ParticipantTile.js';
import { mergeRoomLabels, type RoomLabels } from './roomLabels.js';
import { RoomSupervisor } from './RoomSupervisor.js';
import { participantName } from './roomParticipants.js';
import { RoomProvider } from './RoomContext.js';
import { useRoom } from './useRoom.js';
import { VideoTile } from './VideoTile.js';

/** What `renderTile` gets besides the participant. */
export interface RoomTileContext {
  /** The participant is the room's active speaker. */
  activeSpeaker: boolean;
  /** Its name: the metadata's `name` when a string, else its resource. */
  name: string;
}

export interface RoomGridProps {
  /** The room to show. Default: the enclosing `<RoomProvider>`'s. Joins nothing by itself. */
  name?: string;
  /** Renders a participant's tile. Default: `<ParticipantTile>`. */
  renderTile?: (participant: ParticipantSnapshot, tile: RoomTileContext) => ReactNode;
  /**
   * Audio output device id for the participants' tiles, applied with setSinkId where the browser
   * supports it. Default: the system's output.
   */
  sinkId?: string | null;
  /** Added to the grid's root (`relaycall-room`). */
  className?: string;
  /** Texts to translate; unspecified ones keep their English default. */
  labels?: Partial<RoomLabels>;
  /** Rendered after the grid, in the room's context: hooks there may omit the room's name. */
  children?: ReactNode;
}

/**
 * The participants of a room in a responsive grid of tiles, you first: the active speaker
 * highlighted, ringing invitees as placeholders. Supervisors (`call.assist`) get no tile: a
 * line under the grid says what each does ("Supervisor listening"…), and those you hear are
 * played. A shared screen gets its own tile after the participants'. Built on `useRoom`,
 * `ParticipantTile` and `VideoTile`.
 */
export function RoomGrid(props: RoomGridProps) {
  const { renderTile, sinkId, className, children } = props;
  const room = useRoom(props.name);
  const labels = mergeRoomLabels(props.labels);
  const { activeSpeakerId } = room;
  const participants = room.participants.filter((p) => !p.assist);
  // Your own assist is yours to show: the others are announced.
  const supervisors = room.participants.filter((p) => p.assist && !p.isLocal);
  // Near-square: 1, 2, 2×2, 3×3…; fewer columns where tiles would be narrower than the minimum.
  const screens = participants.filter((p) => p.screenStream);
  const columns = Math.max(1, Math.ceil(Math.sqrt(participants.length + screens.length)));
  const style = { '--relaycall-room-columns': columns } as CSSProperties;
  return (
    <RoomProvider name={room.name}>
      <ul
        className={className ? `relaycall-room ${className}` : 'relaycall-room'}
        aria-label={labels.room(room.name)}
        data-state={room.state}
        style={style}
      >
        {participants.map((participant) => {
          const activeSpeaker = participant.id === activeSpeakerId;
          return (
            <li key={participant.id} className="relaycall-room__cell">
              {renderTile ? (
                renderTile(participant, { activeSpeaker, name: participantName(participant) })
              ) : (
                <ParticipantTile
                  participant={participant}
                  activeSpeaker={activeSpeaker}
                  sinkId={sinkId}
                  labels={props.labels}
                />
              )}
            </li>
          );
        })}
        {screens.map((participant) => (
          <li key={`${participant.id}-screen`} className="relaycall-room__cell">
            <VideoTile
              className="relaycall-video--screen"
              stream={participant.screenStream}
              label={labels.screenOf(participantName(participant), participant.isLocal)}
              local={participant.isLocal}
              mirrored={false}
              sinkId={sinkId}
            />
          </li>
        ))}
      </ul>
      {supervisors.length > 0 && (
        <div className="relaycall-room__supervisors" aria-live="polite">
          {supervisors.map((supervisor) => (
            <RoomSupervisor
              key={supervisor.id}
              participant={supervisor}
              labels={labels}
              sinkId={sinkId}
            />
          ))}
        </div>
      )}
      {children}
    </RoomProvider>
  );
}
