import { ErrorCodes, RelayMediaError } from '../../protocol/errors.js';

export interface LocalMediaOptions {
  /** Microphone: true, false or constraints. Default: true. */
  audio?: boolean | MediaTrackConstraints;
  /** Camera: true, false or constraints. Default: true. */
  video?: boolean | MediaTrackConstraints;
}

type MediaKind = 'audioinput' | 'videoinput' | undefined;

function describe(audio: boolean, video: boolean): { devices: string; kind: MediaKind } {
  if (audio && video) return { devices: 'camera and microphone', kind: undefined };
  return audio
    ? { devices: 'microphone', kind: 'audioinput' }
    : { devices: 'camera', kind: 'videoinput' };
}

/** A rejection as text: "Name: message" for errors and error-like objects, else the value. */
function causeText(error: unknown): string {
  if (error instanceof Error) return error.toString();
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  if (typeof name !== 'string') return String(error);
  return typeof message === 'string' && message !== '' ? `${name}: ${message}` : name;
}

/**
 * Turns a getUserMedia rejection into a RelayMediaError whose message says what happened and what
 * the user can do about it.
 */
export function toMediaError(
  error: unknown,
  requested: { audio: boolean; video: boolean },
): RelayMediaError {
  const { devices, kind } = describe(requested.audio, requested.video);
  const name = (error as { name?: unknown } | null)?.name;
  const detail = error == null ? '' : ` (${causeText(error)})`;
  const options = { cause: error };
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new RelayMediaError(
        ErrorCodes.mediaPermissionDenied,
        `Access to the ${devices} was denied. Allow it in the browser's site settings (the icon in the address bar) and try again.`,
        kind,
        options,
      );
    case 'NotFoundError':
    case 'OverconstrainedError': {
      const constraint = (error as { constraint?: unknown }).constraint;
      const which = typeof constraint === 'string' && constraint ? ` matching "${constraint}"` : '';
      return new RelayMediaError(
        ErrorCodes.mediaNotFound,
        `No ${devices}${which} was found. Connect one, or choose another device, and try again.`,
        kind,
        options,
      );
    }
    case 'NotReadableError':
    case 'AbortError':
      return new RelayMediaError(
        ErrorCodes.mediaInUse,
        `The ${devices} could not be started: another application or browser tab may be using it. Close it there and try again.`,
        kind,
        options,
      );
    default:
      return new RelayMediaError(
        ErrorCodes.mediaFailed,
        `The ${devices} could not be started${detail}. Reload the page and try again.`,
        kind,
        options,
      );
  }
}

/**
 * Captures the microphone and/or camera. Rejects with a RelayMediaError: media_permission_denied,
 * media_not_found, media_in_use or media_failed (also when `mediaDevices` is missing: an insecure
 * page or no browser).
 */
export async function getLocalMedia(
  mediaDevices: MediaDevices | undefined,
  options: LocalMediaOptions = {},
): Promise<MediaStream> {
  const { audio = true, video = true } = options;
  const requested = { audio: audio !== false, video: video !== false };
  const { devices, kind } = describe(requested.audio, requested.video);
  if (!requested.audio && !requested.video) {
    throw new RelayMediaError(
      ErrorCodes.mediaFailed,
      'Nothing to capture: both audio and video are false. Ask for at least one.',
    );
  }
  if (typeof mediaDevices?.getUserMedia !== 'function') {
    throw new RelayMediaError(
      ErrorCodes.mediaFailed,
      `The ${devices} cannot be used here: navigator.mediaDevices is unavailable. Open the page over https (or on localhost) in a current browser.`,
      kind,
    );
  }
  try {
    return await mediaDevices.getUserMedia({ audio, video });
  } catch (error) {
    throw toMediaError(error, requested);
  }
}

/** Stops every track of `stream` (turning the camera light off). Accepts null/undefined. */
export function stopStream(stream: MediaStream | null | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
