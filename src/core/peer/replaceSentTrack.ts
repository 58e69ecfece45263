import { ErrorCodes, RelayError } from '../../protocol/errors.js';
import { toPeerError } from './peerErrors.js';

/**
 * Sends `next` in place of `old` on `pc` without renegotiation; if `stream` still holds `old`,
 * swaps them there too. Rejects with a RelayError when `old` is not being sent or the browser
 * refuses `next`.
 */
export async function replaceSentTrack(
  pc: RTCPeerConnection,
  old: MediaStreamTrack,
  next: MediaStreamTrack,
  stream: MediaStream,
): Promise<void> {
  const sender = pc.getSenders().find((s) => s.track === old);
  if (!sender) {
    throw new RelayError(ErrorCodes.callFailed, 'replaceTrack: that track is not being sent.');
  }
  try {
    await sender.replaceTrack(next);
  } catch (error) {
    throw toPeerError(error);
  }
  if (stream.getTracks().includes(old)) {
    stream.removeTrack(old);
    stream.addTrack(next);
  }
}
