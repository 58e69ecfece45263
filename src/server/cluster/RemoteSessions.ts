import type { Scope } from '../../protocol/index.js';
import type { NodeBus } from './NodeBus.js';
import type { RemoteRings } from './RemoteRings.js';
import { RemoteSession } from './RemoteSession.js';
import { RingingRemoteSession } from './RingingRemoteSession.js';

/**
 * The sessions of other nodes that are legs of this node's calls, as this node's calls see
 * them (one proxy per session, kept while it is in a call here); their call.incoming is a
 * ring its node answers.
 */
export class RemoteSessions {
  private readonly proxies = new Map<string, RemoteSession>();

  constructor(
    private readonly bus: NodeBus,
    private readonly rings: RemoteRings,
  ) {}

  get(sessionId: string): RemoteSession | undefined {
    return this.proxies.get(sessionId);
  }

  delete(sessionId: string): void {
    this.proxies.delete(sessionId);
  }

  values(): IterableIterator<RemoteSession> {
    return this.proxies.values();
  }

  /** The proxy of a session of `node`, made on first use. */
  of(
    sessionId: string,
    node: string,
    projectId: string,
    resource: string,
    scopes: Scope[],
  ): RemoteSession {
    let proxy = this.proxies.get(sessionId);
    if (!proxy) {
      const made: RemoteSession = new RingingRemoteSession(
        { id: sessionId, projectId, resource, scopes },
        node,
        this.bus,
        (callId, params) => this.rings.ring(made, callId, params),
      );
      proxy = made;
      this.proxies.set(sessionId, proxy);
    }
    return proxy;
  }

  /**
   * The proxy of a session of `node`, or, when it is in none of this node's calls any more, a
   * stand-in kept nowhere: asked through it, a call still tells a late answer it was
   * answered elsewhere, and anything else that it is not a leg.
   */
  orStandIn(sessionId: string, node: string): RemoteSession {
    return (
      this.proxies.get(sessionId) ??
      new RemoteSession({ id: sessionId, projectId: '', resource: '', scopes: [] }, node, this.bus)
    );
  }

  /** Forgets the proxies that are in no call any more. */
  prune(): void {
    for (const [id, proxy] of this.proxies) {
      if (proxy.calls.size === 0 && proxy.rooms.size === 0) this.proxies.delete(id);
    }
  }
}
