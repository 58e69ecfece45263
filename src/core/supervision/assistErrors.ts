import { ErrorCodes, RelayError, type AssistMode } from '../../protocol/index.js';
import type { WaitWording } from '../connection/waitForConnection.js';

/** How waiting for the connection words its failures for an assist. */
export const ASSIST_WORDING: WaitWording = {
  subject: 'The call was not assisted',
  retry: 'assist again',
};

/** How waiting for the connection words its failures for listing calls. */
export const LIST_WORDING: WaitWording = {
  subject: 'The calls were not listed',
  retry: 'list them again',
};

/**
 * The error an assist failed with. The Relay's refusals (`forbidden`, `call_not_found`,
 * `invalid_state`, `invalid_params`, `limit_exceeded`) already say what to do, and so do the
 * client's own errors: only unexpected failures are wrapped.
 */
export function assistError(error: unknown): RelayError {
  return error instanceof RelayError
    ? error
    : new RelayError(ErrorCodes.callFailed, 'The call could not be assisted. Try again.', {
        cause: error,
      });
}

/** The assist ended (stopped, or its call ended) before what was asked of it was done. */
export function assistEnded(callId: string): RelayError {
  return new RelayError(
    ErrorCodes.invalidState,
    `The assist of call ${callId} ended before this could be done. Assist the call again if it is still going on.`,
  );
}

/** The session the assists belonged to is gone, and the Relay made them leave. */
export function sessionGone(): RelayError {
  return new RelayError(
    ErrorCodes.closed,
    'The connection to the Relay was lost along with its session, so this supervisor left the call. Assist it again once connected.',
  );
}

/** Why listing failed (the Relay's refusals say what to do). */
export function listError(error: unknown): RelayError {
  return error instanceof RelayError
    ? error
    : new RelayError(ErrorCodes.internal, 'The calls could not be listed. Try again.', {
        cause: error,
      });
}

/** Whisper and barge need a microphone, but the app said not to use one. */
export function noMicrophone(mode: AssistMode): RelayError {
  return new RelayError(
    ErrorCodes.mediaFailed,
    `${mode} sends the supervisor's microphone, but options.audio is false. Pass audio: true, constraints or a stream.`,
  );
}
