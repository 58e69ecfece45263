import { getLocalMedia } from '../media/getLocalMedia.js';
import type { AssistMode } from '../../protocol/index.js';
import { noMicrophone } from './assistErrors.js';
import type { AssistOptions, AssistSnapshot } from './supervisionTypes.js';

/** Ended assists kept in the store (oldest removed first). */
const MAX_ENDED = 50;

/** The assists with a new one, `joining`, for `callId`; the oldest ended ones make room. */
export function withNewAssist(
  assists: Record<string, AssistSnapshot>,
  callId: string,
  mode: AssistMode,
): Record<string, AssistSnapshot> {
  const snapshot: AssistSnapshot = {
    callId,
    mode,
    agent: null,
    state: 'joining',
    participantId: null,
    parties: [],
    supervisors: [],
    error: null,
    localStream: null,
  };
  const kept = Object.values(assists).filter((a) => a.state === 'ended' && a.callId !== callId);
  const next = { ...assists, [callId]: snapshot };
  for (const old of kept.slice(0, Math.max(0, kept.length - MAX_ENDED + 1))) {
    delete next[old.callId];
  }
  return next;
}

/** A supervisor's microphone: acquired (`owned`, stopped with the assist) or the app's own. */
export interface AssistMic {
  stream: MediaStream;
  owned: boolean;
}

/** The microphone `mode` needs, per `options.audio` (default: acquired with `true`). */
export async function openMic(
  mediaDevices: MediaDevices | undefined,
  mode: AssistMode,
  options: AssistOptions,
): Promise<AssistMic> {
  const { audio = true } = options;
  if (audio === false) throw noMicrophone(mode);
  if (typeof (audio as MediaStream).getAudioTracks === 'function') {
    return { stream: audio as MediaStream, owned: false };
  }
  const constraints = audio as boolean | MediaTrackConstraints;
  const stream = await getLocalMedia(mediaDevices, { audio: constraints, video: false });
  return { stream, owned: true };
}
