/** A socket whose outgoing messages a {@link WriteBatch} collects. */
export interface BatchedLink {
  /** Sends what was collected this turn. */
  flush(): void;
}

/**
 * Sends each socket's messages of one turn of the event loop together, once the turn's I/O
 * callbacks have run: one frame, one write, instead of one per message. A relayed signal
 * costs a message to each leg (the reply and the notification), and under load a socket
 * gets several per turn; frames and write system calls were most of the Relay's CPU time.
 * Adds no latency beyond the current turn.
 */
export class WriteBatch {
  private links: BatchedLink[] = [];
  private scheduled = false;

  /** Flushes `link` at the end of this turn (call once per turn, when its first message is queued). */
  add(link: BatchedLink): void {
    this.links.push(link);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const links = this.links;
    this.links = [];
    for (const link of links) link.flush();
  };
}
