import { createHmac } from 'node:crypto';
import { ErrorCodes, RelayError, type IceServer } from '../protocol/index.js';

/**
 * A TURN server that shares a secret with the Relay (coturn's `use-auth-secret`, the "TURN REST
 * API" scheme). The Relay mints time-limited credentials per session from it; the TURN server
 * checks them with the same secret, without any call to the Relay.
 */
export interface TurnOptions {
  /**
   * TURN URLs handed to clients, e.g. `turn:turn.example.com:3478?transport=udp` and
   * `turns:turn.example.com:5349?transport=tcp`. At least one; each starts with `turn:` or `turns:`.
   */
  urls: string[];
  /**
   * The shared secret: coturn's `static-auth-secret`. At least {@link MIN_TURN_SECRET_LENGTH}
   * characters, e.g. `openssl rand -hex 32`. Never sent to clients.
   */
  secret: string;
}

/** Shortest TURN shared secret accepted, in characters. */
export const MIN_TURN_SECRET_LENGTH = 32;

/**
 * Checks TURN options; throws a `bad_request` RelayError that says what to fix. Returns a copy.
 */
export function checkTurnOptions(turn: TurnOptions): TurnOptions {
  const { urls, secret } = turn;
  if (!Array.isArray(urls) || urls.length === 0) {
    throw new RelayError(
      ErrorCodes.badRequest,
      'turn.urls is empty. Give at least one TURN URL, e.g. "turn:turn.example.com:3478?transport=udp".',
    );
  }
  for (const url of urls) {
    if (typeof url !== 'string' || !/^turns?:[^\s]+$/.test(url)) {
      throw new RelayError(
        ErrorCodes.badRequest,
        `TURN URL ${JSON.stringify(url)} is not a turn: or turns: URL. ` +
          'Write it like "turn:turn.example.com:3478?transport=udp".',
      );
    }
  }
  if (typeof secret !== 'string' || secret.length < MIN_TURN_SECRET_LENGTH) {
    throw new RelayError(
      ErrorCodes.badRequest,
      `The TURN shared secret is ${typeof secret === 'string' && secret.length > 0 ? 'too short' : 'empty'}: ` +
        `it needs at least ${MIN_TURN_SECRET_LENGTH} characters. Generate one with ` +
        '`openssl rand -hex 32` and set the same value as static-auth-secret in turnserver.conf.',
    );
  }
  return { urls: [...urls], secret };
}

/**
 * The TURN credential of `username`: base64(HMAC-SHA1(secret, username)), as coturn computes it
 * for `use-auth-secret`.
 */
export function turnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/**
 * Mints the ICE server entry of one session: username `<expiry>:<resource>`, where `<expiry>` is
 * the Unix time in whole seconds after which the TURN server refuses it. `expiresAt` (ms since the
 * epoch, the session's JWT expiry) is rounded down, so the credentials never outlive the JWT.
 */
export function mintTurnServer(turn: TurnOptions, resource: string, expiresAt: number): IceServer {
  const username = `${Math.floor(expiresAt / 1000)}:${resource}`;
  return { urls: [...turn.urls], username, credential: turnCredential(turn.secret, username) };
}
