import { ErrorCodes, RelayError } from '../../protocol/errors.js';

// What the user can make of simple-peer's error codes.
const HINTS: Record<string, string> = {
  ERR_ICE_CONNECTION_FAILURE:
    ' No network path was found between the two browsers: a firewall may block peer-to-peer traffic; configure a TURN server in the Relay iceServers.',
  ERR_CONNECTION_FAILURE: ' The connection to the other browser was lost.',
  ERR_ICE_GATHERING:
    ' No network path can be tried. With iceTransportPolicy "relay", the TURN server refused the credentials (401: they expired, or the Relay and the TURN server do not share the secret) or could not be reached: reconnect for fresh credentials, or check the TURN setup (docs/DEPLOY.md#turn). Otherwise the browser has no usable network address.',
  ERR_DATA_CHANNEL: ' The data channel to the other browser failed.',
  ERR_SET_REMOTE_DESCRIPTION: ' A signal arrived out of order or twice.',
  ERR_SIGNALING: ' A signal was not valid WebRTC signaling data.',
};

/** Wraps a simple-peer or WebRTC error as a `call_failed` RelayError (the original is `cause`). */
export function toPeerError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const tag = typeof code === 'string' ? ` (${code})` : '';
  const hint = typeof code === 'string' ? (HINTS[code] ?? '') : '';
  return new RelayError(ErrorCodes.callFailed, `WebRTC failed${tag}: ${message}${hint}`, {
    cause: error,
  });
}

/**
 * Chrome fails the data channel with an SCTP "User-Initiated Abort" (cause 12) when the other side
 * closes its connection: that is a hangup, not an error.
 */
export function isRemoteClose(error: unknown): boolean {
  const e = error as { code?: unknown; sctpCauseCode?: unknown; message?: unknown } | null;
  if (e?.code !== 'ERR_DATA_CHANNEL') return false;
  return e.sctpCauseCode === 12 || String(e.message).startsWith('User-Initiated Abort');
}
