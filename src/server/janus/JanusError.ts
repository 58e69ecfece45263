/** Janus's error codes the Relay meets most, with what to do about each. */
const HINTS: Record<number, string> = {
  0: 'Check that Janus is running and reachable, then try again.',
  403: "Check that the token is signed with Janus's token_auth_secret and has not expired.",
  405: 'The token does not list this plugin: mint one that names it.',
  458: 'The Janus session is gone (destroyed, timed out or its connection dropped): create a new one.',
  459: 'The plugin handle is gone: attach a new one.',
  460: 'The plugin is not loaded in Janus: enable it in janus.jcfg (plugins section).',
  426: 'The room does not exist on Janus: create it first.',
  427: 'The room already exists on Janus: pick another id or reuse it.',
  433: 'Pass the secret the room was created with.',
  490:
    'Janus gathered no ICE candidates: it ignores loopback interfaces, so it needs another ' +
    'address (tests: run inside scripts/loopback.sh, which adds a private veth pair; servers: ' +
    'check ice_ignore_list and ice_enforce_list in janus.jcfg).',
};

/**
 * An error from Janus, or from talking to it.
 *
 * `code` is Janus's own error code (403 unauthorized, 458 session not found, 426 room not found,
 * ...) or 0 for transport failures (not connected, timed out, connection dropped).
 */
export class JanusError extends Error {
  /** Janus's error code, or 0 for a transport failure. */
  readonly code: number;
  /** Janus's own text for the error, when Janus gave one. */
  readonly reason: string | undefined;

  constructor(code: number, message: string, reason?: string) {
    super(message);
    this.name = 'JanusError';
    this.code = code;
    this.reason = reason;
  }

  /** An error Janus (or a plugin) answered to `what`, with a hint of what to do. */
  static answered(what: string, code: number, reason: string): JanusError {
    const hint = HINTS[code] ?? 'See the Janus log for details.';
    return new JanusError(
      code,
      `Janus refused ${what} with error ${code} (${reason}). ${hint}`,
      reason,
    );
  }
}
