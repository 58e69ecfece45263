'use client';
import { memo } from 'react';
import type { ParticipantSnapshot } from '../core/index.js';
import { mergeRoomLabels, type RoomLabels } from './roomLabels.js';
import { RoomSupervisor } from './RoomSupervisor.js';
import { participantName } from './roomParticipants.js';
import { VideoTile } from './VideoTile.js';

export interface ParticipantTileProps {
  /** The participant to show (from `useParticipants` or `useParticipant`). */
  participant: ParticipantSnapshot;
  /** Highlight the tile as the room's active speaker. Default: false. */
  activeSpeaker?: boolean;
  /**
   * Audio output device id, applied with setSinkId where the browser supports it. Default: the
   * system's output.
   */
  sinkId?: string | null;
  /** Added to the tile's root (`relaycall-room__tile`). */
  className?: string;
  /** Texts to translate; unspecified ones keep their English default. */
  labels?: Partial<RoomLabels>;
}

/** What the tile says over the video: ringing, away, or still connecting; null when live. */
function statusText(participant: ParticipantSnapshot, labels: RoomLabels): string | null {
  if (participant.state === 'ringing') return labels.ringing;
  if (participant.state === 'away') return labels.away;
  if (!participant.isLocal && !participant.connected) return labels.connecting;
  return null;
}

/**
 * One participant of a room in a `VideoTile`: its name (the metadata's `name`, else its
 * resource), its video or initials, a muted indicator, and its state (`Ringing…` for an
 * invitee, `Reconnecting…` while away). Your own tile is a muted, mirrored preview. A
 * supervisor (`participant.assist`) gets no tile but one line (`labels.supervisor`), and its
 * audio is played only when you hear it. Renders again only when its props change (pass
 * stable `labels`).
 */
export const ParticipantTile = memo(function ParticipantTile(props: ParticipantTileProps) {
  const { participant, activeSpeaker = false, sinkId, className } = props;
  const labels = mergeRoomLabels(props.labels);
  if (participant.assist) {
    return <RoomSupervisor participant={participant} labels={labels} sinkId={sinkId} />;
  }
  const name = participantName(participant);
  const status = statusText(participant, labels);
  const classes = ['relaycall-room__tile'];
  if (activeSpeaker) classes.push('relaycall-room__tile--active-speaker');
  if (className) classes.push(className);
  return (
    <div
      className={classes.join(' ')}
      data-state={participant.state}
      data-local={participant.isLocal ? '' : undefined}
      data-speaking={participant.speaking ? '' : undefined}
    >
      <VideoTile
        stream={participant.state === 'ringing' ? null : participant.stream}
        label={participant.isLocal ? labels.you(name) : name}
        local={participant.isLocal}
        // Your preview stays muted; the indicator shows when your microphone is off.
        muted={participant.isLocal ? participant.audioMuted || undefined : participant.audioMuted}
        videoMuted={participant.videoMuted}
        sinkId={sinkId}
        labels={{ play: labels.play, microphoneMuted: labels.microphoneMuted }}
      />
      {status && <span className="relaycall-room__status">{status}</span>}
    </div>
  );
});
