import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, RelayError, type RelayHttpError } from '../../protocol/index.js';
import { httpError, sendError } from '../http/respond.js';
import type { RestAnswered } from '../http/restApi.js';
import { PROMETHEUS_CONTENT_TYPE } from './PrometheusText.js';

/** Where the Relay serves its metrics, when `metrics` is set. */
export const METRICS_PATH = '/metrics';

/** Shortest metrics bearer token accepted, in characters. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

/**
 * `RelayServerOptions.metrics`: `true` serves `GET /metrics` to anyone who reaches the port;
 * `{ bearerToken }` only to requests with `Authorization: Bearer <bearerToken>`.
 */
export type MetricsOptions = boolean | { bearerToken?: string };

/** Checks the metrics options; throws a `bad_request` RelayError that says what to fix. */
export function checkMetricsOptions(options: MetricsOptions | undefined): void {
  if (typeof options !== 'object' || options.bearerToken === undefined) return;
  const token = options.bearerToken;
  if (typeof token !== 'string' || token.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(token)) {
    throw new RelayError(
      ErrorCodes.badRequest,
      `The metrics bearer token must be at least ${MIN_METRICS_TOKEN_LENGTH} characters without ` +
        'spaces. Generate one with `openssl rand -hex 24`.',
    );
  }
}

export interface MetricsEndpointOptions {
  /** Whether and to whom metrics are served (checked by {@link checkMetricsOptions}). */
  metrics: MetricsOptions | undefined;
  /** The exposition text. */
  render: () => string;
  /** Told of each answer: its status, and its error code and cause when it was an error. */
  answered: RestAnswered;
}

/**
 * `GET /metrics` in Prometheus's text format: a handler that answers true when it served the
 * request, false for other paths, and for every path when metrics are off.
 */
export function metricsEndpoint({ metrics, render, answered }: MetricsEndpointOptions) {
  const token = typeof metrics === 'object' ? metrics.bearerToken : undefined;
  const expected = token === undefined ? undefined : digest(token);
  return function serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (!metrics) return false;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path !== METRICS_PATH) return false;
    let refusal: RelayHttpError | undefined;
    const headers: Record<string, string> = {};
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refusal = httpError(
        405,
        ErrorCodes.methodNotAllowed,
        'Method not allowed here. Use GET, HEAD.',
      );
      headers.Allow = 'GET, HEAD';
    } else if (expected && !bearerMatches(req.headers.authorization, expected)) {
      refusal = httpError(
        401,
        ErrorCodes.unauthorized,
        'The metrics need the bearer token the Relay was started with (RELAYCALL_METRICS_TOKEN): ' +
          'send it as "Authorization: Bearer <token>".',
      );
      headers['WWW-Authenticate'] = 'Bearer realm="relaycall-metrics"';
    }
    let body = '';
    let cause: unknown;
    if (!refusal) {
      try {
        body = render();
      } catch (error) {
        cause = error;
        refusal = httpError(
          500,
          ErrorCodes.internal,
          'The Relay failed to render its metrics. Try again.',
        );
      }
    }
    if (refusal) {
      sendError(res, refusal, headers);
      answered(req, path, refusal.status, refusal.code, cause);
      return true;
    }
    res.writeHead(200, {
      'Content-Type': PROMETHEUS_CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    answered(req, path, 200);
    return true;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compared as digests, in constant time: the answer says nothing of how much of it matched. */
function bearerMatches(authorization: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1] as string), expected);
}
