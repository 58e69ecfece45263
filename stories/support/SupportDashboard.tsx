/**
 * A support dashboard as an app builds it from the public hooks: the project's ongoing calls
 * (`useCallList`), and for each one buttons to listen in, whisper to a participant or barge in
 * (`useAssist`), with what the supervisor hears.
 */
import { useEffect, useRef, useState } from 'react';
import {
  formatDuration,
  useAssist,
  useCallList,
  useRelayClient,
  type AssistParty,
  type CallRecord,
} from 'relaycall';

/** Plays what the supervisor receives from one party. */
function PartyAudio({ party }: { party: AssistParty }) {
  const audio = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const element = audio.current;
    if (!element || !party.stream) return;
    element.srcObject = party.stream;
    element.play().catch(() => undefined);
    return () => {
      element.srcObject = null;
    };
  }, [party.stream]);
  return <audio ref={audio} autoPlay hidden data-party={party.resource} />;
}

function CallRow({ call, now }: { call: CallRecord; now: number }) {
  const { assist, monitor, whisper, barge, stop, error } = useAssist(call.id);
  const assisting = assist !== null && assist.state !== 'ended';
  const parties = call.participants.filter((p) => p.role !== 'supervisor');
  const browsers = parties.filter(
    (p) => !p.resource.startsWith('+') && !p.resource.startsWith('sip:'),
  );
  const label =
    call.kind === 'room' ? `Room ${call.name ?? ''}` : parties.map((p) => p.resource).join(' → ');
  return (
    <li className="story-support__call" aria-label={label} data-state={call.state}>
      <div className="story-support__summary">
        <strong>{label}</strong>{' '}
        <small>
          {call.media} · {call.state}
          {call.answeredAt !== undefined &&
            ` · ${formatDuration(Math.max(0, Math.floor((now - call.answeredAt) / 1000)))}`}
        </small>
      </div>
      <ul className="story-support__people">
        {call.participants.map((p) => (
          <li key={p.id} data-role={p.role}>
            {p.resource}{' '}
            <small>
              ({p.assist ? `supervisor, ${p.assist}` : p.role}, {p.state})
            </small>
          </li>
        ))}
      </ul>
      <div className="story-support__actions" role="group" aria-label={`Assist ${label}`}>
        <button type="button" disabled={call.state !== 'active'} onClick={() => void monitor()}>
          Monitor
        </button>
        {browsers.map((p) => (
          <button
            key={p.id}
            type="button"
            disabled={call.state !== 'active'}
            onClick={() => void whisper(p.id)}
          >
            Whisper to {p.resource}
          </button>
        ))}
        <button type="button" disabled={call.state !== 'active'} onClick={() => void barge()}>
          Barge in
        </button>
        <button type="button" disabled={!assisting} onClick={stop}>
          Leave
        </button>
      </div>
      {assist && (
        <p className="story-support__assist" role="status" aria-label={`Assist of ${label}`}>
          {assist.state === 'ended' ? 'Not assisting' : `${assist.state}: ${assist.mode}`}
          {assist.parties.map((party) => (
            <span key={party.participantId}>
              {' '}
              · {party.resource} {party.connected ? 'connected' : 'connecting'}
              {assisting && <PartyAudio party={party} />}
            </span>
          ))}
        </p>
      )}
      {error && <p role="alert">{error.message}</p>}
      {call.assists.length > 0 && (
        <ol className="story-support__audit" aria-label="Assist audit">
          {call.assists.map((entry) => (
            <li key={`${entry.participantId}-${entry.at}`}>
              {entry.by} {entry.mode} from {new Date(entry.at).toLocaleTimeString()}
              {entry.until !== undefined && ` to ${new Date(entry.until).toLocaleTimeString()}`}
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}

/** The time, updated every second (for call durations). */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** The dashboard: lives inside a RelayProvider whose token has calls:list and calls:assist. */
export function SupportDashboard({ resource }: { resource?: string }) {
  const { resource: me, status } = useRelayClient();
  const { calls, status: listStatus, error } = useCallList(resource ? { resource } : undefined);
  const now = useNow();
  return (
    <section className="story-support" aria-label={`Support dashboard of ${me ?? '…'}`}>
      <header className="story-phone__header">
        <strong>Support: {me ?? '…'}</strong> <small>{status}</small>
      </header>
      {error && <p role="alert">{error.message}</p>}
      <p className="story-support__count" role="status" aria-label="Ongoing calls">
        {listStatus === 'loading'
          ? 'Loading calls…'
          : `${calls.length} ongoing call${calls.length === 1 ? '' : 's'}`}
      </p>
      <ul className="story-support__calls">
        {calls.map((call) => (
          <CallRow key={call.id} call={call} now={now} />
        ))}
      </ul>
    </section>
  );
}
