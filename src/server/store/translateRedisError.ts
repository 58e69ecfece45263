import { ErrorCodes, RelayError } from '../../protocol/index.js';
import { SCRIPT_ERROR } from './redisScripts.js';

/** A Redis error reply (as opposed to a connection failure). */
export const isReplyError = (error: unknown): error is Error =>
  error instanceof Error && error.name === 'ReplyError';

/** Error replies that mean "Redis cannot serve right now", not "this command is wrong". */
const UNAVAILABLE_REPLY =
  /^(LOADING|READONLY|MASTERDOWN|OOM|BUSY|MISCONF|TRYAGAIN|CLUSTERDOWN|NOAUTH|WRONGPASS|NOPERM)\b/;

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (isReplyError(error)) return `Redis answered ${message.split(' ')[0] ?? 'an error'}`;
  if (message === 'Command timed out') return 'Redis did not answer in time';
  if (message.startsWith("Stream isn't writeable")) return 'not connected to Redis';
  if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
    return 'the connection to Redis was lost during the operation';
  }
  return 'the connection to Redis failed';
}

/**
 * What the store throws for a failed Redis operation: our scripts' own errors as plain errors,
 * other error replies as the store refusing, and connection trouble (or Redis unable to serve
 * for now) as a `service_unavailable` {@link RelayError}, whose message names no host.
 */
export function translateRedisError(error: unknown): Error {
  if (isReplyError(error)) {
    const at = error.message.indexOf(SCRIPT_ERROR);
    if (at >= 0) {
      // "Family f1 already exists" and the like: the caller's mistake, as in the other stores.
      return new Error(error.message.slice(at + SCRIPT_ERROR.length).split('\n')[0], {
        cause: error,
      });
    }
    if (!UNAVAILABLE_REPLY.test(error.message)) {
      return new Error(`Redis refused an operation of the Relay's store: ${error.message}`, {
        cause: error,
      });
    }
  }
  // Connection trouble. The message may reach API clients, so it names no host.
  return new RelayError(
    ErrorCodes.unavailableService,
    `The Relay's Redis store is unavailable (${describeFailure(error)}). ` +
      'Try again in a few seconds: the Relay reconnects by itself. ' +
      "If this persists, the Relay's operator should check that Redis is running and reachable.",
    { cause: error },
  );
}
