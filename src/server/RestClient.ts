import {
  CALLS_PATH,
  ErrorCodes,
  JWT_PATH,
  type CallsFilter,
  type CallsListResult,
  RelayHttpError,
  type ErrorCode,
  type Scope,
} from '../protocol/index.js';

export interface RestClientOptions {
  /** Base URL of the Relay, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Project id (Basic-auth user name). */
  project: string;
  /** Project token (Basic-auth password). Keep it on your back end. */
  token: string;
  /** fetch implementation. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Per-request timeout, in ms. Default: 10000. */
  timeoutMs?: number;
}

export interface CreateTokenOptions {
  /** The browser user the token is for. Default: a random UUID chosen by the Relay. */
  resource?: string;
  /** JWT lifetime, in minutes. Default: the Relay's (15). */
  expiresIn?: number;
  /** Scopes. Default: dial and receive. */
  scopes?: Scope[];
}

export interface TokenPair {
  /** The JWT to hand to the browser. */
  jwtToken: string;
  /** Opaque refresh token: keep it on the back end, exchange it with `refresh`. */
  refreshToken: string;
}

export interface RestClient {
  /** Issues a new token pair (starts a refresh family). */
  createToken(options?: CreateTokenOptions): Promise<TokenPair>;
  /** Exchanges a refresh token for a new pair; the old refresh token stops working. */
  refreshToken(refreshToken: string): Promise<TokenPair>;
  /** Revokes the refresh token's family and closes its live sessions (logout). */
  revokeToken(refreshToken: string): Promise<void>;
  /** The project's ongoing calls and rooms, on every node (`GET /api/relay/rest/calls`). */
  listCalls(filter?: CallsFilter): Promise<CallsListResult>;
}

/** A client of the Relay's token REST API, for app back ends. Errors are RelayHttpError. */
export function createRestClient(options: RestClientOptions): RestClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const jwtEndpoint = new URL(JWT_PATH, options.url).toString();
  const authorization = `Basic ${Buffer.from(`${options.project}:${options.token}`).toString('base64')}`;

  async function request(method: string, body: unknown, endpoint = jwtEndpoint): Promise<unknown> {
    let response: Response;
    let text: string;
    try {
      response = await doFetch(endpoint, {
        method,
        headers: { authorization, 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      // Reading the body can fail too (connection dropped, timeout): still a network error.
      text = await response.text();
    } catch (cause) {
      throw new RelayHttpError(
        0,
        ErrorCodes.network,
        `Could not reach the Relay at ${endpoint}. Check the URL and that the server runs.`,
        { cause },
      );
    }
    const json = parseJson(text);
    if (response.ok) return json;
    const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    throw new RelayHttpError(
      response.status,
      typeof error?.code === 'string' ? (error.code as ErrorCode) : ErrorCodes.internal,
      typeof error?.message === 'string'
        ? error.message
        : `The Relay answered ${response.status} without an error body.`,
    );
  }

  function toPair(json: unknown): TokenPair {
    const body = json as { jwt_token?: unknown; refresh_token?: unknown } | undefined;
    if (typeof body?.jwt_token !== 'string' || typeof body.refresh_token !== 'string') {
      throw new RelayHttpError(
        502,
        ErrorCodes.internal,
        'The Relay answered without a token pair. Check that the URL points at a relaycall server.',
      );
    }
    return { jwtToken: body.jwt_token, refreshToken: body.refresh_token };
  }

  return {
    async createToken({ resource, expiresIn, scopes } = {}) {
      return toPair(await request('POST', { resource, expires_in: expiresIn, scopes }));
    },
    async refreshToken(refreshToken) {
      return toPair(await request('PUT', { refresh_token: refreshToken }));
    },
    async revokeToken(refreshToken) {
      await request('DELETE', { refresh_token: refreshToken });
    },
    async listCalls(filter = {}) {
      const url = new URL(CALLS_PATH, options.url);
      if (filter.resource !== undefined) url.searchParams.set('resource', filter.resource);
      if (filter.state !== undefined) url.searchParams.set('state', filter.state);
      return (await request('GET', undefined, url.toString())) as CallsListResult;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
