import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  CloseCodes,
  ErrorCodes,
  RelayRpcError,
  RpcErrorCodes,
  closeCodeOf,
  toRpcError,
} from '../../protocol/index.js';
import { LocalLegDirectory } from '../rooms/Leg.js';
import { RoomEngine } from '../rooms/RoomEngine.js';
import { InCallMessages } from './InCallMessages.js';
import { RoomManager } from '../rooms/RoomManager.js';
import { CallManager } from './CallManager.js';
import { GatewayCalls } from '../sip/GatewayCalls.js';
import type { SipGateway } from '../sip/SipGateway.js';
import type { ResolvedTrunk } from '../sip/SipOptions.js';
import { ClusterRouting } from './clusterRouting.js';
import { clientAddress } from '../http/clientAddress.js';
import { guardSocket, rejectUpgrade } from '../http/rawSocket.js';
import { Connection, type ConnectionContext, type RequestId } from './Connection.js';
import { handle, type Engines, type Handled } from './handlers.js';
import { parseRequest, readParams } from './parseRequest.js';
import type { Session } from './Session.js';
import { SessionLifecycle, type LegEvents, type LifecycleOptions } from './SessionLifecycle.js';
import { WriteBatch } from './WriteBatch.js';
import { socketClass } from './socketClass.js';
import type { SfuMedia } from '../rooms/SfuMedia.js';
import { Assists, type AssistRecord } from '../supervision/Assists.js';
import { CallBoard } from '../supervision/CallBoard.js';
import { roomsOnBoard } from '../supervision/roomsOnBoard.js';

export interface SignalingOptions extends LifecycleOptions {
  /** When set, only these Origin headers may open a socket. */
  allowedOrigins?: string[];
  /** Take client addresses from X-Forwarded-For (behind a trusted proxy only). */
  trustProxy?: boolean;
  /** The SFU carrying `sfu` rooms (a Relay started with a Janus); none: mesh rooms only. */
  sfu?: SfuMedia;
  /** The SIP gateway and the projects' trunks; none: calls between browsers only. */
  sip?: { gateway: SipGateway; trunks: Map<string, ResolvedTrunk> };
  /** Told of every mode a supervisor takes in a call (an audit log). */
  onAssist?: (record: AssistRecord) => void;
}

const MAX_MALFORMED = 20;
/** Methods that wait on a token check; the others are handled synchronously. */
const ASYNC_METHODS = new Set<string>([
  'relay.connect',
  'relay.reauthenticate',
  'call.transfer',
  'calls.list',
  'calls.watch',
]);

/**
 * The signaling WebSocket endpoint, as a socket layer: upgrades, rate limits, framing and
 * dispatch. Sessions live in {@link SessionLifecycle}; methods in the handler table.
 */
export class SignalingServer {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly calls: CallManager;
  private readonly gateway: GatewayCalls;
  private readonly engines: Engines;
  /** The project's ongoing calls, for supervisors. */
  readonly board: CallBoard;
  private readonly legs: LegEvents;
  private readonly lifecycle: SessionLifecycle;
  private readonly routing: ClusterRouting | undefined;
  private readonly context: ConnectionContext;
  private unauthenticated = 0;
  /** Unauthenticated sockets per client address (only addresses with one or more). */
  private readonly unauthenticatedByAddress = new Map<string, number>();
  private heartbeat: unknown;

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
      WebSocket: socketClass({
        message: (connection, data, isBinary) => this.onMessage(connection, data, isBinary),
        ping: (connection, data) => this.onPing(connection, data),
        close: (connection, code) => this.onClose(connection, code),
        error: (connection, error) =>
          options.telemetry.socketError(connection.address, connection.session?.id ?? null, error),
      }),
    });
    this.context = {
      batch: new WriteBatch(),
      clock: options.clock,
      limits,
      metrics: options.telemetry.metrics,
      slowConsumer: (slow) =>
        this.closeConnection(slow, CloseCodes.slowConsumer, 'too many unread messages'),
      closing: (connection) => this.releaseSlot(connection),
      rateLimitedError: JSON.stringify({
        code: RpcErrorCodes.rateLimited,
        message: `More than ${limits.messagesPerSecond} messages per second. Slow down.`,
        data: { code: ErrorCodes.rateLimited },
      }),
    };
    // Deferred: an overflow is found in the middle of routing another message.
    const overflowed = (session: Session) =>
      queueMicrotask(() =>
        this.lifecycle.terminate(session, CloseCodes.resumeOverflow, 'resume buffer overflow'),
      );
    const legs = new LocalLegDirectory(options.router);
    // One membership engine: calls are rooms of two, held and moved with the rooms.
    const engine = new RoomEngine(legs, limits, options.clock, (leg) => overflowed(leg as Session));
    this.calls = new CallManager(engine, options.router, limits, options.telemetry);
    // Its overflow callback is unused: the shared engine's notifier reports overflows.
    const rooms = new RoomManager(
      legs,
      limits,
      options.clock,
      () => undefined,
      engine,
      options.sfu,
    );
    this.gateway = new GatewayCalls(
      options.sip?.gateway,
      options.sip?.trunks ?? new Map<string, ResolvedTrunk>(),
      options.router,
      limits,
      options.clock,
      options.telemetry,
      (session, event, params) => engine.tell.send(session, event, params),
      options.onAssist,
    );
    this.board = new CallBoard(limits.maxListedCalls, (leg, params) =>
      engine.tell.send(leg, 'calls.updated', params),
    );
    this.board.addSource(roomsOnBoard(engine.registry));
    this.board.addSource(this.gateway);
    engine.onChange = (id) => this.board.changed(id);
    engine.onClosed = (room, reason) => {
      if (room.kind === 'call') options.telemetry.callEnded(room.id, room.projectId, reason);
    };
    this.gateway.onChange = (id) => this.board.changed(id);
    this.engines = {
      calls: this.calls,
      gateway: this.gateway,
      rooms,
      board: this.board,
      assists: new Assists(engine, limits, options.onAssist),
      messages: new InCallMessages(engine),
      clock: options.clock,
    };
    this.legs = engine;
    // Watchers follow the project's calls, not their own socket: only their end matters.
    const watchers: LegEvents = {
      detached: () => undefined,
      resumed: () => undefined,
      ended: (session) => this.board.unwatch(session.id),
    };
    this.lifecycle = new SessionLifecycle(options, [this.legs, this.gateway, watchers], {
      call: (callId) => this.calls.owns(callId) || this.gateway.owns(callId),
      rooms: (session) =>
        rooms.roomsOf(session).map(({ roomId, participantId }) => ({ roomId, participantId })),
    });
    const { cluster } = options;
    // A room ended here: the next node a participant joins through may hold that name.
    if (cluster)
      rooms.onRoomGone = (projectId, name) => cluster.rooms.owners.release(projectId, name);
    this.routing =
      options.cluster &&
      new ClusterRouting(options.cluster, this.engines, this.lifecycle, limits, legs);
    this.scheduleHeartbeat();
  }

  stats() {
    return {
      sockets: this.connections.size,
      unauthenticated: this.unauthenticated,
      sessions: this.options.router.size,
      calls: this.calls.size + this.gateway.size,
      rooms: this.engines.rooms.size,
      ...(this.options.sfu
        ? { sfu: { available: this.options.sfu.available, rooms: this.options.sfu.size } }
        : {}),
      ...(this.options.sip ? { sip: this.gateway.stats() } : {}),
    };
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node took its error listener off the socket when it emitted 'upgrade': a reset from the
    // client must not become an unhandled 'error' that ends the process.
    guardSocket(socket);
    const { allowedOrigins, limits, telemetry } = this.options;
    const address = clientAddress(req, this.options.trustProxy ?? false);
    const refuse = (status: 403 | 429 | 503, message: string, reason: string) => {
      rejectUpgrade(socket, status, message);
      telemetry.upgradeRefused(status, address, reason);
    };
    if (allowedOrigins && !allowedOrigins.includes(req.headers.origin ?? '')) {
      refuse(
        403,
        'This origin may not connect to the Relay.',
        `origin ${req.headers.origin ?? 'none'}`,
      );
      return;
    }
    if ((this.unauthenticatedByAddress.get(address) ?? 0) >= limits.maxUnauthenticatedPerAddress) {
      refuse(
        429,
        'Too many connections from this address are authenticating. Retry with backoff.',
        'maxUnauthenticatedPerAddress',
      );
      return;
    }
    if (this.unauthenticated >= limits.maxUnauthenticatedSockets) {
      refuse(
        503,
        'Too many connections are authenticating. Retry with backoff.',
        'maxUnauthenticatedSockets',
      );
      return;
    }
    // Counted once accepted: ws answers a malformed handshake itself and never calls back.
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, address));
  }

  /** Closes the sessions of a revoked token family, on every node. */
  revokeFamily(familyId: string): void {
    this.lifecycle.closeFamily(familyId);
    this.options.cluster?.revokeElsewhere(familyId).catch(this.options.telemetry.clusterFailed);
  }

  /** Joins the other nodes: they may now ring this node's sessions and route to them. */
  startCluster(): Promise<void> {
    return this.routing?.start(this.legs) ?? Promise.resolve();
  }

  /**
   * Closes every socket with 1001 and ends every session. Resolves when the
   * sockets are closed, or after `graceMs`, when the rest are cut off.
   */
  async close(graceMs = 2_000): Promise<void> {
    this.lifecycle.closing = true;
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
    for (const session of sessions) {
      this.lifecycle.terminate(session, CloseCodes.goingAway, 'server shutting down');
    }
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
    // Its events go to this connection from now on (see socketClass).
    (ws as unknown as { connection: Connection }).connection = connection;
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    this.context.metrics.messagesReceived += 1;
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
      this.options.telemetry.rateLimited();
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
      this.options.telemetry.refused(
        null,
        parsed.error,
        connection.session?.id ?? null,
        connection.address,
      );
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
      !this.routing?.crossesNodes(method, params)
    ) {
      this.handle(connection, id, method, () =>
        handle(this.engines, session, method, readParams(method, params, this.options.limits)),
      );
      return;
    }
    connection.enqueue(async () => {
      if (connection.closed) return;
      try {
        const handled = await this.dispatch(connection, method, params);
        // call.transfer answers once the far end took the REFER.
        const result: unknown = await handled.result;
        if (id !== undefined) connection.reply(id, result);
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
    const rpcError = toRpcError(error);
    if (id !== undefined) connection.replyError(id, rpcError);
    const { session, address } = connection;
    this.options.telemetry.refused(method, rpcError, session?.id ?? null, address, error);
    if (method === 'relay.connect' && !connection.session) {
      this.closeConnection(connection, closeCodeOf(rpcError.code), rpcError.message);
    }
  }

  private async dispatch(
    connection: Connection,
    method: string,
    params: unknown,
  ): Promise<Handled> {
    const { limits } = this.options;
    if (method === 'relay.connect') {
      const attached = await this.lifecycle.connect(connection, params);
      if (attached.result) {
        this.options.clock.clearTimeout(connection.authTimer);
        connection.authTimer = undefined;
        this.releaseSlot(connection);
      }
      return attached;
    }
    const session = connection.session;
    if (!session) {
      throw new RelayRpcError(
        RpcErrorCodes.notAuthenticated,
        ErrorCodes.notAuthenticated,
        'Send relay.connect with a project id and a JWT first.',
      );
    }
    if (method === 'relay.reauthenticate') {
      const p = readParams(method, params, limits);
      return { result: await this.lifecycle.reauthenticate(session, p.string('token')) };
    }
    const routed = await this.routing?.route(session, method, params);
    return routed ?? handle(this.engines, session, method, readParams(method, params, limits));
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
    this.lifecycle.socketClosed(connection, code);
  }

  /** Closes a socket for a violation; its session ends with it. */
  private closeConnection(connection: Connection, code: number, reason: string): void {
    if (connection.session) this.lifecycle.terminate(connection.session, code, reason);
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
