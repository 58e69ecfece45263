'use client';
import type { ParticipantSnapshot } from '../core/index.js';
import { SupervisorAudio } from './DialerSupervisors.js';
import type { RoomLabels } from './roomLabels.js';

interface RoomSupervisorProps {
  /** A participant with `assist` set. */
  participant: ParticipantSnapshot;
  labels: RoomLabels;
  /** Audio output device id; null or undefined: the default one. */
  sinkId: string | null | undefined;
}

/**
 * A supervisor of the room, shown as one line instead of a tile ("Supervisor listening",
 * "Supervisor whispering to you", "Supervisor joined the room"), with its audio played when
 * this participant hears it (the client gives a stream only then).
 */
export function RoomSupervisor({ participant, labels, sinkId }: RoomSupervisorProps) {
  const { supervisor: text } = labels;
  const heard = participant.stream !== null && !participant.isLocal;
  const sentence =
    participant.assist === 'barge'
      ? text.joined(participant.resource)
      : heard
        ? text.whispering(participant.resource)
        : text.listening(participant.resource);
  return (
    <p
      className="relaycall-room__supervisor"
      data-mode={participant.assist ?? undefined}
      data-local={participant.isLocal ? '' : undefined}
    >
      {sentence}
      {heard && participant.stream && (
        <SupervisorAudio stream={participant.stream} sinkId={sinkId ?? null} />
      )}
    </p>
  );
}
