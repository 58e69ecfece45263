import { newId } from '../crypto.js';
import {
  CloseCodes,
  ErrorCodes,
  PROTOCOL_VERSION,
  RelayRpcError,
  RpcErrorCodes,
  type ConnectResult,
  type IceServer,
  type ReauthenticateResult,
  type RelayLimits,
  type Scope,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Cluster } from '../cluster/Cluster.js';
import { RemoteSession } from '../cluster/RemoteSession.js';
import type { TokenService, VerifiedToken } from '../TokenService.js';
import { mintTurnServer, type TurnOptions } from '../turnCredentials.js';
import { internalError, type Connection } from './Connection.js';
import { ExpiryQueue } from './ExpiryQueue.js';
import { readParams } from './parseRequest.js';
import { Session, type SessionBuffer } from './Session.js';
import type { SessionRouter } from './SessionRouter.js';
import type { Telemetry } from '../Telemetry.js';

/** What the engines (calls, rooms) hear of their legs' sessions. */
export interface LegEvents {
  /** The session's socket dropped; it may resume within the grace period. */
  detached(session: Session): void;
  /** The session resumed on a new socket. */
  resumed(session: Session): void;
  /** The session is gone for good. */
  ended(session: Session): void;
}

export interface LifecycleOptions {
  tokens: TokenService;
  router: SessionRouter;
  limits: RelayLimits;
  clock: Clock;
  iceServers: IceServer[];
  /** A TURN server whose credentials are minted per session and added to `iceServers`. */
  turn?: TurnOptions;
  /** Other Relay nodes, through Redis: calls and rooms between sessions on different nodes. */
  cluster?: Cluster;
  /** Where sessions opening and closing are logged and counted. */
  telemetry: Telemetry;
}

/** A connect's answer, and what to do once it is sent. */
export interface Attached {
  result: ConnectResult | null;
  after?: () => void;
}

/** Most distinct scope lists kept to be shared (a project has a few: one per kind of user). */
const MAX_SHARED_SCOPES = 256;
const sharedScopes = new Map<string, Scope[]>();

/**
 * One array per distinct list of scopes, shared by the sessions that have it (frozen: nothing
 * changes a session's scopes but a new token), instead of an array of strings per session.
 */
function shared(scopes: Scope[]): Scope[] {
  const key = scopes.join(' ');
  const known = sharedScopes.get(key);
  if (known) return known;
  if (sharedScopes.size >= MAX_SHARED_SCOPES) return scopes;
  const frozen = Object.freeze([...scopes]) as Scope[];
  sharedScopes.set(key, frozen);
  return frozen;
}

/** Close code reported for a socket lost without a close frame. */
const ABNORMAL_CLOSURE = 1006;

/**
 * The one place sessions are created, attached to a socket, detached, resumed (here or from
 * another node), handed over and ended, and where the engines hear of it.
 */
export class SessionLifecycle {
  /** Shutting down: sessions end here, but stay resumable on other nodes. */
  closing = false;
  /** Closes each session when its JWT expires: one timer for all of them. */
  private readonly expiries: ExpiryQueue<Session>;

  constructor(
    private readonly options: LifecycleOptions,
    private readonly engines: LegEvents[],
    /** What this node holds of a session's calls and rooms (they stay when it moves away). */
    private readonly held: {
      call(callId: string): boolean;
      rooms(session: Session): { roomId: string; participantId: string }[];
    },
  ) {
    this.expiries = new ExpiryQueue(options.clock, (session) =>
      this.terminate(session, CloseCodes.tokenExpired, 'token expired'),
    );
  }

  /** `relay.connect` on a socket: verifies the token, then resumes or creates the session. */
  async connect(connection: Connection, params: unknown): Promise<Attached> {
    if (connection.session) {
      throw new RelayRpcError(
        RpcErrorCodes.invalidState,
        ErrorCodes.invalidState,
        'This socket is already connected. Use relay.reauthenticate to present a fresher token.',
      );
    }
    // Checked before the params: a connected socket is told so whatever it sent.
    const p = readParams('relay.connect', params, this.options.limits);
    const project = p.string('project');
    const token = p.string('token');
    const sessionId = p.optionalString('sessionId');
    const lastSeq = p.optionalSeq('lastSeq') ?? 0;
    // Clients name the version they speak; old ones name none and get version 1, unchanged.
    const protocol = Math.max(1, Math.min(p.optionalSeq('protocol') ?? 1, PROTOCOL_VERSION));
    const verified = await this.options.tokens.verify(project, token);
    if (connection.closed) return { result: null };
    const { router, clock, cluster } = this.options;
    let session = sessionId ? this.local(sessionId) : undefined;
    if (!session && sessionId && cluster) {
      session = await this.adopt(cluster, sessionId, project, verified, lastSeq);
      if (session) this.options.telemetry.sessionOpened(session, connection.address, true);
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
      this.checkLimits(project, verified.resource);
      session = this.create(newId(), project, verified);
      router.add(session);
      cluster?.track(session);
      this.options.telemetry.sessionOpened(session, connection.address);
    }
    this.applyToken(session, verified);
    connection.session = session;
    session.link = connection;
    const attached = session;
    const result: ConnectResult = {
      protocol,
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
          for (const engine of this.engines) engine.resumed(attached);
          cluster?.legEvent(attached, 'resumed');
        }
      : undefined;
    return { result, after };
  }

  /** `relay.reauthenticate`: a fresher token for the same resource. */
  async reauthenticate(session: Session, token: string): Promise<ReauthenticateResult> {
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

  /** A session this node holds (the router also finds other nodes' legs of its calls). */
  local(sessionId: string): Session | undefined {
    const session = this.options.router.get(sessionId);
    return session instanceof RemoteSession ? undefined : session;
  }

  /** The session's socket closed with `code`: a socket lost without a close frame may come back. */
  socketClosed(connection: Connection, code: number): void {
    const session = connection.session;
    if (!session) return;
    connection.session = null;
    if (session.link !== connection) return;
    session.link = null;
    // Only a socket lost without a close frame (1006) may come back; a client that
    // closed on purpose, or a protocol violation ws closed for (1009, 1007), ends the session.
    if (code === ABNORMAL_CLOSURE && !connection.violated) this.detach(session);
    else {
      const reason = connection.violated ? 'protocol violation' : 'closed by the client';
      this.terminate(session, code, reason);
    }
  }

  /** Ends a session for good, closing its socket with `code` when one is attached. */
  terminate(session: Session, code?: number, reason = ''): void {
    if (session.ended) return;
    const { clock, cluster } = this.options;
    this.expiries.cancel(session);
    clock.clearTimeout(session.graceTimer);
    // A node shutting down leaves its sessions' records, so their clients resume them on another
    // node, and tells no other node they ended: to them, this node is gone, as if it had died.
    if (!this.closing) {
      cluster?.legEvent(session, 'ended');
      cluster?.untrack(session);
    }
    for (const engine of this.engines) engine.ended(session);
    this.release(session, code ?? CloseCodes.normal, reason);
  }

  /** The session is no longer this node's: it leaves the router and its socket is closed. */
  private release(session: Session, code: number, reason: string): void {
    session.ended = true;
    this.options.telemetry.sessionClosed(session, code, reason);
    this.options.router.remove(session);
    const link = session.link as Connection | null;
    session.link = null;
    if (link) {
      link.session = null;
      link.close(code, reason);
    }
  }

  /** Closes the sessions of a revoked token family held by this node. */
  closeFamily(familyId: string): void {
    for (const session of this.options.router.ofFamily(familyId)) {
      this.terminate(session, CloseCodes.tokenRevoked, 'token revoked');
    }
  }

  /** Another node resumes one of this node's sessions: let go of it, keep its calls. */
  handOver(sessionId: string, node: string) {
    const { cluster, clock } = this.options;
    const session = this.local(sessionId);
    if (!session || session.ended || !cluster) return undefined;
    const calls = [...session.calls];
    const owned = calls.filter((callId) => this.held.call(callId));
    const ownedRooms = this.held.rooms(session);
    const rooms = [
      ...ownedRooms.map((room) => ({ ...room, owner: cluster.nodeId })),
      ...cluster.rooms.handedOver(session),
    ];
    const foreign = calls.flatMap((callId) => {
      const owner = cluster.ownerOf(callId);
      return owner ? [{ callId, owner }] : [];
    });
    clock.clearTimeout(session.graceTimer);
    this.expiries.cancel(session);
    // Not terminate(): the session and its calls go on, on the other node.
    cluster.handedOver(
      session,
      node,
      owned,
      ownedRooms.map((room) => room.roomId),
    );
    this.release(session, CloseCodes.sessionTakenOver, 'session resumed on another node');
    return { owned, foreign, rooms };
  }

  private detach(session: Session): void {
    for (const engine of this.engines) engine.detached(session);
    this.options.cluster?.legEvent(session, 'detached');
    session.graceTimer = this.options.clock.setTimeout(
      () => this.terminate(session, ABNORMAL_CLOSURE, 'not resumed in time'),
      this.options.limits.resumeGraceMs,
    );
  }

  private create(
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
    if (!adopted || this.local(sessionId)) return undefined;
    const session = this.create(sessionId, project, verified, adopted.record.buffer);
    for (const { callId } of adopted.calls) session.calls.add(callId);
    cluster.rooms.adopted(session, adopted.rooms ?? []);
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

  /** The configured ICE servers, plus TURN credentials valid until the session's JWT expires. */
  private iceServersOf(session: Session): IceServer[] {
    const { iceServers, turn } = this.options;
    if (!turn) return iceServers;
    return [...iceServers, mintTurnServer(turn, session.resource, session.expiresAt)];
  }

  private applyToken(session: Session, verified: VerifiedToken): void {
    const { router } = this.options;
    session.scopes = shared(verified.scopes);
    session.expiresAt = verified.expiresAt;
    if (session.familyId !== verified.familyId) router.changeFamily(session, verified.familyId);
    this.options.cluster?.retrack(session);
    this.expiries.schedule(session);
  }

  private checkLimits(projectId: string, resource: string): void {
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
}
