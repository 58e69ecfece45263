import { ServerEvents } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { ClusterHost } from './ClusterHost.js';
import type { ClusterRooms } from './ClusterRooms.js';
import type { ForeignCalls } from './ForeignCalls.js';
import type { Presence } from './Presence.js';
import type { RemoteSessions } from './RemoteSessions.js';

/**
 * Looks for dead nodes every `intervalMs` on the Relay's clock (a node is dead once its
 * liveness key expired in Redis). The calls a dead node owned end for their legs here
 * (`disconnected`: their media, peer to peer, goes on); the legs here of calls whose other
 * leg was on a dead node learn that peer is away.
 */
export class DeadNodeSweep {
  private timer: unknown;
  private running = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly presence: Presence,
    private readonly foreign: ForeignCalls,
    private readonly proxies: RemoteSessions,
    private readonly rooms: ClusterRooms,
    /** Told of a sweep that failed (the next one tries again). */
    private readonly failed: (error: unknown) => void,
  ) {}

  start(host: ClusterHost): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.start(host);
      // One at a time: a sweep waiting on a slow Redis is not joined by the next ones.
      if (this.running) return;
      this.running = true;
      void this.sweep(host)
        .catch(this.failed)
        .finally(() => (this.running = false));
    }, this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private async sweep(host: ClusterHost): Promise<void> {
    for (const owner of this.foreign.owners()) {
      if (await this.presence.alive(owner)) continue;
      for (const { callId, legs } of this.foreign.dropOwner(owner)) {
        for (const sessionId of legs) {
          const session = host.session(sessionId);
          if (!session?.calls.delete(callId)) continue;
          session.notify(ServerEvents.ended, { callId, reason: 'disconnected' });
        }
      }
    }
    for (const owner of this.rooms.foreignOwners()) {
      if (!(await this.presence.alive(owner))) this.rooms.ownerDied(owner, host);
    }
    for (const node of new Set([...this.proxies.values()].map((proxy) => proxy.node))) {
      if (await this.presence.alive(node)) continue;
      // Its sessions may resume elsewhere, but that node cannot hand their calls over: the
      // other legs learn the peer is away (their media, peer to peer, may well go on).
      for (const proxy of this.proxies.values()) {
        if (proxy.node !== node || (proxy.calls.size === 0 && proxy.rooms.size === 0)) continue;
        proxy.setAway(true);
        host.legEvent(proxy, 'detached');
      }
    }
    this.proxies.prune();
  }
}
