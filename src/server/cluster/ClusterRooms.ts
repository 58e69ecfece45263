import type { Redis } from 'ioredis';
import { ErrorCodes, ServerEvents, type RoomJoinResult, type Scope } from '../../protocol/index.js';
import { can } from '../signaling/authorize.js';
import type { Session } from '../signaling/Session.js';
import type { ClusterHost } from './ClusterHost.js';
import { ForeignRooms } from './ForeignRooms.js';
import type { BusMessage, NodeBus } from './NodeBus.js';
import type { Presence } from './Presence.js';
import type { RemoteSession } from './RemoteSession.js';
import type { RemoteSessions } from './RemoteSessions.js';
import { RoomOwners } from './RoomOwners.js';

/** A room of a session this node holds, as handed over to another node. */
/** A session of another node that a room invitation may ring. */
export interface RoomReceiver {
  sessionId: string;
  node: string;
  resource: string;
  scopes: Scope[];
}

export interface HandedRoom {
  roomId: string;
  owner: string;
  participantId: string;
}

/**
 * Rooms across nodes: a room lives on one node (recorded in Redis by name), which runs it with
 * the one room engine; a session of another node is a participant through a proxy there, like
 * a remote leg of a call. Its requests travel to the room's node, and what the room tells it
 * travels back to its own node, which numbers it in the session and keeps it for a resume.
 */
export class ClusterRooms {
  readonly owners: RoomOwners;
  private readonly foreign = new ForeignRooms();

  constructor(
    private readonly bus: NodeBus,
    private readonly proxies: RemoteSessions,
    pub: Redis,
    prefix: string,
    readonly nodeId: string,
    private readonly presence: Presence,
    private readonly timeoutMs: number,
    failed: (error: unknown) => void,
  ) {
    this.owners = new RoomOwners(pub, prefix, nodeId, (node) => presence.alive(node), failed);
  }

  /** Sessions of `resource` on other nodes that an invitation may ring (with `rooms:join`). */
  async receiversOf(projectId: string, resource: string): Promise<RoomReceiver[]> {
    const present = await this.presence.othersOf(projectId, resource);
    return present
      .filter((p) => can(p.scopes, 'joinRooms'))
      .map(({ sessionId, node, scopes }) => ({ sessionId, node, resource, scopes }));
  }

  /** The proxies through which this node's rooms reach those sessions. */
  proxiesOf(projectId: string, receivers: readonly RoomReceiver[]): RemoteSession[] {
    return receivers.map((r) =>
      this.proxies.of(r.sessionId, r.node, projectId, r.resource, r.scopes),
    );
  }

  /** The node holding a room one of this node's sessions is in, when it is another node. */
  ownerOf(roomId: string): string | undefined {
    return this.foreign.ownerOf(roomId);
  }

  /** Sends a room request of a local session to the node holding the room. */
  forward(
    session: Session,
    owner: string,
    method: string,
    params: Record<string, unknown>,
    receivers?: RoomReceiver[],
  ): Promise<unknown> {
    const message = {
      ...(receivers ? { receivers } : {}),
      type: 'room',
      sessionId: session.id,
      projectId: session.projectId,
      resource: session.resource,
      scopes: session.scopes,
      method,
      params,
    };
    return new Promise((resolve, reject) => {
      this.bus.request(owner, message, this.timeoutMs, (error, result) => {
        if (!error && method === 'room.join') {
          this.joined(session, owner, result as RoomJoinResult);
        } else if (
          (!error && (method === 'room.leave' || method === 'room.decline')) ||
          error?.code === ErrorCodes.roomNotFound
        ) {
          this.left(session, String(params.roomId));
        }
        if (error) reject(error);
        else resolve(result);
      });
    });
  }

  /** A local session joined a room of `owner` (as a supervisor, through `call.assist`). */
  joined(session: Session, owner: string, joined: RoomJoinResult): void {
    this.foreign.add(joined.roomId, owner, session.id, joined.participantId);
    session.rooms.add(joined.roomId);
  }

  /** On the room's node: a room request of a session of another node, through its proxy. */
  receive(host: ClusterHost, from: string, message: BusMessage): unknown {
    const projectId = String(message.projectId);
    const receivers = Array.isArray(message.receivers)
      ? this.proxiesOf(projectId, message.receivers as RoomReceiver[])
      : [];
    const scopes = message.scopes as Scope[];
    const proxy = this.proxies.of(
      String(message.sessionId),
      from,
      projectId,
      String(message.resource),
      scopes,
    );
    // Its node checked the token; a re-authentication may have changed the scopes since.
    proxy.scopes = scopes;
    const handled = host.includingLegs(receivers, () =>
      host.callRequest(proxy, String(message.method), message.params as Record<string, unknown>),
    );
    if (handled.after) queueMicrotask(handled.after);
    return handled.result;
  }

  /** A room of another node told one of this node's sessions something: it may be out of it. */
  notified(session: Session, owner: string, method: string, params: Record<string, unknown>): void {
    const roomId = String(params.roomId);
    if (method === ServerEvents.roomInvited) {
      // Rung into a room of another node: its decline goes there. Not a participant yet.
      if (!session.rooms.has(roomId)) this.foreign.add(roomId, owner, session.id, '');
      return;
    }
    if (this.foreign.ownerOf(roomId) === undefined) return;
    const invitedOnly = this.foreign.participantOf(roomId, session.id) === '';
    const participant = params.participant as { id?: unknown } | undefined;
    if (
      method === ServerEvents.roomEnded ||
      // What ends an invitation: another device answered, declined, unanswered, removed.
      (invitedOnly && (method === ServerEvents.roomLeft || method === ServerEvents.roomJoined)) ||
      (method === ServerEvents.roomLeft &&
        participant?.id === this.foreign.participantOf(roomId, session.id))
    ) {
      this.left(session, roomId);
    }
  }

  /** The nodes holding the foreign rooms of a session. */
  ownersOf(session: Session): Set<string> {
    const owners = new Set<string>();
    for (const roomId of session.rooms) {
      const owner = this.foreign.ownerOf(roomId);
      if (owner) owners.add(owner);
    }
    return owners;
  }

  /** A session left this node (ended or handed over): it is in none of these rooms here. */
  sessionGone(session: Session): void {
    for (const roomId of session.rooms) this.foreign.forget(roomId, session.id);
  }

  /** The foreign rooms of a session about to be handed over, for its next node. */
  handedOver(session: Session): HandedRoom[] {
    return [...session.rooms].flatMap((roomId) => {
      const owner = this.foreign.ownerOf(roomId);
      const participantId = this.foreign.participantOf(roomId, session.id);
      return owner && participantId ? [{ roomId, owner, participantId }] : [];
    });
  }

  /** On the node resuming a session: its rooms held by other nodes (this node's are its own). */
  adopted(session: Session, rooms: HandedRoom[]): void {
    for (const room of rooms) {
      session.rooms.add(room.roomId);
      if (room.owner === this.nodeId) continue;
      this.foreign.add(room.roomId, room.owner, session.id, room.participantId);
    }
  }

  /** The nodes holding rooms of this node's sessions, to check for dead ones. */
  foreignOwners(): Set<string> {
    return this.foreign.owners();
  }

  /**
   * A node holding rooms died: their participants here learn the room ended (`disconnected`)
   * and join it again by name, on whichever node takes it over.
   */
  ownerDied(owner: string, host: ClusterHost): void {
    for (const { roomId, sessions } of this.foreign.dropOwner(owner)) {
      for (const sessionId of sessions) {
        const session = host.session(sessionId);
        if (!session?.rooms.delete(roomId)) continue;
        session.notify(ServerEvents.roomEnded, { roomId, from: null, reason: 'disconnected' });
      }
    }
  }

  private left(session: Session, roomId: string): void {
    this.foreign.forget(roomId, session.id);
    session.rooms.delete(roomId);
  }
}
