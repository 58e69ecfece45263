'use client';
import type { DialerLabels } from './dialerLabels.js';
import { useScreenShare } from './useScreenShare.js';
import { VideoTile } from './VideoTile.js';

interface DialerScreenShareProps {
  /** The Dialer's call, while active or held; null: nothing to share. */
  callId: string | null;
  /** The other party, for the shared screen's caption. */
  remote: string;
  labels: DialerLabels;
  /** The call's audio output (the shared screen's audio plays there). */
  sinkId: string | null;
}

/**
 * The Dialer's screen sharing: a share / stop button during a call between browsers, and a tile
 * for each screen shared (the other side's plays its audio; this side's is a muted preview).
 */
export function DialerScreenShare({ callId, remote, labels, sinkId }: DialerScreenShareProps) {
  const share = useScreenShare(callId);
  if (!callId) return null;
  return (
    <div className="relaycall-dialer__screen" data-sharing={share.sharing || undefined}>
      <button
        type="button"
        className="relaycall-dialer__share"
        aria-pressed={share.sharing}
        disabled={share.starting}
        onClick={() => (share.sharing ? share.stop() : void share.start())}
      >
        {share.sharing ? labels.stopSharing : labels.shareScreen}
      </button>
      {share.error && (
        <p className="relaycall-dialer__share-error" role="alert">
          {share.error.message}
        </p>
      )}
      {share.remoteStream && (
        <VideoTile
          className="relaycall-video--screen"
          stream={share.remoteStream}
          label={labels.remoteScreen(remote)}
          sinkId={sinkId}
        />
      )}
      {share.stream && (
        <VideoTile
          className="relaycall-video--screen"
          stream={share.stream}
          label={labels.yourScreen}
          local
          mirrored={false}
        />
      )}
    </div>
  );
}
