import {
  ErrorCodes,
  METHODS,
  RelayRpcError,
  RpcErrorCodes,
  gatewayOf,
  isMethod,
  isPlainObject,
  type RelayLimits,
} from '../../protocol/index.js';
import type { Cluster } from '../cluster/Cluster.js';
import type { LocalLegDirectory } from '../rooms/Leg.js';
import { internalError } from './Connection.js';
import type { Engines, Handled } from './handlers.js';
import { handle } from './handlers.js';
import { readParams } from './parseRequest.js';
import type { Session } from './Session.js';
import type { LegEvents, SessionLifecycle } from './SessionLifecycle.js';
import { authorize } from './authorize.js';

/**
 * Requests that involve another node: a call lives on its caller's node (its owner), which
 * answers every request about it; an invite also rings the callee's sessions on other nodes.
 */
export class ClusterRouting {
  constructor(
    private readonly cluster: Cluster,
    private readonly engines: Engines,
    private readonly lifecycle: SessionLifecycle,
    private readonly limits: RelayLimits,
    /** Legs the room engine reaches, with those of other nodes found for one request. */
    private readonly legs: LocalLegDirectory,
  ) {}

  /** Joins the other nodes: they may now ring this node's sessions and route to them. */
  start(legs: LegEvents): Promise<void> {
    const { cluster, lifecycle, limits } = this;
    const { board } = this.engines;
    board.share(cluster.calls);
    const listening = cluster.calls.listen((projectId, record, ended, before) =>
      board.remote(projectId, record, ended, before),
    );
    return listening.then(() =>
      cluster.start({
        session: (id) => lifecycle.local(id),
        callRequest: (session, method, params) => {
          const routing = isMethod(method) ? METHODS[method].routing : undefined;
          if (routing !== 'call' && routing !== 'room') throw internalError();
          return handle(this.engines, session, method, readParams(method, params, limits));
        },
        legEvent: (session, event) => {
          if (event === 'detached') legs.detached(session);
          else if (event === 'resumed') legs.resumed(session);
          else legs.ended(session);
        },
        includingLegs: (found, run) => this.legs.including(found, run),
        revokeFamily: (familyId) => lifecycle.closeFamily(familyId),
        handOver: (sessionId, node) => lifecycle.handOver(sessionId, node),
        maxCallsPerSession: limits.maxCallsPerSession,
        resumeGraceMs: limits.resumeGraceMs,
      }),
    );
  }

  /** Whether a request involves another node (and so cannot be answered at once). */
  crossesNodes(method: string, params: unknown): boolean {
    return (
      method === 'call.invite' ||
      method === 'room.join' ||
      method === 'room.invite' ||
      method === 'call.assist' ||
      this.cluster.ownerOf(idOf(params, 'callId') ?? '') !== undefined ||
      this.cluster.rooms.ownerOf(idOf(params, 'roomId') ?? '') !== undefined
    );
  }

  /**
   * Answers a request that {@link crossesNodes}, or undefined when this node answers it itself.
   * Every room request is routed from here, the invitation included.
   */
  async route(session: Session, method: string, params: unknown): Promise<Handled | undefined> {
    if (method === 'call.invite') return this.inviteAcross(session, params);
    if (method === 'room.join') return this.joinAcross(session, params);
    if (method === 'room.invite') return this.inviteToRoom(session, params);
    if (method === 'call.assist') return this.assistAcross(session, params);
    const roomOwner = this.cluster.rooms.ownerOf(idOf(params, 'roomId') ?? '');
    if (roomOwner && isMethod(method) && METHODS[method].routing === 'room') {
      const p = params as Record<string, unknown>;
      return { result: await this.cluster.rooms.forward(session, roomOwner, method, p) };
    }
    const owner = this.cluster.ownerOf(idOf(params, 'callId') ?? '');
    if (owner && isMethod(method) && METHODS[method].routing === 'call') {
      // The call lives on the caller's node: it answers for it.
      const result = await this.cluster.forward(
        session,
        owner,
        method,
        params as Record<string, unknown>,
      );
      return { result };
    }
    return undefined;
  }

  /**
   * A join of the room of that name wherever it lives: on this node when no other (alive) node
   * holds it, else through the node that does.
   */
  private async joinAcross(session: Session, params: unknown): Promise<Handled | undefined> {
    const p = readParams('room.join', params, this.limits);
    const name = p.roomName('name');
    authorize(session.scopes, 'joinRooms');
    const { rooms } = this.cluster;
    const owner = await rooms.owners.ownerOf(session.projectId, name);
    if (owner === rooms.nodeId) {
      try {
        return handle(
          this.engines,
          session,
          'room.join',
          readParams('room.join', params, this.limits),
        );
      } finally {
        // Claimed for a room that was not created after all (the join was refused).
        if (!this.engines.rooms.holdsName(session.projectId, name)) {
          rooms.owners.release(session.projectId, name);
        }
      }
    }
    const result = await rooms.forward(
      session,
      owner,
      'room.join',
      params as Record<string, unknown>,
    );
    return { result };
  }

  /**
   * A room invitation that also rings the invitee's sessions on other nodes: they are looked up
   * here, then handed to the room's node (this one or another) with the request.
   */
  private async inviteToRoom(session: Session, params: unknown): Promise<Handled> {
    const p = readParams('room.invite', params, this.limits);
    const roomId = p.string('roomId');
    const to = p.resource('to');
    authorize(session.scopes, 'dial');
    const { rooms } = this.cluster;
    // Without Redis, only this node's sessions are rung.
    const receivers = await rooms.receiversOf(session.projectId, to).catch((error: unknown) => {
      this.cluster.failed(error);
      return [];
    });
    const owner = rooms.ownerOf(roomId);
    if (owner) {
      const p2 = params as Record<string, unknown>;
      return { result: await rooms.forward(session, owner, 'room.invite', p2, receivers) };
    }
    return this.legs.including(rooms.proxiesOf(session.projectId, receivers), () =>
      handle(this.engines, session, 'room.invite', readParams('room.invite', params, this.limits)),
    );
  }

  /**
   * A supervisor's `call.assist` of a call or room wherever it lives: the node owning it is found
   * from the call records in Redis (or the calls the session is in already).
   */
  private async assistAcross(session: Session, params: unknown): Promise<Handled | undefined> {
    const callId = readParams('call.assist', params, this.limits).string('callId');
    const { assists, gateway } = this.engines;
    if (assists.owns(callId) || gateway.owns(callId)) return undefined;
    const owner =
      this.cluster.ownerOf(callId) ??
      this.cluster.rooms.ownerOf(callId) ??
      (await this.cluster.calls
        .ownerOf(session.projectId, callId)
        .catch((error: unknown) => void this.cluster.failed(error)));
    if (!owner) return undefined;
    const result = await this.cluster.assist(session, owner, params as Record<string, unknown>);
    return { result };
  }

  /** An invite that also rings the callee's sessions on other nodes. */
  private async inviteAcross(session: Session, params: unknown): Promise<Handled> {
    const { calls } = this.engines;
    const p = readParams('call.invite', params, this.limits);
    const to = p.resource('to');
    const metadata = p.metadata('metadata');
    // Numbers and SIP URIs go out through this node's gateway.
    if (gatewayOf(to)) return { result: this.engines.gateway.invite(session, to, metadata) };
    authorize(session.scopes, 'dial');
    const remote = await this.cluster.remoteReceivers(session.projectId, to);
    const result = calls.invite(session, to, metadata, remote);
    const { refused } = await this.cluster.ringsSettled(result.callId);
    let dropped = false;
    for (const { sessionId } of refused)
      dropped = calls.refuse(result.callId, sessionId) || dropped;
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
    return { result, after: () => calls.announceRinging(result.callId) };
  }
}

function idOf(params: unknown, name: 'callId' | 'roomId'): string | undefined {
  const id = isPlainObject(params) ? params[name] : undefined;
  return typeof id === 'string' ? id : undefined;
}
