import { ErrorCodes, RelayError } from '../../protocol/errors.js';
import type { ScreenShareOptions } from '../types.js';

/** Asks the browser for a screen, window or tab (`navigator.mediaDevices.getDisplayMedia`). */
export type DisplayMediaFn = (options: DisplayMediaStreamOptions) => Promise<MediaStream>;

/** The client's screen capture: the option's, else `mediaDevices.getDisplayMedia` when there is one. */
export function displayMediaOf(
  getDisplayMedia: DisplayMediaFn | undefined,
  mediaDevices: MediaDevices | undefined,
): DisplayMediaFn | undefined {
  if (getDisplayMedia) return getDisplayMedia;
  if (typeof mediaDevices?.getDisplayMedia !== 'function') return undefined;
  return (options) => mediaDevices.getDisplayMedia(options);
}

/**
 * Opens the browser's screen picker. Rejects with a RelayError: `screen_share_cancelled` when the
 * user closed the picker or the browser refused, `screen_share_failed` otherwise (no screen
 * capture here, or the capture could not start).
 */
export async function captureScreen(
  getDisplayMedia: DisplayMediaFn | undefined,
  options: ScreenShareOptions,
): Promise<MediaStream> {
  if (!getDisplayMedia) {
    throw new RelayError(
      ErrorCodes.screenShareFailed,
      'This browser cannot share the screen (no getDisplayMedia). Use a current desktop Chrome, Edge, Firefox or Safari over https.',
    );
  }
  try {
    return await getDisplayMedia({ video: options.video ?? true, audio: options.audio ?? true });
  } catch (error) {
    throw toScreenShareError(error);
  }
}

/** A getDisplayMedia rejection as a RelayError saying what happened and what to do. */
export function toScreenShareError(error: unknown): RelayError {
  const name = (error as { name?: unknown } | null)?.name;
  const options = { cause: error };
  if (name === 'NotAllowedError' || name === 'AbortError' || name === 'SecurityError') {
    return new RelayError(
      ErrorCodes.screenShareCancelled,
      'Screen sharing was cancelled: the picker was closed, or the browser (or the system) does not allow this page to capture the screen. Share again and choose a screen, window or tab; if no picker shows, allow screen recording for the browser in the system settings.',
      options,
    );
  }
  return new RelayError(
    ErrorCodes.screenShareFailed,
    `The screen could not be captured (${String(error)}). Close other screen recorders and try again.`,
    options,
  );
}

/** Calls `onEnded` once, when any track of `stream` ends (the browser's "Stop sharing" bar). */
export function onStreamEnded(stream: MediaStream, onEnded: () => void): () => void {
  const tracks = stream.getTracks();
  const listener = () => {
    unlisten();
    onEnded();
  };
  const unlisten = () => {
    for (const track of tracks) track.removeEventListener('ended', listener);
  };
  for (const track of tracks) track.addEventListener('ended', listener);
  return unlisten;
}
