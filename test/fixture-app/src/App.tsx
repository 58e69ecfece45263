import { useState } from 'react';
import { RelayProvider, VideoTile, useCall, useIncomingCall, useRelayClient } from 'relaycall';
import 'relaycall/styles.css';

// ?resource=alice&relay=http://127.0.0.1:4000&tokens=http://127.0.0.1:4000/testing/token&call=bob
const params = new URLSearchParams(location.search);
const resource = params.get('resource') ?? '';
const relay = params.get('relay') ?? '';
const tokens = params.get('tokens') ?? '';
const callee = params.get('call') ?? undefined;

// Stands in for the app's back end, which mints JWTs with its project token.
const fetchToken = () =>
  fetch(`${tokens}?resource=${encodeURIComponent(resource)}`)
    .then((response) => response.json())
    .then((body: { token: string }) => body.token);

export function App() {
  return (
    // No ICE servers: host candidates only (the test runs on loopback).
    <RelayProvider url={relay} fetchToken={fetchToken} iceServers={[]}>
      <Phone />
    </RelayProvider>
  );
}

function Phone() {
  const { status, resource: me } = useRelayClient();
  const incoming = useIncomingCall();
  // alice: the call she places to `callee`; bob: the call in progress once he answered.
  const call = useCall(callee);
  const [error, setError] = useState<string | null>(null);
  const inCall = call.state !== 'idle' && call.state !== 'ended';

  const answer = () => {
    incoming.answer().catch((reason: unknown) => setError(String(reason)));
  };

  return (
    <main>
      <h1>{me ?? resource}</h1>
      <p>
        Relay: <span data-testid="status">{status}</span>
      </p>
      {callee && !inCall && (
        <button type="button" data-testid="call" onClick={() => call.start()}>
          Call {callee}
        </button>
      )}
      {incoming.call && (
        <button type="button" data-testid="answer" onClick={answer}>
          Answer {incoming.call.remote}
        </button>
      )}
      {inCall && (
        <button type="button" data-testid="hangup" onClick={call.hangup}>
          Hang up
        </button>
      )}
      <p>
        Call: <span data-testid="call-state">{call.state}</span>
        {call.endReason && (
          <>
            {' '}
            (<span data-testid="end-reason">{call.endReason}</span>)
          </>
        )}
      </p>
      {(error ?? call.error) && <p data-testid="error">{error ?? call.error?.message}</p>}
      <div data-testid="remote">
        <VideoTile
          stream={call.remoteStream}
          label={call.remote ?? 'remote'}
          muted={call.remoteAudioMuted}
        />
      </div>
      <div data-testid="local">
        <VideoTile stream={call.localStream} label="me" local />
      </div>
    </main>
  );
}
