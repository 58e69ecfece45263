import { SFU_PEER } from '../../protocol/index.js';
import type { SfuOutput } from '../rooms/SfuMedia.js';
import { JanusError } from './JanusError.js';
import type { JanusEvent } from './JanusHandle.js';
import type { JanusSession } from './JanusSession.js';
import {
  legKey,
  type FeedKind,
  type Publication,
  type SfuParticipant,
  type Subscription,
} from './SfuParticipant.js';
import type { SfuRoom } from './SfuRoom.js';
import { SUBSTREAM, midsOf } from './sfuSignals.js';

export const VIDEOROOM = 'janus.plugin.videoroom';

/** What the feeds ask of the SFU that holds the rooms. */
export interface SfuFeedsHost {
  /** Where signals for participants go; undefined before the rooms are connected. */
  output(): SfuOutput | undefined;
  /** The participant's Janus session, created on first use. */
  session(p: SfuParticipant): Promise<JanusSession>;
  /** An event of the room seen on a camera's publisher handle (voice activity). */
  roomEvent(sfu: SfuRoom, event: JanusEvent): void;
  /** Stops (or resumes) a kind of the participant's camera feed at Janus (moderation). */
  moderate(sfu: SfuRoom, p: SfuParticipant, kind: 'audio' | 'video', mute: boolean): Promise<void>;
  /** Tells the participant its signal about a leg (SFU_PEER or a participant) failed. */
  failed(sfu: SfuRoom, p: SfuParticipant, leg: string, kind: FeedKind, error: unknown): void;
}

/** The flag of signals about a screen share (docs/PROTOCOL.md#sfu-rooms). */
export const screenFlag = (kind: FeedKind): { screen?: true } =>
  kind === 'screen' ? { screen: true } : {};

/**
 * What participants publish on Janus and receive from it. A participant's camera and its
 * screen share are two publications (a publisher handle and feed each); whoever asked for a
 * participant's media (`wants`) is subscribed to both as soon as each is live, each on a
 * subscriber handle of its own. An ICE restart keeps its connection: a publisher configures
 * with its new offer, a subscription asks Janus for a new offer and answers it with `start`.
 */
export class SfuFeeds {
  constructor(private readonly host: SfuFeedsHost) {}

  /** Uploads (again) a camera or a share: a new publisher replaces the one of that kind. */
  async publish(sfu: SfuRoom, p: SfuParticipant, kind: FeedKind, sdp: string): Promise<void> {
    await sfu.created;
    const session = await this.host.session(p);
    await this.unpublish(sfu, p, kind);
    const handle = await session.attach(VIDEOROOM);
    const publication: Publication = { handle, feed: undefined, live: false, mids: {} };
    p.publications.set(kind, publication);
    const current = () => p.publications.get(kind) === publication && !p.gone;
    // Voice activity is the camera's microphone's: a shared tab's audio is not talking.
    if (kind === 'camera') handle.onEvent((event) => this.host.roomEvent(sfu, event));
    handle.onCore((event) => {
      if (!current()) return;
      if (event.janus === 'webrtcup') {
        // Janus lets subscribers in once the publisher's connection is up (else 428 no such feed).
        publication.live = true;
        this.subscribeAll(sfu, p, kind);
      } else if (event.janus === 'hangup' && kind === 'screen') {
        // The share's connection is gone for good: the share ended.
        const leg = legKey(SFU_PEER, kind);
        p.run(
          leg,
          () => this.unpublish(sfu, p, kind),
          // The share's connection is gone already: there is nothing left to fail.
          () => undefined,
        );
      }
    });
    const joined = await handle.message({
      request: 'join',
      ptype: 'publisher',
      room: sfu.janusId,
      pin: sfu.pin,
      display: p.id,
    });
    const feed = joined.data.id;
    if (typeof feed !== 'number')
      throw new JanusError(0, 'Janus answered a join without a feed id.');
    if (kind === 'camera') sfu.feeds.set(feed, p.id);
    const answered = await handle.message(
      { request: 'publish', display: p.id },
      { type: 'offer', sdp },
    );
    if (answered.jsep?.type !== 'answer') {
      throw new JanusError(0, 'Janus answered the offer without an SDP answer.');
    }
    publication.feed = feed;
    publication.mids = midsOf(sdp);
    const answer = { type: 'answer', sdp: answered.jsep.sdp, ...screenFlag(kind) };
    this.host.output()?.signal(sfu.room, p.id, SFU_PEER, answer);
    if (kind === 'camera') {
      for (const muted of p.moderated) await this.host.moderate(sfu, p, muted, true);
    }
    if (publication.live) this.subscribeAll(sfu, p, kind);
  }

  /** An ICE restart of an upload: Janus takes the new offer on the same publisher. */
  async restartPublication(sfu: SfuRoom, p: SfuParticipant, kind: FeedKind, sdp: string) {
    const publication = p.publications.get(kind);
    if (publication?.feed === undefined) {
      throw new JanusError(0, 'there is no upload of this kind to restart');
    }
    const answered = await publication.handle.message(
      { request: 'configure' },
      { type: 'offer', sdp },
    );
    if (answered.jsep?.type !== 'answer') {
      throw new JanusError(0, 'Janus answered an ICE restart without an SDP answer.');
    }
    const answer = { type: 'answer', sdp: answered.jsep.sdp, restart: true, ...screenFlag(kind) };
    this.host.output()?.signal(sfu.room, p.id, SFU_PEER, answer);
  }

  /** Stops an upload; those receiving a share are told it ended. */
  async unpublish(sfu: SfuRoom, p: SfuParticipant, kind: FeedKind): Promise<void> {
    const publication = p.publications.get(kind);
    if (!publication) return;
    p.publications.delete(kind);
    if (kind === 'camera' && publication.feed !== undefined) sfu.feeds.delete(publication.feed);
    if (kind === 'screen') this.shareEnded(sfu, p, publication.live);
    await publication.handle.detach();
  }

  /** A participant's share ended (stopped, failed, or it left): its receivers drop it. */
  shareEnded(sfu: SfuRoom, p: SfuParticipant, wasLive: boolean): void {
    for (const other of sfu.participants.values()) {
      if (other === p) continue;
      const receiving = other.subscriptions.screen.has(p.id);
      if (!receiving && !(wasLive && other.wants.has(p.id))) continue;
      other.run(
        legKey(p.id, 'screen'),
        () => other.unsubscribe(p.id, 'screen'),
        // The share ended: Janus drops its subscriptions with it.
        () => undefined,
      );
      this.host.output()?.signal(sfu.room, other.id, p.id, { type: 'ended', screen: true });
    }
  }

  /** Everyone who asked for this participant's media gets its (new) camera or share feed. */
  subscribeAll(sfu: SfuRoom, p: SfuParticipant, kind: FeedKind): void {
    for (const other of sfu.participants.values()) {
      if (other !== p && other.wants.has(p.id)) {
        other.run(
          legKey(p.id, kind),
          () => this.subscribe(sfu, other, p.id, kind),
          (error) => this.host.failed(sfu, other, p.id, kind, error),
        );
      }
    }
  }

  /**
   * Subscribes `p` to `target`'s current camera or share feed, sending Janus's offer; later when
   * none is live yet. `again`: asked by the participant (its connection is new), else kept when
   * on that feed.
   */
  async subscribe(sfu: SfuRoom, p: SfuParticipant, target: string, kind: FeedKind, again = false) {
    const publication = sfu.participants.get(target)?.publications.get(kind);
    const feed = publication?.live ? publication.feed : undefined;
    if (feed === undefined || !p.wants.has(target)) return; // its media going live subscribes us
    const subscriptions = p.subscriptions[kind];
    if (!again && subscriptions.get(target)?.feed === feed) return;
    await p.unsubscribe(target, kind);
    await sfu.created;
    const handle = await (await this.host.session(p)).attach(VIDEOROOM);
    const subscription: Subscription = {
      handle,
      feed,
      videoMid: undefined,
      started: false,
      offered: false,
    };
    subscriptions.set(target, subscription);
    const attached = await handle.message({
      request: 'join',
      ptype: 'subscriber',
      room: sfu.janusId,
      pin: sfu.pin,
      streams: [{ feed }],
    });
    if (attached.jsep?.type !== 'offer') {
      throw new JanusError(0, 'Janus answered a subscription without an SDP offer.');
    }
    if (sfu.participants.get(target)?.publications.get(kind) !== publication) {
      // It stopped (a share ended) while Janus set this up: its receivers were told already.
      await p.unsubscribe(target, kind);
      return;
    }
    const streams = Array.isArray(attached.data.streams) ? attached.data.streams : [];
    const video = streams.find((s: { type?: unknown }) => s.type === 'video') as
      { mid?: unknown } | undefined;
    if (typeof video?.mid === 'string') subscription.videoMid = video.mid;
    subscription.offered = true;
    const offer = { type: 'offer', sdp: attached.jsep.sdp, ...screenFlag(kind) };
    this.host.output()?.signal(sfu.room, p.id, target, offer);
  }

  /** The participant answered Janus's offer (the first, or an ICE restart's): media flows. */
  async start(sfu: SfuRoom, p: SfuParticipant, target: string, kind: FeedKind, sdp: string) {
    const subscription = p.subscriptions[kind].get(target);
    if (!subscription?.offered) return; // a copy of an answer already given
    subscription.offered = false;
    await subscription.handle.message(
      { request: 'start', room: sfu.janusId },
      { type: 'answer', sdp },
    );
    if (subscription.started) return;
    subscription.started = true;
    if (kind === 'camera') await this.choose(p, target);
  }

  /** An ICE restart of a subscription: Janus offers anew on the same handle. */
  async restart(sfu: SfuRoom, p: SfuParticipant, target: string, kind: FeedKind) {
    const subscription = p.subscriptions[kind].get(target);
    if (!subscription?.started) {
      throw new JanusError(0, 'there is no connection of this subscription to restart');
    }
    const configured = await subscription.handle.message({ request: 'configure', restart: true });
    if (configured.jsep?.type !== 'offer') {
      throw new JanusError(0, 'Janus answered an ICE restart without an SDP offer.');
    }
    subscription.offered = true;
    const offer = { type: 'offer', sdp: configured.jsep.sdp, restart: true, ...screenFlag(kind) };
    this.host.output()?.signal(sfu.room, p.id, target, offer);
  }

  /** Switches the simulcast layer `p` receives of `target`'s camera to the one it wants. */
  async choose(p: SfuParticipant, target: string): Promise<void> {
    const subscription = p.subscriptions.camera.get(target);
    const quality = p.wants.get(target);
    if (!subscription?.started || !subscription.videoMid || !quality) return;
    await subscription.handle.message({
      request: 'configure',
      streams: [{ mid: subscription.videoMid, substream: SUBSTREAM[quality] }],
    });
  }
}
