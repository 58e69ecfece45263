import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  ErrorCodes,
  RelayRpcError,
  RpcErrorCodes,
  ServerEvents,
  type Scope,
} from '../../protocol/index.js';
import { can } from '../signaling/authorize.js';
import type { Session } from '../signaling/Session.js';
import { NodeBus, type BusMessage } from './NodeBus.js';
import { LONG_TTL_MS, Presence } from './Presence.js';
import { RemoteSession } from './RemoteSession.js';
import { SessionRecords, type SessionRecord } from './SessionRecords.js';

/** What a node needs from its signaling server to serve the others. */
export interface ClusterHost {
  /** This node's session by id. */
  session(sessionId: string): Session | undefined;
  /** Runs a call request of a session held by another node, on a call this node owns. */
  callRequest(
    session: Session,
    method: string,
    params: Record<string, unknown>,
  ): { result: unknown; after?: () => void };
  /** A session held elsewhere dropped, came back, or ended, for the calls this node owns. */
  legEvent(session: Session, event: 'detached' | 'resumed' | 'ended'): void;
  /** Closes this node's sessions of a revoked family. */
  revokeFamily(familyId: string): void;
  /**
   * Lets go of a session another node resumes: closes its socket, keeps its calls going
   * (this node now reaches it through that node); returns the calls it was a leg of.
   */
  handOver(sessionId: string, node: string): HandedOver | undefined;
  maxCallsPerSession: number;
  /** How long a dropped session may be resumed, in ms (its record outlives its node that long). */
  resumeGraceMs: number;
}

/** The calls of a session handed over to another node. */
export interface HandedOver {
  /** Calls the old node owns (they stay there). */
  owned: string[];
  /** Calls owned by third nodes. */
  foreign: { callId: string; owner: string }[];
}

/** A session another node held, to resume here. */
export interface Adopted {
  record: SessionRecord;
  calls: { callId: string; owner: string }[];
}

export interface ClusterOptions {
  /** Connections to Redis: `pub` for commands and publishing, `sub` for this node's channel. */
  pub: Redis;
  sub: Redis;
  /** Key and channel prefix. Default: 'relaycall:'. */
  prefix?: string;
  /** This node's id. Default: a random UUID (a restarted node is a new node). */
  nodeId?: string;
  /** How long a dead node's sessions stay listed, in ms. Default: 15000. */
  presenceTtlMs?: number;
  /** How long a node waits for another's answer, in ms. Default: 2000. */
  requestTimeoutMs?: number;
}

/** The outcome of ringing sessions on other nodes. */
export interface RingOutcome {
  refused: { sessionId: string; reason: 'busy' | 'unavailable' }[];
}

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
  private readonly pub: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  /** Sessions of other nodes in calls this node owns. */
  private readonly proxies = new Map<string, RemoteSession>();
  /** Calls of this node's sessions owned by other nodes: their owner and this node's legs. */
  private readonly foreign = new Map<string, { owner: string; sessions: Set<string> }>();
  /** Rings in flight per call, and how they ended. */
  private readonly rings = new Map<
    string,
    { left: number; outcome: RingOutcome; done?: () => void }
  >();
  private host: ClusterHost | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: ClusterOptions) {
    const prefix = options.prefix ?? 'relaycall:';
    this.nodeId = options.nodeId ?? randomUUID();
    this.timeoutMs = options.requestTimeoutMs ?? 2_000;
    const ttl = options.presenceTtlMs ?? 15_000;
    this.pub = options.pub;
    this.prefix = prefix;
    this.ttlMs = ttl;
    this.bus = new NodeBus(options.pub, options.sub, this.nodeId, prefix);
    this.presence = new Presence(options.pub, this.nodeId, prefix, ttl);
  }

  async start(host: ClusterHost): Promise<void> {
    this.host = host;
    const records = new SessionRecords(this.pub, this.prefix, LONG_TTL_MS);
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
      void this.resync().catch(() => undefined);
    });
    // Calls whose owner died: their legs here learn it (their media, peer to peer, goes on).
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), this.ttlMs / 3);
    this.sweeper.unref();
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
    const found = await records.load(sessionId);
    if (!found || found.projectId !== projectId || found.resource !== resource) return undefined;
    if (found.node === this.nodeId) return { record: found, calls: [] };
    if (!(await this.presence.alive(found.node))) {
      // Its node died: resumable for the grace period after it was last seen alive.
      const seen = await this.presence.lastSeen(found.node);
      if (Date.now() - seen > this.ttlMs + (this.host?.resumeGraceMs ?? 0)) return undefined;
      return { record: found, calls: [] };
    }
    const handed = await new Promise<HandedOver | undefined | 'silent'>((resolve) =>
      this.bus.request(
        found.node,
        { type: 'handover', sessionId },
        this.timeoutMs,
        (error, result) => resolve(error ? 'silent' : (result as HandedOver | undefined)),
      ),
    );
    // Listed as alive but silent: it died within the presence lag. Its calls went with it.
    if (handed === 'silent') return { record: found, calls: [] };
    if (!handed) return undefined;
    // Read again: the old node's last journal writes went to Redis before its answer.
    const record = await records.load(sessionId);
    if (!record) return undefined;
    const calls = [
      ...handed.owned.map((callId) => ({ callId, owner: found.node })),
      // Calls this node owns need no forwarding: the session is local now.
      ...handed.foreign.filter((call) => call.owner !== this.nodeId),
    ];
    for (const { callId, owner } of calls) {
      const call = this.foreign.get(callId) ?? { owner, sessions: new Set<string>() };
      call.sessions.add(sessionId);
      this.foreign.set(callId, call);
    }
    // Third nodes owning its calls now reach it here.
    for (const owner of new Set(calls.map((c) => c.owner))) {
      if (owner === found.node) continue;
      this.bus.send(owner, { type: 'moved', sessionId, node: this.nodeId });
    }
    return { record, calls };
  }

  /**
   * A session now held here was a leg of calls this node owns, through a proxy: the proxy
   * goes, and its calls become the session's own.
   */
  absorb(session: Session): void {
    const proxy = this.proxies.get(session.id);
    if (!proxy) return;
    for (const callId of proxy.calls) session.calls.add(callId);
    this.proxies.delete(session.id);
  }

  /** After {@link ClusterHost.handOver}: this node's calls reach the session on `node`. */
  handedOver(session: Session, node: string, owned: string[]): void {
    session.journal = null;
    for (const callId of session.calls) this.forget(callId, session.id);
    if (owned.length === 0) return;
    const proxy = this.proxy(session.id, node, session.projectId, session.resource, session.scopes);
    for (const callId of owned) proxy.calls.add(callId);
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.presence.stop();
    this.bus.close();
  }

  /** Sessions of `resource` on other nodes that may be rung, as sessions of this node's calls. */
  async remoteReceivers(projectId: string, resource: string): Promise<RemoteSession[]> {
    const present = await this.presence.othersOf(projectId, resource).catch(() => {
      throw new RelayRpcError(
        RpcErrorCodes.internal,
        ErrorCodes.unavailableService,
        'The Relay cannot reach the other nodes right now (its Redis does not answer). Try again shortly.',
      );
    });
    return present
      .filter((p) => can(p.scopes, 'receive'))
      .map((p) => this.proxy(p.sessionId, p.node, projectId, resource, p.scopes));
  }

  /** Resolves once every remote session of the call was rung, or refused. */
  ringsSettled(callId: string): Promise<RingOutcome> {
    const rings = this.rings.get(callId);
    if (!rings || rings.left === 0) {
      this.rings.delete(callId);
      return Promise.resolve(rings?.outcome ?? { refused: [] });
    }
    return new Promise((resolve) => {
      rings.done = () => {
        this.rings.delete(callId);
        resolve(rings.outcome);
      };
    });
  }

  /** A session of another node that is a leg of one of this node's calls. */
  remoteSession(sessionId: string): Session | undefined {
    return this.proxies.get(sessionId);
  }

  /** The node owning a call of one of this node's sessions, when it is another node. */
  ownerOf(callId: string): string | undefined {
    return this.foreign.get(callId)?.owner;
  }

  /** Sends a call request of a local session to the node that owns the call. */
  forward(
    session: Session,
    owner: string,
    method: string,
    params: Record<string, unknown>,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.bus.request(
        owner,
        { type: 'call', sessionId: session.id, method, params },
        this.timeoutMs,
        (error, result) => (error ? reject(error) : resolve(result)),
      );
    });
  }

  /** A local session dropped, resumed or ended: the owners of its foreign calls hear of it. */
  legEvent(session: Session, event: 'detached' | 'resumed' | 'ended'): void {
    const owners = new Set<string>();
    for (const callId of session.calls) {
      const call = this.foreign.get(callId);
      if (!call) continue;
      owners.add(call.owner);
      if (event === 'ended') this.forget(callId, session.id);
    }
    for (const owner of owners) this.bus.send(owner, { type: 'leg', sessionId: session.id, event });
  }

  /** Tells the other nodes holding sessions of a family that it was revoked. */
  async revokeElsewhere(familyId: string): Promise<void> {
    for (const node of await this.presence.nodesOfFamily(familyId)) {
      this.bus.send(node, { type: 'revoke', familyId });
    }
  }

  /** Proxy of a remote session; `ring` decides for the call.incoming it is sent. */
  private proxy(
    sessionId: string,
    node: string,
    projectId: string,
    resource: string,
    scopes: Scope[],
  ): RemoteSession {
    let proxy = this.proxies.get(sessionId);
    if (!proxy) {
      proxy = new RingingRemoteSession(
        { id: sessionId, projectId, resource, scopes },
        node,
        this.bus,
        (callId, params) => this.ring(proxy as RemoteSession, callId, params),
      );
      this.proxies.set(sessionId, proxy);
    }
    return proxy;
  }

  private ring(proxy: RemoteSession, callId: string, params: Record<string, unknown>): void {
    let rings = this.rings.get(callId);
    if (!rings) {
      rings = { left: 0, outcome: { refused: [] } };
      this.rings.set(callId, rings);
    }
    const entry = rings;
    entry.left += 1;
    this.bus.request(
      proxy.node,
      { type: 'ring', sessionId: proxy.id, params },
      this.timeoutMs,
      (error, result) => {
        const answer = (result as { outcome?: string } | undefined)?.outcome;
        if (error || answer !== 'ringing') {
          entry.outcome.refused.push({
            sessionId: proxy.id,
            reason: answer === 'busy' ? 'busy' : 'unavailable',
          });
        }
        entry.left -= 1;
        if (entry.left === 0) entry.done?.();
      },
    );
  }

  private receive(from: string, message: BusMessage): unknown {
    const host = this.host;
    if (!host) return undefined;
    switch (message.type) {
      case 'ring':
        return this.onRing(from, message);
      case 'notify': {
        const session = host.session(String(message.sessionId));
        if (!session) return undefined;
        const params = message.params as Record<string, unknown>;
        if (message.method === ServerEvents.ended) {
          session.calls.delete(String(params.callId));
          this.forget(String(params.callId), session.id);
        }
        session.notify(String(message.method), params);
        return undefined;
      }
      case 'call': {
        const proxy = this.proxies.get(String(message.sessionId));
        if (!proxy) throw callNotFound();
        const handled = host.callRequest(
          proxy,
          String(message.method),
          message.params as Record<string, unknown>,
        );
        // After the reply, which the bus publishes once this returns.
        if (handled.after) queueMicrotask(handled.after);
        return handled.result;
      }
      case 'leg': {
        const proxy = this.proxies.get(String(message.sessionId));
        if (!proxy) return undefined;
        host.legEvent(proxy, message.event as 'detached' | 'resumed' | 'ended');
        if (message.event === 'ended') this.proxies.delete(proxy.id);
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
    const call = this.foreign.get(callId) ?? { owner, sessions: new Set<string>() };
    call.sessions.add(session.id);
    this.foreign.set(callId, call);
    session.notify(ServerEvents.incoming, params);
    return { outcome: 'ringing' };
  }

  private forget(callId: string, sessionId: string): void {
    const call = this.foreign.get(callId);
    call?.sessions.delete(sessionId);
    if (call?.sessions.size === 0) this.foreign.delete(callId);
  }

  private async sweep(): Promise<void> {
    const host = this.host;
    if (!host) return;
    const owners = new Set([...this.foreign.values()].map((call) => call.owner));
    for (const owner of owners) {
      if (await this.presence.alive(owner)) continue;
      for (const [callId, call] of this.foreign) {
        if (call.owner !== owner) continue;
        this.foreign.delete(callId);
        for (const sessionId of call.sessions) {
          const session = host.session(sessionId);
          if (!session?.calls.delete(callId)) continue;
          session.notify(ServerEvents.ended, { callId, reason: 'disconnected' });
        }
      }
    }
    for (const node of new Set([...this.proxies.values()].map((proxy) => proxy.node))) {
      if (await this.presence.alive(node)) continue;
      // Its sessions may resume elsewhere, but that node cannot hand their calls over: the
      // other legs learn the peer is away (their media, peer to peer, may well go on).
      for (const proxy of this.proxies.values()) {
        if (proxy.node === node && proxy.calls.size > 0) host.legEvent(proxy, 'detached');
      }
    }
    for (const [id, proxy] of this.proxies) if (proxy.calls.size === 0) this.proxies.delete(id);
  }
}

/** A remote session whose call.incoming is a ring the other node answers (or refuses). */
class RingingRemoteSession extends RemoteSession {
  constructor(
    init: ConstructorParameters<typeof RemoteSession>[0],
    node: string,
    bus: NodeBus,
    private readonly onRing: (callId: string, params: Record<string, unknown>) => void,
  ) {
    super(init, node, bus);
  }

  override notify(method: string, params: Record<string, unknown>): boolean {
    if (method === ServerEvents.incoming) {
      this.onRing(String(params.callId), params);
      return true;
    }
    return super.notify(method, params);
  }
}

function callNotFound(): RelayRpcError {
  return new RelayRpcError(
    RpcErrorCodes.callNotFound,
    ErrorCodes.callNotFound,
    'No such call on this session. It may have ended; check the call id.',
  );
}
