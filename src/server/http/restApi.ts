import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ALL_SCOPES,
  DEFAULT_SCOPES,
  ErrorCodes,
  CALLS_PATH,
  HEALTH_PATH,
  JWT_PATH,
  type CallsFilter,
  type CallsListResult,
  type ErrorCode,
  RelayError,
  RelayHttpError,
  isScope,
  resourceProblem,
  type RelayLimits,
  type Scope,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { TokenPair, TokenService } from '../TokenService.js';
import { AuthFailureLimiter } from './AuthFailureLimiter.js';
import { clientAddress } from './clientAddress.js';
import { parseBasicAuth } from './basicAuth.js';
import { readJsonBody } from './readJsonBody.js';
import { badRequest, httpError, sendError, sendJson } from './respond.js';

export interface RestApiOptions {
  tokens: TokenService;
  limits: RelayLimits;
  clock: Clock;
  /** Take the client address from X-Forwarded-For (behind a trusted proxy only). */
  trustProxy: boolean;
  /** Resolves when the server can serve; rejects otherwise. */
  health: () => Promise<void>;
  /** The project's ongoing calls (every node's). */
  listCalls: (projectId: string, filter: CallsFilter) => Promise<CallsListResult>;
  /** Told of each request served: its status, and the error code and its cause when refused. */
  answered?: RestAnswered;
}

/** A REST answer as reported to the Relay's telemetry. */
export type RestAnswered = (
  req: IncomingMessage,
  path: string,
  status: number,
  code?: ErrorCode,
  cause?: unknown,
) => void;

const WWW_AUTHENTICATE = { 'WWW-Authenticate': 'Basic realm="relaycall", charset="UTF-8"' };
const JWT_METHODS = 'POST, PUT, DELETE';
const MAX_REFRESH_TOKEN_LENGTH = 256;
/** Answered (503) when the store reports itself unreachable; names no host on purpose. */
const STORE_UNAVAILABLE =
  "The Relay's store is unavailable, so tokens cannot be issued, refreshed or revoked right now. " +
  "Try again in a few seconds. If this persists, the Relay's operator should check its store " +
  '(for example, that Redis is running and reachable).';
/** Seconds a client should wait before retrying after STORE_UNAVAILABLE. */
const STORE_RETRY_AFTER_SECONDS = 2;

/** The REST API: returns a handler that answers true when it served the request. */
export function createRestApi(options: RestApiOptions) {
  const { tokens, limits, clock } = options;
  const limiter = new AuthFailureLimiter(
    limits.authFailuresPerWindow,
    limits.authFailureWindowMs,
    () => clock.now(),
  );

  async function authenticate(req: IncomingMessage): Promise<string> {
    const address = clientAddress(req, options.trustProxy);
    const wait = limiter.retryAfter(address);
    if (wait > 0) {
      throw Object.assign(
        httpError(
          429,
          ErrorCodes.rateLimited,
          `Too many failed authentications from this address. Try again in ${Math.ceil(wait / 1000)} s.`,
        ),
        { retryAfter: Math.ceil(wait / 1000) },
      );
    }
    const credentials = parseBasicAuth(req.headers.authorization);
    const project =
      credentials && (await tokens.authenticateProject(credentials.id, credentials.token));
    if (!project) {
      limiter.recordFailure(address);
      throw httpError(
        401,
        ErrorCodes.unauthorized,
        credentials
          ? 'Unknown project or wrong project token. Check the ProjectID:ProjectToken pair.'
          : 'Authenticate with HTTP Basic auth: ProjectID as user name, ProjectToken as password.',
      );
    }
    return project.id;
  }

  async function serveJwt(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const projectId = await authenticate(req);
    const body = await readJsonBody(req, limits.maxBodyBytes);
    if (req.method === 'POST') {
      const pair = await tokens.issue(projectId, parseIssue(body, limits));
      sendJson(res, 201, pairBody(pair));
      return;
    }
    const refreshToken = parseRefreshToken(body);
    if (req.method === 'PUT') {
      sendJson(res, 200, pairBody(await tokens.refresh(projectId, refreshToken)));
    } else {
      await tokens.revoke(projectId, refreshToken);
      sendJson(res, 204, undefined);
    }
  }

  async function serveCalls(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const projectId = await authenticate(req);
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    sendJson(res, 200, await options.listCalls(projectId, parseCallsFilter(query, limits)));
  }

  async function serveHealth(res: ServerResponse): Promise<void> {
    try {
      await options.health();
      sendJson(res, 200, { status: 'ok' });
    } catch {
      sendJson(res, 503, { status: 'unavailable' });
    }
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === JWT_PATH) {
        if (!JWT_METHODS.split(', ').includes(req.method ?? '')) throw notAllowed(JWT_METHODS);
        await serveJwt(req, res);
      } else if (path === CALLS_PATH) {
        if (req.method !== 'GET') throw notAllowed('GET');
        await serveCalls(req, res);
      } else if (path === HEALTH_PATH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw notAllowed('GET, HEAD');
        await serveHealth(res);
      } else {
        return false;
      }
    } catch (error) {
      const code = respondWithError(res, error);
      options.answered?.(req, path ?? '/', res.statusCode, code, error);
      return true;
    }
    options.answered?.(req, path ?? '/', res.statusCode);
    return true;
  };
}

/** Answers a request no route took. */
export function sendNotFound(res: ServerResponse): void {
  sendError(
    res,
    httpError(404, ErrorCodes.notFound, `Nothing here. The token API is at ${JWT_PATH}.`),
  );
}

/** Answers the error; returns the code answered (none when the answer had started already). */
function respondWithError(res: ServerResponse, error: unknown): ErrorCode | undefined {
  if (res.headersSent) {
    res.destroy();
    return undefined;
  }
  if (!(error instanceof RelayHttpError)) {
    // A store that is down (Redis unreachable) says so with service_unavailable: a retry helps.
    if (error instanceof RelayError && error.code === ErrorCodes.unavailableService) {
      sendError(res, httpError(503, ErrorCodes.unavailableService, STORE_UNAVAILABLE), {
        'Retry-After': String(STORE_RETRY_AFTER_SECONDS),
      });
      return ErrorCodes.unavailableService;
    }
    sendError(
      res,
      httpError(500, ErrorCodes.internal, 'The Relay failed to serve this request. Try again.'),
    );
    return ErrorCodes.internal;
  }
  const headers: Record<string, string> = {};
  if (error.status === 401) Object.assign(headers, WWW_AUTHENTICATE);
  if (error.status === 405) headers.Allow = (error as RelayHttpError & { allow: string }).allow;
  const retryAfter = (error as RelayHttpError & { retryAfter?: number }).retryAfter;
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  // A body we stopped reading must not be parsed as the next request.
  if (error.status === 413) headers.Connection = 'close';
  sendError(res, error, headers);
  return error.code;
}

function notAllowed(allow: string) {
  return Object.assign(
    httpError(405, ErrorCodes.methodNotAllowed, `Method not allowed here. Use ${allow}.`),
    { allow },
  );
}

function parseIssue(body: Record<string, unknown>, limits: RelayLimits) {
  const { resource = randomUUID(), expires_in = limits.defaultExpiresInMinutes, scopes } = body;
  const problem = resourceProblem(resource, limits.maxResourceLength);
  if (problem) throw badRequest(`"resource" ${problem}.`);
  if (
    typeof expires_in !== 'number' ||
    !Number.isInteger(expires_in) ||
    expires_in < 1 ||
    expires_in > limits.maxExpiresInMinutes
  ) {
    throw badRequest(
      `"expires_in" must be a whole number of minutes from 1 to ${limits.maxExpiresInMinutes}.`,
    );
  }
  return {
    resource: resource as string,
    expiresInMinutes: expires_in,
    scopes: parseScopes(scopes),
  };
}

function parseScopes(scopes: unknown): Scope[] {
  if (scopes === undefined) return [...DEFAULT_SCOPES];
  if (!Array.isArray(scopes)) throw badRequest('"scopes" must be an array of scope names.');
  const names: unknown[] = scopes;
  const unknown = names.find((scope) => !isScope(scope));
  if (unknown !== undefined) {
    throw badRequest(
      `Unknown scope ${JSON.stringify(unknown)}. Known scopes: ${ALL_SCOPES.join(', ')}.`,
    );
  }
  return [...new Set(names.filter(isScope))];
}

function parseCallsFilter(query: URLSearchParams, limits: RelayLimits): CallsFilter {
  const filter: CallsFilter = {};
  for (const name of query.keys()) {
    if (name !== 'resource' && name !== 'state') {
      throw badRequest(`Unknown query parameter "${name}": filter with resource and state.`);
    }
  }
  const resource = query.get('resource');
  if (resource !== null) {
    const problem = resourceProblem(resource, limits.maxResourceLength);
    if (problem) throw badRequest(`"resource" ${problem}.`);
    filter.resource = resource.normalize('NFC');
  }
  const state = query.get('state');
  if (state !== null && state !== 'ringing' && state !== 'active') {
    throw badRequest('"state" must be "ringing" or "active".');
  }
  if (state !== null) filter.state = state;
  return filter;
}

function parseRefreshToken(body: Record<string, unknown>): string {
  const token = body.refresh_token;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_REFRESH_TOKEN_LENGTH) {
    throw badRequest('Send the refresh token as {"refresh_token": "…"}.');
  }
  return token;
}

function pairBody(pair: TokenPair) {
  return { jwt_token: pair.jwtToken, refresh_token: pair.refreshToken };
}
