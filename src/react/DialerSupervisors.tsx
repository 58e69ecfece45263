'use client';
import { useEffect, useRef } from 'react';
import type { SupervisorSnapshot } from '../core/index.js';
import { supervisorText, type DialerLabels } from './dialerLabels.js';

interface DialerSupervisorsProps {
  supervisors: SupervisorSnapshot[];
  labels: DialerLabels;
  /** The call's audio output (`setAudioOutput`); null: the default one. */
  sinkId: string | null;
}

/**
 * Who supervises the Dialer's call, announced politely, and the audio of each supervisor this
 * side hears (a hidden `<audio>` on the call's output). A listening supervisor is never played.
 */
export function DialerSupervisors({ supervisors, labels, sinkId }: DialerSupervisorsProps) {
  return (
    <div className="relaycall-dialer__supervisors" aria-live="polite">
      {supervisors.map((supervisor) => (
        <p
          key={supervisor.participantId}
          className="relaycall-dialer__supervisor"
          data-mode={supervisor.mode}
        >
          {supervisorText(labels, supervisor)}
          {supervisor.heard && supervisor.stream && (
            <SupervisorAudio stream={supervisor.stream} sinkId={sinkId} />
          )}
        </p>
      ))}
    </div>
  );
}

/** A supervisor's audio, played in a hidden `<audio>` on `sinkId` (null: the default output). */
export function SupervisorAudio({
  stream,
  sinkId,
}: {
  stream: MediaStream;
  sinkId: string | null;
}) {
  const audio = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const element = audio.current;
    if (!element) return;
    element.srcObject = stream;
    // Refused autoplay: the call's own media was started by a click, so it rarely happens.
    Promise.resolve()
      .then(() => element.play())
      .catch(() => undefined);
    return () => {
      element.srcObject = null;
    };
  }, [stream]);
  useEffect(() => {
    const element = audio.current;
    if (sinkId == null || !element?.setSinkId) return;
    element.setSinkId(sinkId).catch(() => undefined);
  }, [sinkId]);
  return <audio ref={audio} className="relaycall-dialer__supervisor-audio" autoPlay hidden />;
}
