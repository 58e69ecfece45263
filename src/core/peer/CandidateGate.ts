/** Candidates held per peer for a remote description that has not arrived, at most. */
const MAX_HELD = 64;

const descriptionUfrag = (data: unknown): string | undefined => {
  const sdp = (data as { sdp?: unknown } | null)?.sdp;
  return typeof sdp === 'string' ? /a=ice-ufrag:(\S+)/.exec(sdp)?.[1] : undefined;
};

const candidateUfrag = (data: unknown): string | undefined => {
  const line = (data as { candidate?: { candidate?: unknown } } | null)?.candidate?.candidate;
  return typeof line === 'string' ? / ufrag (\S+)/.exec(line)?.[1] : undefined;
};

/**
 * Lets a remote ICE candidate reach the peer only with the remote description it belongs to
 * (same ICE username fragment). A peer made again (its first offer was lost, or the other side
 * started over) can otherwise receive the old peer's candidates, which the browser refuses and
 * simple-peer answers by destroying the new peer. Candidates of a description not applied yet
 * (one sent again after a refusal can overtake its description) are held until it is.
 * Candidates without a username fragment (browsers that leave it out) always pass.
 */
export class CandidateGate {
  private ufrag: string | undefined;
  private held: unknown[] = [];

  /** What to give the peer now for a signal received: nothing, the signal, or more. */
  pass(data: unknown): unknown[] {
    const described = descriptionUfrag(data);
    if (described !== undefined) {
      this.ufrag = described;
      const ready = this.held.filter((c) => candidateUfrag(c) === described);
      this.held = this.held.filter((c) => candidateUfrag(c) !== described);
      return [data, ...ready];
    }
    const ufrag = candidateUfrag(data);
    if (ufrag === undefined || ufrag === this.ufrag) return [data];
    this.held.push(data);
    if (this.held.length > MAX_HELD) this.held.shift();
    return [];
  }
}
