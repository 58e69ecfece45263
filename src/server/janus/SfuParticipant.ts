import type { VideoQuality } from '../../protocol/index.js';
import type { Member } from '../rooms/Room.js';
import type { JanusHandle } from './JanusHandle.js';
import type { JanusSession } from './JanusSession.js';

/** One participant's download of another's media: a subscriber handle on Janus. */
export interface Subscription {
  handle: JanusHandle;
  /** The publisher's feed it receives (a republished participant has a new one). */
  feed: number;
  /** Mid of the video stream in Janus's offer, for switching simulcast layers. */
  videoMid: string | undefined;
  /** The participant answered Janus's offer: media flows, the layer can be chosen. */
  started: boolean;
}

/**
 * A participant of an `sfu` room as the SFU holds it: its Janus session (created with a token
 * that expires with its JWT), its publisher handle and feed, and its subscriptions. Work on each
 * of its legs (its upload, each download) runs in order, one step at a time, as its signals came.
 */
export class SfuParticipant {
  session: Promise<JanusSession> | undefined;
  publisher: JanusHandle | undefined;
  /** Janus's id of its published media; undefined until it publishes. */
  feed: number | undefined;
  /** Its published connection is up (Janus's webrtcup): others may subscribe to its feed. */
  live = false;
  /** Mids of its published audio and video (for moderation). */
  mids: { audio?: string; video?: string } = {};
  /** Kinds a moderator muted, stopped at the SFU until it unmutes. */
  readonly moderated = new Set<'audio' | 'video'>();
  /** Whose media it asked to receive, at which quality (kept across their republishing). */
  readonly wants = new Map<string, VideoQuality>();
  readonly subscriptions = new Map<string, Subscription>();
  /** Gone from the room: late results are dropped. */
  gone = false;
  private readonly chains = new Map<string, Promise<void>>();

  constructor(readonly member: Member) {}

  get id(): string {
    return this.member.participant.id;
  }

  /** Runs `task` after the leg's earlier tasks; `failed` hears of its error (not of later ones). */
  run(leg: string, task: () => Promise<void>, failed: (error: unknown) => void): void {
    const previous = this.chains.get(leg) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (this.gone) return;
      try {
        await task();
      } catch (error) {
        if (!this.gone) failed(error);
      }
    });
    this.chains.set(leg, next);
    // The chain forgets finished work; only the last task is kept.
    void next.then(() => {
      if (this.chains.get(leg) === next) this.chains.delete(leg);
    });
  }

  /** Drops a subscription (its handle detached, best effort). */
  async unsubscribe(target: string): Promise<void> {
    const subscription = this.subscriptions.get(target);
    this.subscriptions.delete(target);
    await subscription?.handle.detach();
  }
}
