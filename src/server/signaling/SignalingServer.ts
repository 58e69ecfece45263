import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  ClientMethods,
  CloseCodes,
  ErrorCodes,
  PROTOCOL_VERSION,
  RelayError,
  RelayRpcError,
  RpcErrorCodes,
  type ConnectResult,
  type IceServer,
  type RelayLimits,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { TokenService, VerifiedToken } from '../TokenService.js';
import { CallManager } from './CallManager.js';
import { Connection, internalError, type RequestId } from './Connection.js';
import { parseRequest, readParams } from './parseRequest.js';
import { Session } from './Session.js';
import type { SessionRouter } from './SessionRouter.js';
import { WriteBatch } from './WriteBatch.js';

export interface SignalingOptions {
  tokens: TokenService;
  router: SessionRouter;
  limits: RelayLimits;
  clock: Clock;
  iceServers: IceServer[];
  /** When set, only these Origin headers may open a socket. */
  allowedOrigins?: string[];
}

/** What a handler answers: a result, and work to do once the result is sent. */
type Handled = { result: unknown; after?: () => void };

const MAX_MALFORMED = 20;
/** Methods that wait on a token check; the others are handled synchronously. */
const ASYNC_METHODS = new Set<string>([ClientMethods.connect, ClientMethods.reauthenticate]);
const EMPTY_RESULT: Handled = { result: {} };
/** Close code reported for a socket lost without a close frame. */
const ABNORMAL_CLOSURE = 1006;
const AUTH_CLOSE: Record<string, number> = {
  [ErrorCodes.tokenExpired]: CloseCodes.tokenExpired,
  [ErrorCodes.tokenRevoked]: CloseCodes.tokenRevoked,
  [ErrorCodes.authFailed]: CloseCodes.authFailed,
  [ErrorCodes.limitExceeded]: CloseCodes.sessionLimit,
};

/** The signaling WebSocket endpoint: authentication, sessions and their lifecycle. */
export class SignalingServer {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly calls: CallManager;
  private readonly batch = new WriteBatch();
  private unauthenticated = 0;
  private heartbeat: unknown;

  constructor(private readonly options: SignalingOptions) {
    const { limits } = options;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
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
    const { allowedOrigins } = this.options;
    if (allowedOrigins && !allowedOrigins.includes(req.headers.origin ?? '')) {
      rejectUpgrade(socket, 403, 'This origin may not connect to the Relay.');
      return;
    }
    if (this.unauthenticated >= this.options.limits.maxUnauthenticatedSockets) {
      rejectUpgrade(socket, 503, 'Too many connections are authenticating. Retry with backoff.');
      return;
    }
    // Counted once accepted: ws answers a malformed handshake itself and never calls back.
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket));
  }

  /** Closes the sessions of a revoked token family. */
  revokeFamily(familyId: string): void {
    for (const session of this.options.router.ofFamily(familyId)) {
      this.terminate(session, CloseCodes.tokenRevoked, 'token revoked');
    }
  }

  /**
   * Closes every socket with 1001 and ends every session. Resolves when the
   * sockets are closed, or after `graceMs`, when the rest are cut off.
   */
  async close(graceMs = 2_000): Promise<void> {
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

  private accept(ws: WebSocket, socket: Duplex): void {
    const { clock, limits } = this.options;
    const connection = new Connection(ws, socket, this.batch, clock, limits, (slow) =>
      this.closeConnection(slow, CloseCodes.slowConsumer, 'too many unread messages'),
    );
    this.unauthenticated += 1;
    this.connections.add(connection);
    connection.authTimer = clock.setTimeout(
      () => connection.close(CloseCodes.authTimeout, 'authentication timeout'),
      limits.authTimeoutMs,
    );
    ws.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
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
    const allowed = connection.take();
    const parsed = parseRequest(data);
    if (!allowed) {
      connection.strikes += 1;
      if (connection.strikes > this.options.limits.messageBurst) {
        this.closeConnection(connection, CloseCodes.rateLimited, 'message rate limit exceeded');
        return;
      }
      // The request is not handled, but its id is answered so the caller's promise settles.
      if (parsed.id !== undefined) {
        connection.replyError(
          parsed.id,
          new RelayRpcError(
            RpcErrorCodes.rateLimited,
            ErrorCodes.rateLimited,
            `More than ${this.options.limits.messagesPerSecond} messages per second. Slow down.`,
          ),
        );
      }
      return;
    }
    connection.strikes = 0;
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
    if (session && connection.idle && !ASYNC_METHODS.has(method)) {
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
    return this.dispatchSync(session, method, params);
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
        const result = this.calls.invite(session, p.resource('to'), p.json('metadata'));
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
    let session = sessionId ? router.get(sessionId) : undefined;
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
      session = new Session({
        id: randomUUID(),
        projectId: project,
        resource: verified.resource,
        scopes: verified.scopes,
        familyId: verified.familyId,
        expiresAt: verified.expiresAt,
        maxBuffered: this.options.limits.resumeBufferMessages,
      });
      router.add(session);
    }
    this.applyToken(session, verified);
    clock.clearTimeout(connection.authTimer);
    connection.authTimer = undefined;
    connection.authenticated = true;
    this.unauthenticated -= 1;
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
      iceServers: this.options.iceServers,
    };
    const after = resumed
      ? () => {
          attached.replayAfter(lastSeq);
          this.calls.resumed(attached);
        }
      : undefined;
    return { result, after };
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
    };
  }

  private applyToken(session: Session, verified: VerifiedToken): void {
    const { clock, router } = this.options;
    session.scopes = verified.scopes;
    session.expiresAt = verified.expiresAt;
    if (session.familyId !== verified.familyId) router.changeFamily(session, verified.familyId);
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

  private onClose(connection: Connection, code: number): void {
    connection.closed = true;
    this.connections.delete(connection);
    this.options.clock.clearTimeout(connection.authTimer);
    this.options.clock.clearTimeout(connection.closeTimer);
    if (!connection.authenticated) this.unauthenticated -= 1;
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

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({
    error: { code: status === 403 ? ErrorCodes.forbidden : ErrorCodes.unavailableService, message },
  });
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Service Unavailable'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
