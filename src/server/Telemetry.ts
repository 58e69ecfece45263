import type { IncomingMessage } from 'node:http';
import { ErrorCodes, type ErrorCode, type RelayRpcError } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { LogFields, RelayLogger } from './RelayLogger.js';
import { RelayMetrics } from './RelayMetrics.js';

/**
 * Least time between two log lines of a failure that comes by the thousand (every Redis write
 * while Redis is away), in ms.
 */
const REPEAT_LOG_INTERVAL_MS = 10_000;

/** What the log says of a session. */
interface SessionFacts {
  readonly id: string;
  readonly projectId: string;
  readonly resource: string;
}

/**
 * What the Relay tells its operator: each event under its stable name, counted in
 * {@link RelayMetrics} and logged by the {@link RelayLogger} (docs/DEPLOY.md#logs-and-metrics).
 * One per Relay.
 */
export class Telemetry {
  readonly metrics = new RelayMetrics();
  /** The Relay's logger; one that throws is ignored (logging never breaks a call). */
  readonly logger: RelayLogger;
  /** Per repeated failure: when it was last logged, and how many since were not. */
  private readonly repeats = new Map<string, { loggedAt: number; unlogged: number }>();
  /**
   * The Relay is closing: the failures that follow (its own connections going away under
   * requests in flight) are counted, not logged.
   */
  closing = false;

  constructor(
    logger: RelayLogger,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.logger = guarded(logger);
  }

  /** A session was created here (or taken over from another node: `adopted`). */
  sessionOpened(session: SessionFacts, address: string, adopted = false): void {
    this.metrics.sessionsOpened += 1;
    this.logger.info('session.opened', {
      sessionId: session.id,
      project: session.projectId,
      resource: session.resource,
      address,
      ...(adopted ? { adopted } : {}),
    });
  }

  /** This node let go of a session: it ended, or another node took it over. */
  sessionClosed(session: SessionFacts, code: number, reason: string): void {
    this.metrics.sessionsClosed += 1;
    this.logger.info('session.closed', {
      sessionId: session.id,
      project: session.projectId,
      code,
      reason,
    });
  }

  callStarted(callId: string, project: string, fields?: LogFields): void {
    this.metrics.callsStarted += 1;
    this.logger.info('call.started', { callId, project, ...fields });
  }

  callEnded(callId: string, project: string, reason: string, fields?: LogFields): void {
    this.metrics.callsEnded.add(reason);
    this.logger.info('call.ended', { callId, project, reason, ...fields });
  }

  /**
   * A signaling request answered with an error (`method` null: the frame was not a request).
   * An internal error is the Relay's own failure: logged as an error, with its cause.
   */
  refused(
    method: string | null,
    error: RelayRpcError,
    sessionId: string | null,
    address: string,
    cause?: unknown,
  ): void {
    this.metrics.signalingRefusals.add(error.code);
    const fields = { method, code: error.code, sessionId, address };
    if (error.code === ErrorCodes.internal) {
      this.metrics.failures.add('request.refused');
      this.logger.error('request.refused', { ...fields, error: cause });
    } else {
      this.logger.info('request.refused', fields);
    }
  }

  /** A message refused for the rate limit: counted, not logged (a flood would flood the log). */
  rateLimited(): void {
    this.metrics.signalingRefusals.add(ErrorCodes.rateLimited);
  }

  /** A REST answer: `code` when it was an error, `cause` what made it one. */
  restAnswered(
    req: IncomingMessage,
    path: string,
    status: number,
    code?: ErrorCode,
    cause?: unknown,
  ): void {
    this.metrics.restRequests.add(String(status));
    if (code === undefined) return;
    this.metrics.restRefusals.add(code);
    const fields = { method: req.method, path, status, code };
    if (code !== ErrorCodes.internal) {
      this.logger.info('rest.refused', fields);
    } else if (req.destroyed) {
      // The client went away mid-request (its body cut off): its doing, not the Relay's.
      this.logger.info('rest.refused', { ...fields, aborted: true, error: cause });
    } else {
      this.metrics.failures.add('rest.refused');
      this.logger.error('rest.refused', { ...fields, error: cause });
    }
  }

  /**
   * A signaling socket refused before its handshake: a page of another origin (403) or a limit
   * on sockets still authenticating (429, 503). Counted each time; logged as `upgrade.refused`
   * at most once per 10 s per status, since a flood of them is what the limits are for.
   */
  upgradeRefused(status: number, address: string, reason: string): void {
    this.metrics.upgradesRefused.add(String(status));
    if (!this.closing) {
      this.warnSparingly(`upgrade.refused ${status}`, 'upgrade.refused', {
        status,
        address,
        reason,
      });
    }
  }

  /** ws found a protocol violation on a signaling socket (it then closes). */
  socketError(address: string, sessionId: string | null, error: Error): void {
    this.logger.info('socket.error', { address, sessionId, error });
  }

  /** A failure the Relay works around, logged as a warning (its `error` field says why). */
  failed(event: string, fields: LogFields): void {
    this.metrics.failures.add(event);
    if (!this.closing) this.logger.warn(event, fields);
  }

  /**
   * Like {@link failed}, for failures that come by the thousand (every write while Redis is
   * away): counted each time, logged at most once per 10 s with how many were not (`unlogged`).
   */
  failedRepeatedly(event: string, fields: LogFields): void {
    this.metrics.failures.add(event);
    if (!this.closing) this.warnSparingly(event, event, fields);
  }

  /** Logs `event` unless one of the same `key` was logged in the last 10 s (then counts it). */
  private warnSparingly(key: string, event: string, fields: LogFields): void {
    const now = this.clock.now();
    const repeat = this.repeats.get(key);
    if (repeat && now - repeat.loggedAt < REPEAT_LOG_INTERVAL_MS) {
      repeat.unlogged += 1;
      return;
    }
    this.logger.warn(event, repeat?.unlogged ? { ...fields, unlogged: repeat.unlogged } : fields);
    this.repeats.set(key, { loggedAt: now, unlogged: 0 });
  }

  /** A Redis command of the cluster failed in the background (a presence or record write). */
  readonly clusterFailed = (error: unknown): void =>
    this.failedRepeatedly('cluster.failed', { error });

  /** A store operation settled after `seconds`. */
  readonly storeOperation = (operation: string, seconds: number, failed: boolean): void => {
    this.metrics.storeSeconds.observe(operation, seconds);
    if (failed) this.metrics.storeErrors.add(operation);
  };
}

/** `logger`, each call made safe: one that throws cannot be told so, and the Relay goes on. */
function guarded(logger: RelayLogger): RelayLogger {
  const safely = (log: () => void): void => {
    try {
      log();
    } catch {
      // Nowhere left to report it.
    }
  };
  return {
    info: (event, fields) => safely(() => logger.info(event, fields)),
    warn: (event, fields) => safely(() => logger.warn(event, fields)),
    error: (event, fields) => safely(() => logger.error(event, fields)),
  };
}
