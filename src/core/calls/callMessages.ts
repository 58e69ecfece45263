import { ErrorCodes, RelayError } from '../../protocol/index.js';
import type { PeerTextMessage } from '../messages/CallMessaging.js';
import type { CallEndReason } from '../types.js';

/** Messages the two legs exchange on the peer data channel (they survive a Relay outage). */
export type PeerMessage =
  | { t: 'hangup' }
  | { t: 'state'; audioMuted: boolean; videoMuted: boolean; held: boolean }
  | { t: 'dtmf'; tones: string }
  /** The sender's screen share: the id of its stream on the peer, or null once it stopped. */
  | { t: 'screen'; id: string | null }
  /** An in-call message (`sendMessage`). */
  | PeerTextMessage;

const END_ERRORS: Partial<Record<CallEndReason, [string, string]>> = {
  busy: [ErrorCodes.busy, 'The callee is busy. Try again later.'],
  unavailable: [
    ErrorCodes.unavailable,
    'The callee is not connected. Try again when they are online.',
  ],
  'no-answer': [ErrorCodes.noAnswer, 'Nobody answered. Try again later.'],
  forbidden: [
    ErrorCodes.forbidden,
    'Your token may not place calls. Ask for a token with calls:dial.',
  ],
  disconnected: [ErrorCodes.closed, 'The other side lost its connection and did not come back.'],
  failed: [ErrorCodes.callFailed, 'The call failed. Check your network and try again.'],
};

/** The typed error for an end reason that is one (busy, unavailable…), else null. */
export function endError(reason: string, cause?: unknown): RelayError | null {
  const entry = END_ERRORS[reason as CallEndReason];
  if (!entry) return null;
  return new RelayError(entry[0] as RelayError['code'], entry[1], { cause });
}

export function asRelayError(error: unknown): RelayError {
  return error instanceof RelayError
    ? error
    : new RelayError(ErrorCodes.callFailed, 'The call failed. Try again.', { cause: error });
}

export function endReasonOf(error: RelayError): CallEndReason {
  switch (error.code) {
    case ErrorCodes.unavailable:
      return 'unavailable';
    case ErrorCodes.busy:
      return 'busy';
    case ErrorCodes.forbidden:
      return 'forbidden';
    default:
      return 'failed';
  }
}
