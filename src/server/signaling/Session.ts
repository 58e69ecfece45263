import type { Scope } from '../../protocol/index.js';
import { CompactSet } from '../rooms/CompactSet.js';

/** Where a session's messages go while a socket carries it. */
export interface SessionLink {
  deliver(text: string): void;
  close(code: number, reason: string): void;
  /** Whether the reader keeps up: false while it has more unread than the Relay lets it hold. */
  keepsUp(): boolean;
}

/** Keeps a copy of a session's resume buffer elsewhere (Redis), so another node can resume it. */
export interface SessionJournal {
  /** Notification `seq` was issued. */
  appended(seq: number, text: string): void;
  /** Everything up to `floor` is no longer kept; `dropped` entries left the front. */
  trimmed(floor: number, dropped: number): void;
}

/** A resume buffer as another node kept it. */
export interface SessionBuffer {
  seq: number;
  floor: number;
  outbox: string[];
}

export interface SessionInit {
  id: string;
  projectId: string;
  resource: string;
  scopes: Scope[];
  familyId: string;
  expiresAt: number;
  /** Most notifications kept for a resume (`resumeBufferMessages`). */
  maxBuffered: number;
  /** Most characters of notifications kept for a resume (`resumeBufferBytes`). */
  maxBufferedBytes: number;
  /** The buffer of a session resumed from another node. Default: empty. */
  buffer?: SessionBuffer;
}

/**
 * A signaling session: an authenticated endpoint of a project. It outlives its
 * socket for the resume grace period. Every notification gets a sequence number
 * and is kept until acknowledged (bounded), so a resumed client misses nothing
 * and, by ignoring numbers it has seen, gets nothing twice.
 */
export class Session {
  readonly id: string;
  readonly projectId: string;
  readonly resource: string;
  scopes: Scope[];
  familyId: string;
  /** ms since the epoch. */
  expiresAt: number;
  link: SessionLink | null = null;
  /** Ids of the calls this session is a leg of (ringing or active). */
  readonly calls = new CompactSet<string>();
  /** Ids of the rooms this session is a participant of (joined or away). */
  readonly rooms = new CompactSet<string>();
  /** Set once the session is gone for good. */
  ended = false;
  /** Its place in the Relay's queue of JWT expiries (-1: not queued). */
  expiryIndex = -1;
  /** Ends a detached session when the resume grace period is over. */
  graceTimer: unknown = undefined;
  /** Copies the resume buffer for other nodes (several Relay nodes only). */
  journal: SessionJournal | null = null;
  private seq = 0;
  /** A detached session's buffer overflowed: it can no longer be resumed faithfully. */
  private overflowed = false;
  /** Highest seq no longer kept for replay. */
  private floor = 0;
  /**
   * Notifications floor + 1 … seq, in order: kept until acknowledged. None while empty: most
   * sessions are idle, and an emptied array keeps its backing store.
   */
  private outbox: string[] | undefined = undefined;
  /** Total length of the outbox's texts. */
  private outboxBytes = 0;
  private readonly maxBuffered: number;
  private readonly maxBufferedBytes: number;

  constructor(init: SessionInit) {
    this.id = init.id;
    this.projectId = init.projectId;
    this.resource = init.resource;
    this.scopes = init.scopes;
    this.familyId = init.familyId;
    this.expiresAt = init.expiresAt;
    this.maxBuffered = init.maxBuffered;
    this.maxBufferedBytes = init.maxBufferedBytes;
    if (init.buffer) {
      this.seq = init.buffer.seq;
      this.floor = init.buffer.floor;
      if (init.buffer.outbox.length > 0) this.outbox = [...init.buffer.outbox];
      for (const text of init.buffer.outbox) this.outboxBytes += text.length;
    }
  }

  /** Whether a socket carries the session (false while detached: it may still resume). */
  get attached(): boolean {
    return this.link !== null;
  }

  /**
   * Whether a signal may be queued for this session now. Attached: while its reader keeps up.
   * Detached: while its resume buffer is under three quarters full, so that signals can never
   * overflow it (which would end the session); the rest is kept for call events.
   */
  acceptsSignal(): boolean {
    if (this.link) return this.link.keepsUp();
    return (
      (this.outbox?.length ?? 0) * 4 < this.maxBuffered * 3 &&
      this.outboxBytes * 4 < this.maxBufferedBytes * 3
    );
  }

  /**
   * Sends a notification now, or keeps it for the resume. Returns false when
   * a detached session's buffer overflowed: it cannot be resumed faithfully.
   */
  notify(method: string, params: Record<string, unknown>): boolean {
    if (this.ended) return true;
    const seq = ++this.seq;
    // Spliced rather than spread into a new object: this runs for every relayed signal.
    const text = `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":{"seq":${seq},${JSON.stringify(params).slice(1)}}`;
    const outbox = (this.outbox ??= []);
    outbox.push(text);
    this.outboxBytes += text.length;
    this.journal?.appended(seq, text);
    if (outbox.length > this.maxBuffered || this.outboxBytes > this.maxBufferedBytes) {
      if (!this.link) {
        this.overflowed = true;
        return false;
      }
      // Attached: the oldest were sent already; only a resume from before them is lost.
      let dropped = 0;
      while (
        outbox.length > 1 &&
        (outbox.length > this.maxBuffered || this.outboxBytes > this.maxBufferedBytes)
      ) {
        this.outboxBytes -= (outbox.shift() as string).length;
        dropped += 1;
      }
      if (dropped > 0) {
        this.floor += dropped;
        this.journal?.trimmed(this.floor, dropped);
      }
    }
    this.link?.deliver(text);
    return true;
  }

  /** Forgets notifications the client has processed. */
  acknowledge(seq: number): void {
    const { outbox } = this;
    if (outbox === undefined) return;
    let dropped = 0;
    while (outbox.length > 0 && this.floor < seq) {
      this.outboxBytes -= (outbox.shift() as string).length;
      this.floor += 1;
      dropped += 1;
    }
    if (outbox.length === 0) this.outbox = undefined;
    if (dropped > 0) this.journal?.trimmed(this.floor, dropped);
  }

  /** The resume buffer, as another node needs it to resume this session. */
  buffer(): SessionBuffer {
    return { seq: this.seq, floor: this.floor, outbox: this.outbox ? [...this.outbox] : [] };
  }

  /** Whether a client that processed up to `lastSeq` can be brought up to date. */
  canResumeFrom(lastSeq: number): boolean {
    return !this.overflowed && lastSeq >= this.floor && lastSeq <= this.seq;
  }

  /** Delivers, in order, what the client has not processed yet. */
  replayAfter(lastSeq: number): void {
    this.acknowledge(lastSeq);
    for (const text of this.outbox ?? []) this.link?.deliver(text);
  }
}
