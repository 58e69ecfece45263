import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  ClientMethods,
  CloseCodes,
  ErrorCodes,
  PROTOCOL_VERSION,
  isPlainObject,
  RelayError,
  RelayRpcError,
  RpcErrorCodes,
  type ConnectResult,
  type IceServer,
  type RelayLimits,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Cluster } from '../cluster/Cluster.js';
import { RemoteSession } from '../cluster/RemoteSession.js';
import type { TokenService, VerifiedToken } from '../TokenService.js';
import { mintTurnServer, type TurnOptions } from '../turnCredentials.js';
import { authorize } from './authorize.js';
import { CallManager } from './CallManager.js';
import { clientAddress } from '../http/clientAddress.js';
import { guardSocket, rejectUpgrade } from '../http/rawSocket.js';
import { Connection, internalError, type ConnectionContext, type RequestId } from './Connection.js';
import { parseRequest, readParams } from './parseRequest.js';
import { Session, type SessionBuffer } from './Session.js';
import type { SessionRouter } from './SessionRouter.js';
import { WriteBatch } from './WriteBatch.js';

export interface SignalingOptions {
  tokens: TokenService;
  router: SessionRouter;
  limits: RelayLimits;
  clock: Clock;
  iceServers: IceServer[];
  /** A TURN server whose credentials are minted per session and added to `iceServers`. */
  turn?: TurnOptions;
  /** When set, only these Origin headers may open a socket. */
  allowedOrigins?: string[];
  /** Take client addresses from X-Forwarded-For (behind a trusted proxy only). */
  trustProxy?: boolean;
  /** Other Relay nodes, through Redis: calls between sessions on different nodes. */
  cluster?: Cluster;
}

/** What a handler answers: a result, and work to do once the result is sent. */
type Handled = { result: unknown; after?: () => void };

const MAX_MALFORMED = 20;
/** Methods that wait on a token check; the others are handled synchronously. */
const ASYNC_METHODS = new Set<string>([ClientMethods.connect, ClientMethods.reauthenticate]);
const EMPTY_RESULT: Handled = { result: {} };
/** Requests about a call, which a call's owner node answers for sessions on other nodes. */
const FORWARDED_METHODS = new Set<string>([
  ClientMethods.answer,
  ClientMethods.reject,
  ClientMethods.hangup,
  ClientMethods.signal,
]);
/** Close code reported for a socket lost without a close frame. */
const ABNORMAL_CLOSURE = 1006;
const AUTH_CLOSE: Record<string, number> = {
  [ErrorCodes.tokenExpired]: CloseCodes.tokenExpired,
  [ErrorCodes.tokenRevoked]: CloseCodes.tokenRevoked,
  [ErrorCodes.authFailed]: CloseCodes.authFailed,
  [ErrorCodes.limitExceeded]: CloseCodes.sessionLimit,
  // The store (Redis) did not answer: not the client's fault; it may retry.
  [ErrorCodes.unavailableService]: CloseCodes.tryAgainLater,
};

/** The signaling WebSocket endpoint: authentication, sessions and their lifecycle. */
export class SignalingServer {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly calls: CallManager;
  private readonly context: ConnectionContext;
  private unauthenticated = 0;
  /** Unauthenticated sockets per client address (only addresses with one or more). */
  private readonly unauthenticatedByAddress = new Map<string, number>();
  private heartbeat: unknown;
  /** Shutting down: sessions end here, but stay resumable on other nodes. */
  private closing = false;

  constructor(private readonly options: SignalingOptions) {
    const { limits } = options;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      // Pings are answered here, within the message rate limit (ws's own guard cuts a ping
      // flood off without a close frame, which would only detach the session).
      autoPong: false,
    });
    this.context = {
      batch: new WriteBatch(),
      clock: options.clock,
      limits,
      slowConsumer: (slow) =>
        this.closeConnection(slow, CloseCodes.slowConsumer, 'too many unread messages'),
      closing: (connection) => this.releaseSlot(connection),
      rateLimitedError: JSON.stringify({
        code: RpcErrorCodes.rateLimited,
        message: `More than ${limits.messagesPerSecond} messages per second. Slow down.`,
        data: { code: ErrorCodes.rateLimited },
      }),
    };
    this.calls = new CallManager(options.router, limits, options.clock, (session) =>
      // Deferred: an overflow is found in the middle of routing another message.
      queueMicrotask(() =>
        this.terminate(session, CloseCodes.resumeOverflow, 'resume buffer overflow'),
      ),
    );
    this.scheduleHeartbeat();
  }

  stats() {
    return {
      sockets: this.connections.size,
      unauthenticated: this.unauthenticated,
      sessions: this.options.router.size,
      calls: this.calls.size,
    };
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node took its error listener off the socket when it emitted 'upgrade': a reset from the
    // client must not become an unhandled 'error' that ends the process.
    guardSocket(socket);
    const { allowedOrigins, limits } = this.options;
    if (allowedOrigins && !allowedOrigins.includes(req.headers.origin ?? '')) {
      rejectUpgrade(socket, 403, 'This origin may not connect to the Relay.');
      return;
    }
    const address = clientAddress(req, this.options.trustProxy ?? false);
    if ((this.unauthenticatedByAddress.get(address) ?? 0) >= limits.maxUnauthenticatedPerAddress) {
      rejectUpgrade(
        socket,
        429,
        'Too many connections from this address are authenticating. Retry with backoff.',
      );
      return;
    }
    if (this.unauthenticated >= limits.maxUnauthenticatedSockets) {
      rejectUpgrade(socket, 503, 'Too many connections are authenticating. Retry with backoff.');
      return;
    }
    // Counted once accepted: ws answers a malformed handshake itself and never calls back.
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, address));
  }

  /** Closes the sessions of a revoked token family, on every node. */
  revokeFamily(familyId: string): void {
    this.closeFamily(familyId);
    this.options.cluster?.revokeElsewhere(familyId).catch(() => undefined);
  }

  /** Joins the other nodes: they may now ring this node's sessions and route to them. */
  startCluster(): Promise<void> {
    const { cluster, limits } = this.options;
    if (!cluster) return Promise.resolve();
    return cluster.start({
      session: (id) => this.localSession(id),
      callRequest: (session, method, params) => {
        if (!FORWARDED_METHODS.has(method)) throw internalError();
        return this.dispatchSync(session, method, params);
      },
      legEvent: (session, event) => {
        if (event === 'detached') this.calls.detached(session);
        else if (event === 'resumed') this.calls.resumed(session);
        else this.calls.ended(session);
      },
      revokeFamily: (familyId) => this.closeFamily(familyId),
      handOver: (sessionId, node) => this.handOver(sessionId, node),
      maxCallsPerSession: limits.maxCallsPerSession,
      resumeGraceMs: limits.resumeGraceMs,
    });
  }

  private closeFamily(familyId: string): void {
    for (const session of this.options.router.ofFamily(familyId)) {
      this.terminate(session, CloseCodes.tokenRevoked, 'token revoked');
    }
  }

  /**
   * Closes every socket with 1001 and ends every session. Resolves when the
   * sockets are closed, or after `graceMs`, when the rest are cut off.
   */
  async close(graceMs = 2_000): Promise<void> {
    this.closing = true;
    this.options.clock.clearTimeout(this.heartbeat);
    const sessions = [...this.options.router.all()];
    // Every socket first: the Relay going away is not the other party leaving, so no
    // call.ended reaches anyone; calls whose media flows peer to peer go on.
    for (const session of sessions) {
      const link = session.link as Connection | null;
      session.link = null;
      if (link) link.session = null;
      link?.close(CloseCodes.goingAway, 'server shutting down');
    }
    for (const session of sessions) this.terminate(session);
    const closing = [...this.connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.ws.readyState === connection.ws.CLOSED) resolve();
          else connection.ws.once('close', () => resolve());
          connection.close(CloseCodes.goingAway, 'server shutting down');
        }),
    );
    // A real timer: shutdown waits on the network, not on the injected clock.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(closing), timeout]);
    clearTimeout(timer);
    for (const connection of this.connections) connection.ws.terminate();
    this.wss.close();
  }

  private accept(ws: WebSocket, socket: Duplex, address: string): void {
    const { clock, limits } = this.options;
    const connection = new Connection(ws, socket, address, this.context);
    this.unauthenticated += 1;
    this.unauthenticatedByAddress.set(
      address,
      (this.unauthenticatedByAddress.get(address) ?? 0) + 1,
    );
    this.connections.add(connection);
    connection.authTimer = clock.setTimeout(
      () => connection.close(CloseCodes.authTimeout, 'authentication timeout'),
      limits.authTimeoutMs,
    );
    ws.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    ws.on('ping', (data) => this.onPing(connection, data));
    ws.on('pong', () => (connection.alive = true));
    ws.on('close', (code) => this.onClose(connection, code));
    // ws reports frame violations (oversized, bad UTF-8, bad framing) here, then
    // closes with 1009/1007/1002 but no longer reads, so 'close' says 1006.
    ws.on('error', () => (connection.violated = true));
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (connection.closed) return;
    if (isBinary) {
      this.closeConnection(
        connection,
        CloseCodes.unsupportedData,
        'binary frames are not supported',
      );
      return;
    }
    if (!connection.take()) {
      if (this.refuse(connection)) return;
      // The request is not handled, but its id is answered so the caller's promise settles.
      const { id } = parseRequest(data);
      if (id !== undefined) connection.replyRateLimited(id);
      return;
    }
    const parsed = parseRequest(data);
    if ('error' in parsed) {
      connection.malformed += 1;
      connection.replyError(parsed.id, parsed.error);
      if (connection.malformed >= MAX_MALFORMED) {
        this.closeConnection(
          connection,
          CloseCodes.protocolViolation,
          'too many malformed messages',
        );
      }
      return;
    }
    connection.malformed = 0;
    const { id, method, params } = parsed;
    const session = connection.session;
    // Signals are most of the traffic: handled at once, without a promise, when no token
    // check of this socket is still running (requests are answered in arrival order).
    if (
      session &&
      connection.idle &&
      !ASYNC_METHODS.has(method) &&
      !this.crossesNodes(method, params)
    ) {
      this.handle(connection, id, method, () => this.dispatchSync(session, method, params));
      return;
    }
    connection.enqueue(async () => {
      if (connection.closed) return;
      try {
        const handled = await this.dispatch(connection, method, params);
        if (id !== undefined) connection.reply(id, handled.result);
        handled.after?.();
      } catch (error) {
        this.fail(connection, id, method, error);
      }
    });
  }

  /** A WebSocket ping from the client: a message like any other for the rate limit. */
  private onPing(connection: Connection, data: Buffer): void {
    if (connection.closed) return;
    if (connection.take()) connection.ws.pong(data);
    else this.refuse(connection);
  }

  /** Counts a message refused for the rate limit; true when that closed the socket (4008). */
  private refuse(connection: Connection): boolean {
    if (!connection.refuse()) return false;
    this.closeConnection(connection, CloseCodes.rateLimited, 'message rate limit exceeded');
    return true;
  }

  private handle(
    connection: Connection,
    id: RequestId | undefined,
    method: string,
    run: () => Handled,
  ): void {
    try {
      const handled = run();
      if (id !== undefined) connection.reply(id, handled.result);
      handled.after?.();
    } catch (error) {
      this.fail(connection, id, method, error);
    }
  }

  private fail(
    connection: Connection,
    id: RequestId | undefined,
    method: string,
    error: unknown,
  ): void {
    const rpcError =
      error instanceof RelayRpcError
        ? error
        : error instanceof RelayError
          ? toRpc(error)
          : internalError();
    if (id !== undefined) connection.replyError(id, rpcError);
    if (method === ClientMethods.connect && !connection.session) {
      this.closeConnection(
        connection,
        AUTH_CLOSE[rpcError.code] ?? CloseCodes.notAuthenticated,
        rpcError.message,
      );
    }
  }

  private async dispatch(
    connection: Connection,
    method: string,
    params: unknown,
  ): Promise<Handled> {
    const session = connection.session;
    if (method === ClientMethods.connect) return this.connect(connection, params);
    if (!session) {
      throw new RelayRpcError(
        RpcErrorCodes.notAuthenticated,
        ErrorCodes.notAuthenticated,
        'Send relay.connect with a project id and a JWT first.',
      );
    }
    if (method === ClientMethods.reauthenticate) {
      const p = readParams(method, params, this.options.limits);
      return { result: await this.reauthenticate(session, p.string('token')) };
    }
    const { cluster } = this.options;
    if (cluster && method === ClientMethods.invite)
      return this.inviteAcross(cluster, session, params);
    const owner = cluster?.ownerOf(callIdOf(params) ?? '');
    if (cluster && owner && FORWARDED_METHODS.has(method)) {
      // The call lives on the caller's node: it answers for it.
      return {
        result: await cluster.forward(session, owner, method, params as Record<string, unknown>),
      };
    }
    return this.dispatchSync(session, method, params);
  }

  /** Whether a request involves another node (and so cannot be answered at once). */
  private crossesNodes(method: string, params: unknown): boolean {
    const { cluster } = this.options;
    if (!cluster) return false;
    return method === ClientMethods.invite || cluster.ownerOf(callIdOf(params) ?? '') !== undefined;
  }

  /** An invite that also rings the callee's sessions on other nodes. */
  private async inviteAcross(
    cluster: Cluster,
    session: Session,
    params: unknown,
  ): Promise<Handled> {
    const p = readParams(ClientMethods.invite, params, this.options.limits);
    const to = p.resource('to');
    const metadata = p.metadata('metadata');
    authorize(session.scopes, 'dial');
    const remote = await cluster.remoteReceivers(session.projectId, to);
    const result = this.calls.invite(session, to, metadata, remote);
    const { refused } = await cluster.ringsSettled(result.callId);
    let dropped = false;
    for (const { sessionId } of refused)
      dropped = this.calls.refuse(result.callId, sessionId) || dropped;
    if (dropped) {
      throw refused.some((r) => r.reason === 'busy')
        ? new RelayRpcError(
            RpcErrorCodes.busy,
            ErrorCodes.busy,
            `"${to}" is busy on other calls. Try later.`,
          )
        : new RelayRpcError(
            RpcErrorCodes.unavailable,
            ErrorCodes.unavailable,
            `"${to}" is not connected. Try again when they are online.`,
          );
    }
    return { result, after: () => this.calls.announceRinging(result.callId) };
  }

  /** The methods answered without waiting on anything. */
  private dispatchSync(session: Session, method: string, params: unknown): Handled {
    const p = readParams(method, params, this.options.limits);
    switch (method) {
      case ClientMethods.ping: {
        const ack = p.optionalSeq('ack');
        if (ack !== undefined) session.acknowledge(ack);
        return { result: { serverTime: this.options.clock.now() } };
      }
      case ClientMethods.invite: {
        const result = this.calls.invite(session, p.resource('to'), p.metadata('metadata'));
        return { result, after: () => this.calls.announceRinging(result.callId) };
      }
      case ClientMethods.answer: {
        const result = this.calls.answer(session, p.string('callId'));
        return { result, after: () => this.calls.flushEarlySignals(result.callId) };
      }
      case ClientMethods.reject:
        this.calls.reject(session, p.string('callId'), p.rejectReason('reason'));
        return { result: {} };
      case ClientMethods.hangup:
        this.calls.hangup(session, p.string('callId'));
        return { result: {} };
      case ClientMethods.signal:
        this.calls.signal(session, p.string('callId'), p.json('signal', true));
        return EMPTY_RESULT;
      default:
        throw new RelayRpcError(
          RpcErrorCodes.methodNotFound,
          ErrorCodes.methodNotFound,
          `Unknown method "${method}". See docs/PROTOCOL.md for the methods the Relay serves.`,
        );
    }
  }

  private async connect(connection: Connection, params: unknown): Promise<Handled> {
    if (connection.session) {
      throw new RelayRpcError(
        RpcErrorCodes.invalidState,
        ErrorCodes.invalidState,
        'This socket is already connected. Use relay.reauthenticate to present a fresher token.',
      );
    }
    const p = readParams(ClientMethods.connect, params, this.options.limits);
    const project = p.string('project');
    const token = p.string('token');
    const sessionId = p.optionalString('sessionId');
    const lastSeq = p.optionalSeq('lastSeq') ?? 0;
    const verified = await this.options.tokens.verify(project, token);
    if (connection.closed) return { result: null };
    const { router, clock } = this.options;
    let session = sessionId ? this.localSession(sessionId) : undefined;
    if (!session && sessionId && this.options.cluster) {
      session = await this.adopt(this.options.cluster, sessionId, project, verified, lastSeq);
      if (connection.closed) return { result: null };
    }
    if (session && (session.projectId !== project || session.resource !== verified.resource)) {
      session = undefined;
    } else if (session && !session.canResumeFrom(lastSeq)) {
      this.terminate(session, CloseCodes.sessionTakenOver, 'session could not be resumed');
      session = undefined;
    }
    const resumed = session !== undefined;
    if (session) {
      clock.clearTimeout(session.graceTimer);
      const previous = session.link as Connection | null;
      if (previous) {
        previous.session = null;
        previous.close(CloseCodes.sessionTakenOver, 'session resumed on another socket');
      }
    } else {
      this.checkSessionLimits(project, verified.resource);
      session = this.newSession(randomUUID(), project, verified);
      router.add(session);
      this.options.cluster?.track(session);
    }
    this.applyToken(session, verified);
    clock.clearTimeout(connection.authTimer);
    connection.authTimer = undefined;
    this.releaseSlot(connection);
    connection.session = session;
    session.link = connection;
    const attached = session;
    const result: ConnectResult = {
      protocol: PROTOCOL_VERSION,
      sessionId: session.id,
      resumed,
      resource: session.resource,
      scopes: session.scopes,
      expiresAt: session.expiresAt,
      serverTime: clock.now(),
      iceServers: this.iceServersOf(session),
    };
    const after = resumed
      ? () => {
          attached.replayAfter(lastSeq);
          this.calls.resumed(attached);
          this.options.cluster?.legEvent(attached, 'resumed');
        }
      : undefined;
    return { result, after };
  }

  /** A session this node holds (the router also finds other nodes' legs of its calls). */
  private localSession(sessionId: string): Session | undefined {
    const session = this.options.router.get(sessionId);
    return session instanceof RemoteSession ? undefined : session;
  }

  private newSession(
    id: string,
    projectId: string,
    verified: VerifiedToken,
    buffer?: SessionBuffer,
  ): Session {
    return new Session({
      id,
      projectId,
      resource: verified.resource,
      scopes: verified.scopes,
      familyId: verified.familyId,
      expiresAt: verified.expiresAt,
      maxBuffered: this.options.limits.resumeBufferMessages,
      maxBufferedBytes: this.options.limits.resumeBufferBytes,
      buffer,
    });
  }

  /** A session another node held (or held until it died), resumed on this node. */
  private async adopt(
    cluster: Cluster,
    sessionId: string,
    project: string,
    verified: VerifiedToken,
    lastSeq: number,
  ): Promise<Session | undefined> {
    const adopted = await cluster.adopt(sessionId, project, verified.resource);
    if (!adopted || this.localSession(sessionId)) return undefined;
    const session = this.newSession(sessionId, project, verified, adopted.record.buffer);
    for (const { callId } of adopted.calls) session.calls.add(callId);
    cluster.absorb(session);
    if (!session.canResumeFrom(lastSeq)) {
      // Too far behind to resume: the calls it was in end for the others.
      cluster.legEvent(session, 'ended');
      cluster.untrack(session);
      return undefined;
    }
    this.options.router.add(session);
    cluster.track(session);
    return session;
  }

  /** Another node resumes one of this node's sessions: let go of it, keep its calls. */
  private handOver(sessionId: string, node: string) {
    const { router, cluster, clock } = this.options;
    const session = this.localSession(sessionId);
    if (!session || session.ended || !cluster) return undefined;
    const calls = [...session.calls];
    const owned = calls.filter((callId) => this.calls.owns(callId));
    const foreign = calls.flatMap((callId) => {
      const owner = cluster.ownerOf(callId);
      return owner ? [{ callId, owner }] : [];
    });
    clock.clearTimeout(session.graceTimer);
    clock.clearTimeout(session.expiryTimer);
    // Not terminate(): the session and its calls go on, on the other node.
    cluster.handedOver(session, node, owned);
    session.ended = true;
    router.remove(session);
    const link = session.link as Connection | null;
    session.link = null;
    if (link) {
      link.session = null;
      link.close(CloseCodes.sessionTakenOver, 'session resumed on another node');
    }
    return { owned, foreign };
  }

  private async reauthenticate(session: Session, token: string) {
    const verified = await this.options.tokens.verify(session.projectId, token);
    if (verified.resource !== session.resource) {
      throw new RelayRpcError(
        RpcErrorCodes.forbidden,
        ErrorCodes.forbidden,
        `The token is for "${verified.resource}", but this session is "${session.resource}". ` +
          'Re-authenticate with a token for the same resource.',
      );
    }
    if (session.ended) throw internalError();
    this.applyToken(session, verified);
    return {
      expiresAt: session.expiresAt,
      serverTime: this.options.clock.now(),
      scopes: session.scopes,
      iceServers: this.iceServersOf(session),
    };
  }

  /** The configured ICE servers, plus TURN credentials valid until the session's JWT expires. */
  private iceServersOf(session: Session): IceServer[] {
    const { iceServers, turn } = this.options;
    if (!turn) return iceServers;
    return [...iceServers, mintTurnServer(turn, session.resource, session.expiresAt)];
  }

  private applyToken(session: Session, verified: VerifiedToken): void {
    const { clock, router } = this.options;
    session.scopes = verified.scopes;
    session.expiresAt = verified.expiresAt;
    if (session.familyId !== verified.familyId) router.changeFamily(session, verified.familyId);
    this.options.cluster?.retrack(session);
    clock.clearTimeout(session.expiryTimer);
    session.expiryTimer = clock.setTimeout(
      () => this.terminate(session, CloseCodes.tokenExpired, 'token expired'),
      Math.max(0, session.expiresAt - clock.now()),
    );
  }

  private checkSessionLimits(projectId: string, resource: string): void {
    const { router, limits } = this.options;
    const overProject = router.countOfProject(projectId) >= limits.maxSessionsPerProject;
    if (
      overProject ||
      router.ofResource(projectId, resource).length >= limits.maxSessionsPerResource
    ) {
      throw new RelayRpcError(
        RpcErrorCodes.limitExceeded,
        ErrorCodes.limitExceeded,
        overProject
          ? `The project has ${limits.maxSessionsPerProject} sessions, its limit. Close some first.`
          : `"${resource}" has ${limits.maxSessionsPerResource} sessions, its limit. Close a tab or device first.`,
      );
    }
  }

  /** The socket no longer counts as authenticating (it did, or it is being closed). */
  private releaseSlot(connection: Connection): void {
    if (!connection.holdsSlot) return;
    connection.holdsSlot = false;
    this.unauthenticated -= 1;
    const { address } = connection;
    const count = (this.unauthenticatedByAddress.get(address) ?? 1) - 1;
    if (count > 0) this.unauthenticatedByAddress.set(address, count);
    else this.unauthenticatedByAddress.delete(address);
  }

  private onClose(connection: Connection, code: number): void {
    connection.dispose();
    this.connections.delete(connection);
    this.releaseSlot(connection);
    const session = connection.session;
    if (!session) return;
    connection.session = null;
    if (session.link !== connection) return;
    session.link = null;
    // Only a socket lost without a close frame (1006) may come back; a client that
    // closed on purpose, or a protocol violation ws closed for (1009, 1007), ends the session.
    if (code === ABNORMAL_CLOSURE && !connection.violated) this.detach(session);
    else this.terminate(session);
  }

  private detach(session: Session): void {
    this.calls.detached(session);
    this.options.cluster?.legEvent(session, 'detached');
    session.graceTimer = this.options.clock.setTimeout(
      () => this.terminate(session),
      this.options.limits.resumeGraceMs,
    );
  }

  /** Ends a session for good, closing its socket with `code` when one is attached. */
  private terminate(session: Session, code?: number, reason = ''): void {
    if (session.ended) return;
    const { clock, router } = this.options;
    clock.clearTimeout(session.expiryTimer);
    clock.clearTimeout(session.graceTimer);
    // A node shutting down leaves its sessions' records, so their clients resume them on another
    // node, and tells no other node they ended: to them, this node is gone, as if it had died.
    if (!this.closing) {
      this.options.cluster?.legEvent(session, 'ended');
      this.options.cluster?.untrack(session);
    }
    this.calls.ended(session);
    session.ended = true;
    router.remove(session);
    const link = session.link as Connection | null;
    session.link = null;
    if (link) {
      link.session = null;
      link.close(code ?? CloseCodes.normal, reason);
    }
  }

  /** Closes a socket for a violation; its session ends with it. */
  private closeConnection(connection: Connection, code: number, reason: string): void {
    if (connection.session) this.terminate(connection.session, code, reason);
    else connection.close(code, reason);
  }

  private scheduleHeartbeat(): void {
    const { clock, limits } = this.options;
    if (limits.heartbeatIntervalMs <= 0) return;
    this.heartbeat = clock.setTimeout(() => {
      for (const connection of this.connections) {
        // Silent for a whole interval: the socket is dead; its session may resume.
        if (!connection.alive) connection.ws.terminate();
        else {
          connection.alive = false;
          connection.ws.ping();
        }
      }
      this.scheduleHeartbeat();
    }, limits.heartbeatIntervalMs);
  }
}

function toRpc(error: RelayError): RelayRpcError {
  const rpcCode =
    error.code === ErrorCodes.tokenExpired ||
    error.code === ErrorCodes.tokenRevoked ||
    error.code === ErrorCodes.authFailed
      ? RpcErrorCodes.authFailed
      : RpcErrorCodes.internal;
  return new RelayRpcError(rpcCode, error.code, error.message);
}

function callIdOf(params: unknown): string | undefined {
  const callId = isPlainObject(params) ? params.callId : undefined;
  return typeof callId === 'string' ? callId : undefined;
}
