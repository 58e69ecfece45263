import type { NodeBus } from './NodeBus.js';
import type { RemoteSession } from './RemoteSession.js';

/** The outcome of ringing sessions on other nodes. */
export interface RingOutcome {
  refused: { sessionId: string; reason: 'busy' | 'unavailable' }[];
}

/**
 * The rings of this node's calls on sessions of other nodes: each is a request the session's
 * node answers (ringing, busy or unavailable), and an invite waits for all of its rings.
 */
export class RemoteRings {
  /** Rings in flight per call, and how they ended. */
  private readonly rings = new Map<
    string,
    { left: number; outcome: RingOutcome; done?: () => void }
  >();

  constructor(
    private readonly bus: NodeBus,
    /** How long a node waits for another's answer, in ms (real time: it is network). */
    private readonly timeoutMs: number,
  ) {}

  /** Rings a remote session for a call: `params` is its call.incoming. */
  ring(proxy: RemoteSession, callId: string, params: Record<string, unknown>): void {
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

  /** Resolves once every remote session of the call was rung, or refused. */
  settled(callId: string): Promise<RingOutcome> {
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
}
