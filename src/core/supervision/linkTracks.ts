/** The track a supervision link sends as `kind` now, if any. */
export function sentTrack(pc: RTCPeerConnection, kind: 'audio' | 'video'): MediaStreamTrack | null {
  return senderOf(pc, kind)?.track ?? null;
}

/**
 * Sends `track` (null: nothing) as the link's `kind`, on the sender negotiated for it: no
 * renegotiation. Rejects when the browser refuses the track.
 */
export async function sendTrack(
  pc: RTCPeerConnection,
  kind: 'audio' | 'video',
  track: MediaStreamTrack | null,
): Promise<void> {
  const sender = senderOf(pc, kind);
  if (sender && sender.track !== track && pc.signalingState !== 'closed') {
    await sender.replaceTrack(track);
  }
}

function senderOf(pc: RTCPeerConnection, kind: 'audio' | 'video'): RTCRtpSender | undefined {
  return pc.getTransceivers().find((t) => t.receiver.track.kind === kind)?.sender;
}
