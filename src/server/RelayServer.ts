import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_LIMITS,
  DEFAULT_SCOPES,
  ErrorCodes,
  RelayError,
  WS_PATH,
  normalizeIdentity,
  resourceProblem,
  type IceServer,
  type RelayLimits,
  type Scope,
  type CallsFilter,
  type CallsListResult,
} from '../protocol/index.js';
import type { AssistRecord } from './supervision/Assists.js';
import { systemClock, type Clock } from './clock.js';
import { RelayListener, type ListenOptions, type TlsFiles } from './http/RelayListener.js';
import { createRestApi, type RestAnswered } from './http/restApi.js';
import { LocalSessionRouter } from './signaling/SessionRouter.js';
import { SignalingServer } from './signaling/SignalingServer.js';
import { MemoryStore } from './store/MemoryStore.js';
import type { RelayStore } from './store/RelayStore.js';
import { TokenService, generateSecret, type TokenPair } from './TokenService.js';
import { checkTurnOptions, type TurnOptions } from './turnCredentials.js';
import { JanusConnection } from './janus/JanusConnection.js';
import { checkJanusOptions, type JanusOptions } from './janus/JanusOptions.js';
import { JanusSfu } from './janus/JanusSfu.js';
import { JanusSipGateway } from './janus/JanusSipGateway.js';
import { checkSipOptions, type SipOptions } from './sip/SipOptions.js';
import { ClusterRouter } from './cluster/ClusterRouter.js';
import { connectCluster, type ClusterConfig } from './cluster/connectCluster.js';
import {
  checkMetricsOptions,
  metricsEndpoint,
  type MetricsOptions,
} from './metrics/metricsEndpoint.js';
import { timedStore } from './metrics/timedStore.js';
import { defaultLogger, type RelayLogger } from './RelayLogger.js';
import { Telemetry } from './Telemetry.js';

export interface ProjectCredentials {
  /** Project id: the Basic-auth user name. No ':' and no control characters. */
  id: string;
  /** Project token: the Basic-auth password. Stored hashed. */
  token: string;
}

export interface RelayServerOptions {
  /** Where projects, the signing secret and refresh families live. Default: a new MemoryStore. Closed by `close()`. */
  store?: RelayStore;
  /** HS512 signing secret, at least 64 bytes. Default: the store's, generated on first start. */
  secret?: string;
  /** Projects to create or update at start (their tokens replace stored ones). Default: none. */
  projects?: ProjectCredentials[];
  /** ICE servers handed to clients in the `relay.connect` reply. Default: none (never a public server). */
  iceServers?: IceServer[];
  /**
   * A TURN server sharing a secret with the Relay (coturn's `use-auth-secret`). Each
   * `relay.connect` and `relay.reauthenticate` reply then adds `{ urls, username, credential }`
   * to `iceServers`, minted for the session and valid until its JWT expires (Unix seconds in
   * the username, never later than the JWT's `exp`). `secret`: at least 32 characters, the
   * TURN server's `static-auth-secret`. Default: none. See docs/DEPLOY.md#turn.
   */
  turn?: TurnOptions;
  /**
   * A Janus server carrying the media of `sfu` rooms (created with `media: 'sfu'`). The Relay
   * connects to its WebSocket API and reconnects whenever it drops; while it is away, `sfu`
   * rooms refuse joins with `sfu_unavailable`, and mesh rooms and calls are unaffected.
   * Default: none (mesh rooms only). See docs/DEPLOY.md#janus.
   */
  janus?: JanusOptions;
  /**
   * Calls to phone numbers and SIP endpoints, and calls from a SIP trunk to the project's
   * numbers, through Janus's SIP plugin on the `janus` server (which must load it). `trunks`
   * holds each project's trunk: proxy, credentials, numbers, routes. Default: none (calls
   * between browsers only). See docs/DEPLOY.md#sip.
   */
  sip?: SipOptions;
  /**
   * Run as one of several nodes behind a load balancer, sharing a Redis: presence of every
   * session, calls between sessions on different nodes, revocations on every node. Use it
   * with a `RedisStore` on the same Redis. Default: none (a single node). See docs/DEPLOY.md.
   */
  cluster?: ClusterConfig;
  /** Overrides of {@link DEFAULT_LIMITS}. */
  limits?: Partial<RelayLimits>;
  /** JWT issuer (`iss`). Default: 'relaycall'. */
  issuer?: string;
  /** Take client addresses from X-Forwarded-For (only behind a proxy you trust). Default: false. */
  trustProxy?: boolean;
  /** When set, only pages of these origins may open the signaling socket. Default: any origin. */
  allowedOrigins?: string[];
  /** Time source and timers. Default: the system clock. */
  clock?: Clock;
  /**
   * Told of every mode a supervisor takes in a call (`call.assist`): who, which call, which
   * mode, when. The same entries are listed with the call while it lasts (`assists`); keep
   * them from here for an audit log that outlives calls. Default: none.
   */
  onAssist?: (record: AssistRecord) => void;
  /**
   * Receives the Relay's structured log: sessions opened and closed, calls started and ended,
   * requests refused, and the failures it works around (Redis, the store, Janus, the SIP
   * gateway), each under a stable event name (docs/DEPLOY.md#logs-and-metrics). `jsonLogger()`
   * writes one JSON object per line. Default: warnings and errors written to stderr as text
   * lines, info dropped (`silentLogger` drops everything).
   */
  logger?: RelayLogger;
  /**
   * Serves Prometheus metrics (text format 0.0.4) at `GET /metrics`: `true` to whoever reaches
   * the port, `{ bearerToken }` only to requests with `Authorization: Bearer <bearerToken>`
   * (at least 16 characters; others get 401). Keep it off the public internet
   * (docs/DEPLOY.md#logs-and-metrics). Default: false (404; `metrics()` renders them anyway).
   */
  metrics?: MetricsOptions;
}

export type { ListenOptions, TlsFiles } from './http/RelayListener.js';

export interface IssueTokenRequest {
  /** Project id. */
  project: string;
  /** The browser user. Default: a random UUID. */
  resource?: string;
  /** JWT lifetime, in minutes. Default: limits.defaultExpiresInMinutes (15). */
  expiresInMinutes?: number;
  /** Scopes. Default: dial and receive. */
  scopes?: Scope[];
}

export interface RelayStats {
  sockets: number;
  unauthenticated: number;
  sessions: number;
  calls: number;
  /** Rooms on this node. */
  rooms: number;
  /** The SFU (a Relay with `janus`): whether Janus answers, and its rooms on this node. */
  sfu?: { available: boolean; rooms: number };
  /** The SIP gateway (a Relay with `sip`): whether it answers, and its calls on this node. */
  sip?: { available: boolean; calls: number };
}

export interface RelayServer {
  /** Serves a REST request; resolves false when the path is not the Relay's (for use as middleware). */
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Takes a WebSocket upgrade; returns false when the path is not the Relay's. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Starts a standalone HTTP server; resolves its base URL (http://host:port). */
  listen(options?: ListenOptions): Promise<string>;
  /** Base URL once listening. */
  readonly url: string | undefined;
  /**
   * Replaces the certificate and key of a Relay listening with `tls` (a renewed certificate):
   * new connections use them, open ones keep theirs. Throws when the Relay does not serve TLS.
   */
  setTls(tls: TlsFiles): void;
  /** Creates a project, or replaces the token of an existing one. */
  putProject(project: ProjectCredentials): Promise<void>;
  /**
   * Issues a token pair as `POST /api/relay/rest/jwt` does, for a back end running in the
   * same process (no HTTP, no project token). Rejects for an unknown project.
   */
  issueToken(request: IssueTokenRequest): Promise<TokenPair>;
  stats(): RelayStats;
  /** Every metric, in Prometheus's text format 0.0.4, as `GET /metrics` serves them. */
  metrics(): string;
  /**
   * The project's ongoing calls and rooms, on every node, as `GET /api/relay/rest/calls`
   * answers them (for a back end in the same process).
   */
  listCalls(project: string, filter?: CallsFilter): Promise<CallsListResult>;
  /** Closes every session with 1001 (going away), stops listening and closes the store. */
  close(): Promise<void>;
}

/**
 * Creates a Relay: the token REST API and the signaling WebSocket. The Relay
 * owns the store from here on: it closes it on `close()`, or at once when
 * creation fails.
 */
export async function createRelayServer(options: RelayServerOptions = {}): Promise<RelayServer> {
  const store = options.store ?? new MemoryStore();
  try {
    return await buildRelay(store, options);
  } catch (error) {
    // The creation error is the one to report; the store is let go either way.
    await store.close().catch(() => undefined);
    throw error;
  }
}

async function buildRelay(untimed: RelayStore, options: RelayServerOptions): Promise<RelayServer> {
  const clock = options.clock ?? systemClock;
  const telemetry = new Telemetry(options.logger ?? defaultLogger(), clock);
  const store = timedStore(untimed, telemetry.storeOperation);
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  if (limits.maxExpiresInMinutes * 60_000 > limits.refreshTokenTtlMs) {
    throw new RelayError(
      ErrorCodes.badRequest,
      'maxExpiresInMinutes must not exceed refreshTokenTtlMs: a JWT may not outlive its refresh family.',
    );
  }
  const turn = options.turn && checkTurnOptions(options.turn);
  const janusOptions = options.janus && checkJanusOptions(options.janus);
  const trunks = options.sip && checkSipOptions(options.sip);
  checkMetricsOptions(options.metrics);
  if (trunks && !janusOptions) {
    throw new RelayError(
      ErrorCodes.badRequest,
      'SIP calls need a Janus with its SIP plugin: set the `janus` option too (docs/DEPLOY.md#sip).',
    );
  }
  const secret = options.secret ?? (await store.getOrCreateSecret(generateSecret));
  const tokens = new TokenService(
    store,
    secret,
    clock,
    limits,
    options.issuer ?? 'relaycall',
    (family) => signaling.revokeFamily(family),
  );
  for (const project of options.projects ?? []) await putProject(project);
  const member = options.cluster
    ? await connectCluster(options.cluster, clock, limits, telemetry)
    : undefined;
  const cluster = member?.cluster;
  const router = cluster
    ? new ClusterRouter(
        cluster.presence,
        (id) => cluster.remoteSession(id),
        telemetry.clusterFailed, // the next refresh rewrites presence
      )
    : new LocalSessionRouter();
  const janus = janusOptions && new JanusConnection({ ...janusOptions, clock });
  const sfu =
    janus &&
    new JanusSfu(janus, {
      secret: janusOptions.secret,
      clock,
      maxPublishers: limits.maxSfuParticipants,
      expiresAt: (member) =>
        member.legId === null ? undefined : router.get(member.legId)?.expiresAt,
      talkingLevel: janusOptions.talkingLevel,
      onFailure: (event, fields) => telemetry.failedRepeatedly(event, fields),
    });
  const sipGateway = janus && trunks && new JanusSipGateway(janus, janusOptions.secret, clock);
  janus?.onAvailability((available) => {
    const fields = { url: janusOptions?.url };
    if (available) telemetry.logger.info('janus.available', fields);
    else telemetry.failed('janus.unavailable', fields);
  });
  janus?.start();
  const signaling = new SignalingServer({
    tokens,
    router,
    sfu,
    ...(sipGateway && trunks ? { sip: { gateway: sipGateway, trunks } } : {}),
    cluster,
    limits,
    clock,
    iceServers: options.iceServers ?? [],
    turn,
    allowedOrigins: options.allowedOrigins,
    trustProxy: options.trustProxy ?? false,
    onAssist: options.onAssist,
    telemetry,
  });
  let closing = false;
  const answered: RestAnswered = (req, path, status, code, cause) =>
    telemetry.restAnswered(req, path, status, code, cause);
  const restApi = createRestApi({
    tokens,
    limits,
    clock,
    trustProxy: options.trustProxy ?? false,
    health: async () => {
      if (closing) throw new Error('closing');
      if (member && !member.connected()) throw new Error('Redis is unreachable');
      await store.ping();
    },
    listCalls: (projectId, filter) => signaling.board.list(projectId, filter),
    answered,
  });
  const metricsPage = metricsEndpoint({
    metrics: options.metrics,
    render: () => relay.metrics(),
    answered,
  });
  const rest = (req: IncomingMessage, res: ServerResponse): Promise<boolean> =>
    metricsPage(req, res) ? Promise.resolve(true) : restApi(req, res);
  try {
    await signaling.startCluster();
  } catch (cause) {
    await signaling.close(0);
    await janus?.close();
    await member?.close();
    throw new RelayError(
      ErrorCodes.unavailableService,
      'Could not join the other Relay nodes through Redis. Check that Redis is running.',
      { cause },
    );
  }
  let purgeTimer: unknown;
  const schedulePurge = () => {
    purgeTimer = clock.setTimeout(() => {
      store
        .purgeExpired(clock.now())
        .catch((error: unknown) =>
          telemetry.failed('store.failed', { operation: 'purgeExpired', error }),
        );
      schedulePurge();
    }, 60 * 60_000);
  };
  schedulePurge();

  async function putProject({ id, token }: ProjectCredentials): Promise<void> {
    const problem = resourceProblem(id, limits.maxProjectIdLength);
    if (problem || id.includes(':')) {
      throw new RelayError(
        ErrorCodes.badRequest,
        `Project id ${JSON.stringify(id)} ${problem ?? 'must not contain ":"'}.`,
      );
    }
    if (token.length < 16) {
      throw new RelayError(
        ErrorCodes.badRequest,
        `The token of project "${id}" is shorter than 16 characters. Use a long random token.`,
      );
    }
    await tokens.putProject(id, token);
  }

  const listener = new RelayListener({
    limits,
    trustProxy: options.trustProxy ?? false,
    request: (req, res) => rest(req, res),
    upgrade: (req, socket, head) => relay.handleUpgrade(req, socket, head),
    failed: (error, req) => telemetry.failed('rest.failed', { path: req.url, error }),
  });
  const relay: RelayServer = {
    handleRequest: (req, res) => rest(req, res),
    handleUpgrade(req, socket, head) {
      if ((req.url ?? '').split('?')[0] !== WS_PATH) return false;
      signaling.handleUpgrade(req, socket, head);
      return true;
    },
    listen: (listenOptions) => listener.listen(listenOptions),
    get url() {
      return listener.url;
    },
    setTls: (tls) => listener.setTls(tls),
    putProject,
    async issueToken({ project: id, resource, expiresInMinutes, scopes }) {
      const project = normalizeIdentity(id);
      if (!(await store.getProject(project))) {
        throw new RelayError(
          ErrorCodes.unauthorized,
          `Unknown project "${project}". Create it first.`,
        );
      }
      return tokens.issue(project, {
        resource: resource ?? randomUUID(),
        expiresInMinutes: expiresInMinutes ?? limits.defaultExpiresInMinutes,
        scopes: scopes ?? [...DEFAULT_SCOPES],
      });
    },
    stats: () => signaling.stats(),
    metrics: () => telemetry.metrics.render(signaling.stats()),
    listCalls: (project, filter = {}) => signaling.board.list(project, filter),
    async close() {
      if (closing) return;
      closing = true;
      telemetry.closing = true;
      clock.clearTimeout(purgeTimer);
      await signaling.close();
      await sfu?.close();
      await sipGateway?.close();
      await janus?.close();
      await member?.close();
      await listener.close();
      await store.close();
    },
  };
  return relay;
}
