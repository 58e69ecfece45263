import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  ClientMethods,
  DEFAULT_LIMITS,
  ErrorCodes,
  RelayRpcError,
  RpcErrorCodes,
  ServerEvents,
  type AssistResult,
  type Scope,
} from '../../protocol/index.js';
import { systemClock, type Clock } from '../clock.js';
import { can } from '../signaling/authorize.js';
import type { Session } from '../signaling/Session.js';
import { Backlogs, type BufferRoom } from './Backlogs.js';
import { CallRecords } from './CallRecords.js';
import { adoptSession } from './adoptSession.js';
import type { Adopted, ClusterHost } from './ClusterHost.js';
import { ClusterRooms } from './ClusterRooms.js';
import type { ClusterOptions } from './ClusterOptions.js';
import { DeadNodeSweep } from './DeadNodeSweep.js';
import { ForeignCalls } from './ForeignCalls.js';
import { NodeBus, type BusMessage } from './NodeBus.js';
import { LONG_TTL_MS, Presence } from './Presence.js';
import { RemoteRings, type RingOutcome } from './RemoteRings.js';
import type { RemoteSession } from './RemoteSession.js';
import { RemoteSessions } from './RemoteSessions.js';
import { SessionRecords } from './SessionRecords.js';

export type { Adopted, ClusterHost, HandedOver } from './ClusterHost.js';
export type { ClusterOptions } from './ClusterOptions.js';
export type { RingOutcome } from './RemoteRings.js';

/** Sessions whose late notifications a node passes on after handing them over (the latest). */
const MOVED_REMEMBERED = 1024;

/**
 * Several Relay nodes serving one deployment, through Redis: presence says which node
 * holds each session; a call lives on its caller's node (its owner), which rings sessions
 * on other nodes and forwards their signals through those nodes' channels; requests of a
 * remote leg travel to the owner and its answer back. Sessions stay on their node: their
 * sequence numbers, resume buffer and socket never leave it.
 */
export class Cluster {
  readonly nodeId: string;
  readonly presence: Presence;
  private records: SessionRecords | undefined;
  private readonly bus: NodeBus;
  private readonly rings: RemoteRings;
  private readonly pub: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  /** Sessions of other nodes in calls this node owns. */
  private readonly proxies: RemoteSessions;
  /** Calls of this node's sessions owned by other nodes. */
  private readonly foreign = new ForeignCalls();
  /** Sessions this node handed over, and the node holding them now (oldest first). */
  private readonly moved = new Map<string, string>();
  private readonly sweep: DeadNodeSweep;
  private readonly backlogs: Backlogs;
  /** Rooms across nodes. */
  readonly rooms: ClusterRooms;
  /** Every node's call records, for supervisors. */
  readonly calls: CallRecords;
  private host: ClusterHost | undefined;
  /** Told of a Redis command that failed in the background. */
  readonly failed: (error: unknown) => void;

  constructor(options: ClusterOptions) {
    const prefix = options.prefix ?? 'relaycall:';
    this.nodeId = options.nodeId ?? randomUUID();
    this.timeoutMs = options.requestTimeoutMs ?? 2_000;
    this.clock = options.clock ?? systemClock;
    const ttl = options.presenceTtlMs ?? 15_000;
    this.pub = options.pub;
    this.prefix = prefix;
    this.ttlMs = ttl;
    this.failed = options.onError ?? (() => undefined);
    this.bus = new NodeBus(options.pub, options.sub, this.nodeId, prefix, this.failed);
    this.rings = new RemoteRings(this.bus, this.timeoutMs);
    this.proxies = new RemoteSessions(this.bus, this.rings);
    const clock = this.clock;
    this.presence = new Presence(
      options.pub,
      this.nodeId,
      prefix,
      ttl,
      () => clock.now(),
      this.failed,
    );
    this.rooms = new ClusterRooms(
      this.bus,
      this.proxies,
      options.pub,
      prefix,
      this.nodeId,
      this.presence,
      this.timeoutMs,
      this.failed,
    );
    this.calls = new CallRecords(
      options.pub,
      options.sub,
      prefix,
      this.nodeId,
      this.presence,
      this.failed,
    );
    this.sweep = new DeadNodeSweep(
      clock,
      ttl / 3,
      this.presence,
      this.foreign,
      this.proxies,
      this.rooms,
      this.failed,
    );
    const limits = options.limits ?? DEFAULT_LIMITS;
    this.backlogs = new Backlogs(this.bus, (id) => this.host?.session(id), limits);
  }

  async start(host: ClusterHost): Promise<void> {
    this.host = host;
    const records = new SessionRecords(this.pub, this.prefix, LONG_TTL_MS, this.failed);
    this.records = records;
    await this.bus.start((from, message) => this.receive(from, message));
    await this.presence.start();
    // Writes made while Redis was unreachable were lost: once it is back, this node writes its
    // presence and every session's record and resume buffer again, so nothing stays missing.
    let lost = false;
    this.pub.on('close', () => (lost = true));
    this.pub.on('ready', () => {
      if (!lost) return;
      lost = false;
      void this.resync().catch(this.failed);
    });
    // Calls whose owner died: their legs here learn it (their media, peer to peer, goes on).
    this.sweep.start(host);
  }

  private async resync(): Promise<void> {
    await this.presence.rewrite();
    for (const id of this.presence.sessionIds()) {
      const session = this.host?.session(id);
      if (session) this.records?.save(session, this.nodeId, session.buffer());
    }
  }

  /** Records a session of this node in Redis, and journals its resume buffer there. */
  track(session: Session): void {
    if (!this.records) return;
    this.records.save(session, this.nodeId, session.buffer());
    session.journal = this.records.journal(session.id);
  }

  /** Records a session's new token (scopes, family, expiry). */
  retrack(session: Session): void {
    this.records?.save(session, this.nodeId);
  }

  /** The session ended for good: its record goes. */
  untrack(session: Session): void {
    session.journal = null;
    this.records?.remove(session.id, this.nodeId);
  }

  /**
   * A session this node does not hold, from its record: its node hands it over (or has
   * died, and its calls with it). Undefined when there is no such session to resume.
   */
  async adopt(
    sessionId: string,
    projectId: string,
    resource: string,
  ): Promise<Adopted | undefined> {
    const records = this.records;
    if (!records) return undefined;
    return adoptSession(
      {
        nodeId: this.nodeId,
        records,
        presence: this.presence,
        bus: this.bus,
        foreign: this.foreign,
        clock: this.clock,
        deadAfterMs: this.ttlMs + (this.host?.resumeGraceMs ?? 0),
        timeoutMs: this.timeoutMs,
      },
      sessionId,
      projectId,
      resource,
    );
  }

  /**
   * A session now held here was a leg of calls this node owns, through a proxy: the proxy
   * goes, and its calls become the session's own.
   */
  absorb(session: Session): void {
    const proxy = this.proxies.get(session.id);
    if (!proxy) return;
    for (const callId of proxy.calls) session.calls.add(callId);
    for (const roomId of proxy.rooms) session.rooms.add(roomId);
    this.proxies.delete(session.id);
  }

  /** After {@link ClusterHost.handOver}: this node's calls reach the session on `node`. */
  handedOver(session: Session, node: string, owned: string[], ownedRooms: string[] = []): void {
    session.journal = null;
    this.foreign.sessionGone(session.id, session.calls);
    this.rooms.sessionGone(session);
    // What the owners of its calls sent here before they learnt of the move follows it.
    this.moved.delete(session.id);
    this.moved.set(session.id, node);
    for (const oldest of this.moved.keys()) {
      if (this.moved.size <= MOVED_REMEMBERED) break;
      this.moved.delete(oldest);
    }
    if (owned.length === 0 && ownedRooms.length === 0) return;
    const proxy = this.proxies.of(
      session.id,
      node,
      session.projectId,
      session.resource,
      session.scopes,
    );
    for (const callId of owned) proxy.calls.add(callId);
    for (const roomId of ownedRooms) proxy.rooms.add(roomId);
  }

  stop(): void {
    this.sweep.stop();
    this.backlogs.stop();
    this.presence.stop();
    this.bus.close();
  }

  /** Sessions of `resource` on other nodes that may be rung, as sessions of this node's calls. */
  async remoteReceivers(projectId: string, resource: string): Promise<RemoteSession[]> {
    const present = await this.presence.othersOf(projectId, resource).catch((error: unknown) => {
      this.failed(error);
      throw new RelayRpcError(
        RpcErrorCodes.internal,
        ErrorCodes.unavailableService,
        'The Relay cannot reach the other nodes right now (its Redis does not answer). Try again shortly.',
      );
    });
    return present
      .filter((p) => can(p.scopes, 'receive'))
      .map((p) => this.proxies.of(p.sessionId, p.node, projectId, resource, p.scopes));
  }

  /** Resolves once every remote session of the call was rung, or refused. */
  ringsSettled(callId: string): Promise<RingOutcome> {
    return this.rings.settled(callId);
  }

  /** A session of another node that is a leg of one of this node's calls. */
  remoteSession(sessionId: string): Session | undefined {
    return this.proxies.get(sessionId);
  }

  /** The node owning a call of one of this node's sessions, when it is another node. */
  ownerOf(callId: string): string | undefined {
    return this.foreign.ownerOf(callId);
  }

  /**
   * A session of this node joined a call of `owner` as its supervisor: the call's requests
   * now go there, and its end reaches the session, as for the call's own legs.
   */
  supervising(session: Session, callId: string, owner: string): void {
    session.calls.add(callId);
    this.foreign.add(callId, owner, session.id);
  }

  /** Sends a call request of a local session to the node that owns the call. */
  forward(
    session: Session,
    owner: string,
    method: string,
    params: Record<string, unknown>,
  ): Promise<unknown> {
    const callId = String(params.callId);
    return new Promise((resolve, reject) => {
      this.bus.request(
        owner,
        { type: 'call', sessionId: session.id, method, params },
        this.timeoutMs,
        (error, result) => {
          // The owner let the session go from the call (its reject or hang-up, or the call is
          // over): so does this node, or the session would count the call forever.
          if (
            error?.code === ErrorCodes.callNotFound ||
            (!error && (method === ClientMethods.reject || method === ClientMethods.hangup))
          ) {
            session.calls.delete(callId);
            this.foreign.forget(callId, session.id);
          }
          if (error) reject(error);
          else resolve(result);
        },
      );
    });
  }

  /**
   * Sends a local session's `call.assist` to the node owning the call, with who the session is
   * (the owner keeps it as a leg of the call); on success the session supervises it from here.
   */
  assist(session: Session, owner: string, params: Record<string, unknown>): Promise<unknown> {
    const callId = String(params.callId);
    const { id: sessionId, projectId, resource, scopes } = session;
    const message = { type: 'assist', sessionId, projectId, resource, scopes, params };
    return new Promise((resolve, reject) => {
      this.bus.request(owner, message, this.timeoutMs, (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        const room = (result as AssistResult).room;
        if (room) this.rooms.joined(session, owner, room);
        else this.supervising(session, callId, owner);
        resolve(result);
      });
    });
  }

  /** A local session dropped, resumed or ended: the owners of its foreign calls hear of it. */
  legEvent(session: Session, event: 'detached' | 'resumed' | 'ended'): void {
    const owners = new Set<string>();
    for (const callId of session.calls) {
      const owner = this.foreign.ownerOf(callId);
      if (owner) owners.add(owner);
    }
    for (const owner of this.rooms.ownersOf(session)) owners.add(owner);
    if (event === 'ended') {
      this.foreign.sessionGone(session.id, session.calls);
      this.rooms.sessionGone(session);
    }
    if (event === 'resumed') this.backlogs.forget(session.id);
    if (owners.size === 0) return;
    const room = event === 'detached' ? this.backlogs.room(session) : undefined;
    for (const owner of owners) {
      this.bus.send(owner, { type: 'leg', sessionId: session.id, event, room });
    }
  }

  /** Tells the other nodes holding sessions of a family that it was revoked. */
  async revokeElsewhere(familyId: string): Promise<void> {
    for (const node of await this.presence.nodesOfFamily(familyId)) {
      this.bus.send(node, { type: 'revoke', familyId });
    }
  }

  private receive(from: string, message: BusMessage): unknown {
    const host = this.host;
    if (!host) return undefined;
    switch (message.type) {
      case 'ring':
        return this.onRing(from, message);
      case 'notify':
        // Passed on by a node the session left: the call's node is the one it names.
        this.onNotify(host, typeof message.owner === 'string' ? message.owner : from, message);
        return undefined;
      case 'room':
        return this.rooms.receive(host, from, message);
      case 'call': {
        const proxy = this.proxies.orStandIn(String(message.sessionId), from);
        const handled = host.callRequest(
          proxy,
          String(message.method),
          message.params as Record<string, unknown>,
        );
        // After the reply, which the bus publishes once this returns.
        if (handled.after) queueMicrotask(handled.after);
        return handled.result;
      }
      case 'assist': {
        const proxy = this.proxies.of(
          String(message.sessionId),
          from,
          String(message.projectId),
          String(message.resource),
          message.scopes as Scope[],
        );
        const handled = host.callRequest(
          proxy,
          ClientMethods.assist,
          message.params as Record<string, unknown>,
        );
        if (handled.after) queueMicrotask(handled.after);
        return handled.result;
      }
      case 'leg': {
        const proxy = this.proxies.get(String(message.sessionId));
        if (!proxy) return undefined;
        if (message.event !== 'ended') {
          proxy.setAway(message.event === 'detached', message.room as BufferRoom | undefined);
        }
        if (message.event !== 'detached') proxy.backlogged = false;
        host.legEvent(proxy, message.event as 'detached' | 'resumed' | 'ended');
        if (message.event === 'ended') this.proxies.delete(proxy.id);
        return undefined;
      }
      case 'backlog': {
        const proxy = this.proxies.get(String(message.sessionId));
        if (proxy) proxy.backlogged = message.full === true;
        return undefined;
      }
      case 'revoke':
        host.revokeFamily(String(message.familyId));
        return undefined;
      case 'handover':
        return host.handOver(String(message.sessionId), from);
      case 'moved': {
        const proxy = this.proxies.get(String(message.sessionId));
        if (proxy) proxy.node = String(message.node);
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** Another node rings one of this node's sessions. */
  private onRing(owner: string, message: BusMessage): { outcome: string } {
    const host = this.host as ClusterHost;
    const session = host.session(String(message.sessionId));
    if (!session || session.ended || session.link === null || !can(session.scopes, 'receive')) {
      return { outcome: 'unavailable' };
    }
    if (session.calls.size >= host.maxCallsPerSession) return { outcome: 'busy' };
    const params = message.params as Record<string, unknown>;
    const callId = String(params.callId);
    session.calls.add(callId);
    this.foreign.add(callId, owner, session.id);
    session.notify(ServerEvents.incoming, params);
    return { outcome: 'ringing' };
  }

  /** A call owned by another node notifies one of this node's sessions. */
  private onNotify(host: ClusterHost, owner: string, message: BusMessage): void {
    const sessionId = String(message.sessionId);
    const session = host.session(sessionId);
    if (!session) {
      // Handed over before its owner heard of the move: it follows the session.
      const node = this.moved.get(sessionId);
      if (node) this.bus.send(node, { ...message, owner });
      return;
    }
    const params = message.params as Record<string, unknown>;
    if (message.method === ServerEvents.ended) {
      const callId = String(params.callId);
      session.calls.delete(callId);
      if (params.reason === 'answered-elsewhere') this.foreign.passed(callId, session.id);
      else this.foreign.forget(callId, session.id);
    }
    this.rooms.notified(session, owner, String(message.method), params);
    session.notify(String(message.method), params);
    this.backlogs.check(session, owner);
  }
}
