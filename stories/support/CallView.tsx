/**
 * What an app puts around the Dialer, built only from the public hooks: the local and remote
 * video of the call in progress, and mute, camera and hold buttons.
 */
import { useSyncExternalStore } from 'react';
import {
  Dialer,
  useCall,
  useCallStats,
  useRelayClient,
  VideoTile,
  type DialerProps,
  type RelayClientState,
  type UseCallResult,
} from 'relaycall';

const SHOWN = new Set(['connecting', 'active', 'held']);

/** The id of the call in progress: one being set up or talking, else an outgoing one ringing. */
function currentCallId(state: RelayClientState): string | null {
  const calls = Object.values(state.calls);
  const call =
    calls.find((c) => SHOWN.has(c.state)) ??
    calls.find((c) => c.direction === 'outgoing' && c.state !== 'ended');
  return call?.id ?? null;
}

/** The provider's call in progress (whoever placed or answered it), through `useCall`. */
export function useCurrentCall(): UseCallResult {
  const { client } = useRelayClient();
  const callId = useSyncExternalStore(client.store.subscribe, () =>
    currentCallId(client.store.getState()),
  );
  return useCall(undefined, callId === null ? undefined : { callId });
}

/** Remote and local video of the call in progress, with the app's own call controls. */
export function CallView({ remoteLabel }: { remoteLabel?: string }) {
  const call = useCurrentCall();
  const talking = call.state === 'active' || call.state === 'held';
  // Sampled while talking: the remote tile shows the network-quality bars.
  const stats = useCallStats(talking ? call.callId : null);
  return (
    <div className="story-call">
      <div className="story-call__videos">
        <VideoTile
          className="story-call__remote"
          stream={call.remoteStream}
          // No call, no one to name: the tile shows a person icon and no caption.
          label={call.remote ?? remoteLabel}
          muted={call.remoteAudioMuted}
          videoMuted={call.remoteVideoMuted}
          sinkId={call.audioOutputId}
          quality={stats?.networkQuality}
        />
        <VideoTile
          className="story-call__local"
          stream={call.localStream}
          label="You"
          local
          // A local preview stays muted; the indicator shows when the microphone is off.
          muted={call.audioMuted ? true : undefined}
          videoMuted={call.videoMuted}
        />
      </div>
      <div className="story-call__controls" role="group" aria-label="Call controls">
        <button
          type="button"
          data-on={call.audioMuted ? '' : undefined}
          disabled={!talking}
          onClick={call.toggleAudio}
        >
          {call.audioMuted ? 'Unmute' : 'Mute'}
        </button>
        <button
          type="button"
          data-on={call.videoMuted ? '' : undefined}
          disabled={!talking}
          onClick={call.toggleVideo}
        >
          {call.videoMuted ? 'Camera on' : 'Camera off'}
        </button>
        <button
          type="button"
          data-on={call.held ? '' : undefined}
          disabled={!talking}
          onClick={call.toggleHold}
        >
          {call.held ? 'Resume' : 'Hold'}
        </button>
      </div>
    </div>
  );
}

/** A phone: who you are, the call's video and a Dialer. Lives inside a RelayProvider. */
export function Phone({ callee, dialer }: { callee?: string; dialer?: DialerProps }) {
  const { resource, status } = useRelayClient();
  return (
    <section className="story-phone" aria-label={`Phone of ${resource ?? '…'}`}>
      <header className="story-phone__header">
        <strong>{resource ?? '…'}</strong> <small>{status}</small>
      </header>
      <CallView />
      <Dialer defaultTarget={callee} {...dialer} />
    </section>
  );
}
