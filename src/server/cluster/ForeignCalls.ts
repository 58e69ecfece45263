/** Calls answered elsewhere remembered per session, so a late answer is told so (the latest few). */
const PASSED_PER_SESSION = 8;

interface ForeignCall {
  owner: string;
  /** This node's sessions that are legs of the call (ringing or answered). */
  legs: Set<string>;
  /** This node's sessions that rang for it until another device answered. */
  passed: Set<string>;
}

/**
 * The calls of this node's sessions that other nodes own (a call lives on its caller's node):
 * which node to send their requests to, and which of this node's sessions are in them.
 *
 * A session that rang for a call answered on another device is no longer a leg, but its late
 * `call.answer` must still reach the owner, which answers `answered_elsewhere` while the call
 * lasts (as for sessions on the owner's node). The owner never says when such a call ends, so
 * those sessions are remembered for their latest few calls only, and until they end.
 */
export class ForeignCalls {
  private readonly calls = new Map<string, ForeignCall>();
  /** Calls each session passed on (answered elsewhere), oldest first. */
  private readonly passedBy = new Map<string, string[]>();

  /** The owner of a call one of this node's sessions is (or was rung) in. */
  ownerOf(callId: string): string | undefined {
    return this.calls.get(callId)?.owner;
  }

  /** The nodes owning calls of this node's sessions. */
  owners(): Set<string> {
    return new Set([...this.calls.values()].map((call) => call.owner));
  }

  /** A session of this node is now a leg of a call `owner` owns. */
  add(callId: string, owner: string, sessionId: string): void {
    const call = this.calls.get(callId) ?? { owner, legs: new Set(), passed: new Set() };
    call.legs.add(sessionId);
    this.calls.set(callId, call);
  }

  /** The session is no longer in the call (it ended, or the session left it). */
  forget(callId: string, sessionId: string): void {
    this.unpass(sessionId, callId);
    const call = this.calls.get(callId);
    if (!call) return;
    call.legs.delete(sessionId);
    call.passed.delete(sessionId);
    if (call.legs.size === 0 && call.passed.size === 0) this.calls.delete(callId);
  }

  /** The call stopped ringing on the session because another device answered it. */
  passed(callId: string, sessionId: string): void {
    const call = this.calls.get(callId);
    if (!call?.legs.delete(sessionId)) return;
    call.passed.add(sessionId);
    const list = this.passedBy.get(sessionId) ?? [];
    list.push(callId);
    this.passedBy.set(sessionId, list);
    if (list.length > PASSED_PER_SESSION) this.forget(list[0] as string, sessionId);
  }

  /** The session left this node (ended, or handed over): it is in none of these calls here. */
  sessionGone(sessionId: string, callIds: Iterable<string>): void {
    for (const callId of callIds) this.forget(callId, sessionId);
    for (const callId of [...(this.passedBy.get(sessionId) ?? [])]) this.forget(callId, sessionId);
  }

  /** Forgets every call `owner` owns (it died); returns them with their legs here. */
  dropOwner(owner: string): { callId: string; legs: Set<string> }[] {
    const dropped: { callId: string; legs: Set<string> }[] = [];
    for (const [callId, call] of this.calls) {
      if (call.owner !== owner) continue;
      for (const sessionId of [...call.passed]) this.forget(callId, sessionId);
      this.calls.delete(callId);
      dropped.push({ callId, legs: call.legs });
    }
    return dropped;
  }

  private unpass(sessionId: string, callId: string): void {
    const list = this.passedBy.get(sessionId);
    if (!list) return;
    const at = list.indexOf(callId);
    if (at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.passedBy.delete(sessionId);
  }
}
