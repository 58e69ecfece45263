import type { VideoQuality } from '../../protocol/index.js';
import type { Member } from '../rooms/Room.js';
import type { JanusHandle } from './JanusHandle.js';
import type { JanusSession } from './JanusSession.js';

/** What a participant uploads: its camera (and microphone), or its screen share beside it. */
export type FeedKind = 'camera' | 'screen';

/** One upload of a participant to Janus: a publisher handle and its feed. */
export interface Publication {
  handle: JanusHandle;
  /** Janus's id of the published media; undefined until Janus answered the publish. */
  feed: number | undefined;
  /** Its connection is up (Janus's webrtcup): others may subscribe to its feed. */
  live: boolean;
  /** Mids of its audio and video (for moderation). */
  mids: { audio?: string; video?: string };
}

/** One participant's download of another's camera or share: a subscriber handle on Janus. */
export interface Subscription {
  handle: JanusHandle;
  /** The publisher's feed it receives (a republished participant has a new one). */
  feed: number;
  /** Mid of the video stream in Janus's offer, for switching simulcast layers. */
  videoMid: string | undefined;
  /** The participant answered Janus's first offer: media flows, the layer can be chosen. */
  started: boolean;
  /** Janus offered (the subscription, or an ICE restart) and waits for the participant's answer. */
  offered: boolean;
}

/**
 * A participant of an `sfu` room as the SFU holds it: its Janus session (created with a token
 * that expires with its JWT), its publications (camera, screen share) and its subscriptions.
 * Work on each of its legs (each upload, each download) runs in order, one step at a time, as
 * its signals came.
 */
export class SfuParticipant {
  session: Promise<JanusSession> | undefined;
  readonly publications = new Map<FeedKind, Publication>();
  /** Kinds a moderator muted, stopped at the SFU until it unmutes. */
  readonly moderated = new Set<'audio' | 'video'>();
  /**
   * Whose media it asked to receive, at which quality (kept across their republishing). It
   * receives their screen share too, while they share.
   */
  readonly wants = new Map<string, VideoQuality>();
  readonly subscriptions: Readonly<Record<FeedKind, Map<string, Subscription>>> = {
    camera: new Map(),
    screen: new Map(),
  };
  /** Gone from the room: late results are dropped. */
  gone = false;
  private readonly chains = new Map<string, Promise<void>>();

  constructor(readonly member: Member) {}

  get id(): string {
    return this.member.participant.id;
  }

  /** The camera's feed, once published (talking events and moderation are about it). */
  get feed(): number | undefined {
    return this.publications.get('camera')?.feed;
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
  async unsubscribe(target: string, kind: FeedKind): Promise<void> {
    const subscriptions = this.subscriptions[kind];
    const subscription = subscriptions.get(target);
    subscriptions.delete(target);
    await subscription?.handle.detach();
  }
}

/** The key of a leg's work chain: the camera's is the leg itself (SFU_PEER or a participant). */
export const legKey = (leg: string, kind: FeedKind): string =>
  kind === 'camera' ? leg : `${leg}#screen`;
