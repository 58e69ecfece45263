import type { RelayLimits } from '../../protocol/index.js';
import type { Session } from '../signaling/Session.js';
import type { NodeBus } from './NodeBus.js';

/** What a detached session's resume buffer takes before signals to it are refused. */
export interface BufferRoom {
  messages: number;
  bytes: number;
}

/** How often a node looks whether its backlogged sessions caught up, in ms (real time). */
const RECHECK_MS = 100;

/**
 * Backpressure across nodes. A call's node forwards a signal only while the receiving leg
 * takes signals (`Session.acceptsSignal`: its socket keeps up, or, detached, its resume buffer
 * is under three quarters full); for a leg held by another node it cannot look, so that node
 * tells it. When a notification from a call's node leaves one of this node's sessions unable
 * to take signals, that node hears so at once, and hears it again when the session caught up
 * (looked at every RECHECK_MS of real time: sockets drain in real time). A leg that resumes or
 * ends clears it too (see Cluster).
 *
 * Told after the fact, a call's node could forward many signals meanwhile. So when a session
 * detaches, the call's nodes also learn how much room its resume buffer has left (see
 * {@link room}) and count down what they send it, refusing signals as the session's own node
 * would: they cannot overflow it (other calls' nodes and this node's own calls send to it
 * too; the report above covers what they add).
 */
export class Backlogs {
  /** This node's sessions reported backlogged, and the nodes told. */
  private readonly reported = new Map<string, Set<string>>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly bus: NodeBus,
    private readonly session: (sessionId: string) => Session | undefined,
    private readonly limits: Pick<RelayLimits, 'resumeBufferMessages' | 'resumeBufferBytes'>,
  ) {}

  /** Room left in a detached session's buffer before signals to it are refused (3/4 full). */
  room(session: Session): BufferRoom {
    const { outbox } = session.buffer();
    let bytes = 0;
    for (const text of outbox) bytes += text.length;
    return {
      messages: (this.limits.resumeBufferMessages * 3) / 4 - outbox.length,
      bytes: (this.limits.resumeBufferBytes * 3) / 4 - bytes,
    };
  }

  /** A notification from `owner` reached `session`: tells `owner` if it may send no more. */
  check(session: Session, owner: string): void {
    if (session.acceptsSignal()) return;
    const owners = this.reported.get(session.id) ?? new Set<string>();
    if (owners.has(owner)) return;
    owners.add(owner);
    this.reported.set(session.id, owners);
    this.bus.send(owner, { type: 'backlog', sessionId: session.id, full: true });
    if (!this.timer) {
      this.timer = setInterval(this.recheck, RECHECK_MS);
      this.timer.unref();
    }
  }

  /** The session resumed: the nodes told learn it from that; a new backlog is told anew. */
  forget(sessionId: string): void {
    this.reported.delete(sessionId);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.reported.clear();
  }

  private readonly recheck = (): void => {
    for (const [sessionId, owners] of this.reported) {
      const session = this.session(sessionId);
      if (session && !session.ended && !session.acceptsSignal()) continue;
      this.reported.delete(sessionId);
      // Gone from this node (ended, or resumed elsewhere): its owners hear of that instead.
      if (!session || session.ended) continue;
      for (const owner of owners) {
        this.bus.send(owner, { type: 'backlog', sessionId, full: false });
      }
    }
    if (this.reported.size === 0) this.stop();
  };
}
