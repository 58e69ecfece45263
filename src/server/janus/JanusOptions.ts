import { ErrorCodes, RelayError } from '../../protocol/index.js';

/**
 * A Janus media server the Relay controls for `sfu` rooms (docs/DEPLOY.md#janus). Browsers
 * never reach its API: the Relay creates its rooms and sessions and carries the negotiation.
 */
export interface JanusOptions {
  /** URL of Janus's WebSocket API as the Relay reaches it, e.g. `ws://127.0.0.1:8188`. */
  url: string;
  /**
   * Janus's `token_auth_secret` (janus.jcfg, with `token_auth = true`): the Relay signs a token
   * per participant with it, valid until the participant's JWT expires. At least
   * {@link MIN_JANUS_SECRET_LENGTH} characters, e.g. `openssl rand -hex 32`.
   */
  secret: string;
  /**
   * Voice activity threshold in dBov (0 loudest, 127 silence): a participant is talking while
   * its audio averages louder than this. Default 40.
   */
  talkingLevel?: number;
}

/** Shortest Janus token secret accepted, in characters. */
export const MIN_JANUS_SECRET_LENGTH = 32;

/** Checks Janus options; throws a `bad_request` RelayError that says what to fix. */
export function checkJanusOptions(janus: JanusOptions): JanusOptions {
  if (typeof janus.url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(janus.url)) {
    throw new RelayError(
      ErrorCodes.badRequest,
      `Janus URL ${JSON.stringify(janus.url)} is not a ws:// or wss:// URL. Give the address of ` +
        "Janus's WebSocket API, e.g. ws://127.0.0.1:8188.",
    );
  }
  if (typeof janus.secret !== 'string' || janus.secret.length < MIN_JANUS_SECRET_LENGTH) {
    throw new RelayError(
      ErrorCodes.badRequest,
      `The Janus token secret needs at least ${MIN_JANUS_SECRET_LENGTH} characters. Generate ` +
        'one with `openssl rand -hex 32` and set the same value as token_auth_secret in janus.jcfg.',
    );
  }
  return { ...janus };
}
