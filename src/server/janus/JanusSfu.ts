import { randomBytes, randomInt } from 'node:crypto';
import { SFU_PEER } from '../../protocol/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { LogFields } from '../RelayLogger.js';
import type { Member, Room } from '../rooms/Room.js';
import type { SfuMedia, SfuOutput } from '../rooms/SfuMedia.js';
import type { JanusConnection } from './JanusConnection.js';
import type { JanusEvent, JanusHandle } from './JanusHandle.js';
import type { JanusSession } from './JanusSession.js';
import { janusToken } from './janusToken.js';
import { SfuFeeds, VIDEOROOM, screenFlag } from './SfuFeeds.js';
import { SfuParticipant, legKey, type FeedKind } from './SfuParticipant.js';
import type { SfuRoom } from './SfuRoom.js';
import { parseSfuSignal, type Candidate } from './sfuSignals.js';

/** How long the Relay's own Janus session token lasts; minted again for every request. */
const ADMIN_TOKEN_MS = 60 * 60_000;

export interface JanusSfuOptions {
  /** Janus's token_auth_secret: each participant's Janus session gets a token signed with it. */
  secret: string;
  clock?: Clock;
  /**
   * Participants a Janus room takes (the Relay's maxSfuParticipants): each may publish its
   * camera and a screen share, so the room takes twice as many publishers.
   */
  maxPublishers: number;
  /** When a participant's JWT expires, in ms since the epoch: its Janus token expires then too. */
  expiresAt(member: Member): number | undefined;
  /**
   * Janus's voice activity threshold (`audio_level_average`, dBov: 0 loudest, 127 silence): a
   * participant talks while its average level is louder than this. Default 40.
   */
  talkingLevel?: number;
  /** Packets (20 ms each) averaged for voice activity (`audio_active_packets`). Default 50 (1 s). */
  talkingPackets?: number;
  /** Told of each Janus request that failed (the Relay logs it as a warning). Default: none. */
  onFailure?: (event: string, fields: LogFields) => void;
}

/**
 * The media of `sfu` rooms on a Janus videoroom SFU. The Relay holds the Janus API (browsers
 * never see it): a videoroom per room, a Janus session per participant with a token that expires
 * with the participant's JWT, a publisher handle for its upload and a subscriber handle per
 * participant it receives (SfuFeeds; a screen share is a second publisher, received beside the
 * camera). Browsers negotiate with Janus through `room.signal`; Janus's voice activity becomes
 * `room.talking`. When Janus goes away every `sfu` room is lost (participants
 * rejoin once it is back); mesh rooms and calls never touch it.
 */
export class JanusSfu implements SfuMedia {
  private output: SfuOutput | undefined;
  private readonly rooms = new Map<string, SfuRoom>();
  private admin: Promise<JanusHandle> | undefined;
  private readonly clock: Clock;
  private readonly feeds: SfuFeeds;

  constructor(
    private readonly janus: JanusConnection,
    private readonly options: JanusSfuOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.feeds = new SfuFeeds({
      output: () => this.output,
      session: (p) => this.session(p),
      roomEvent: (sfu, event) => this.roomEvent(sfu, event),
      moderate: (sfu, p, kind, mute) => this.moderate(sfu, p, kind, mute),
      failed: (sfu, p, leg, kind, error) => this.failed(sfu, p, leg, kind, error),
    });
    janus.onAvailability((available) => {
      if (!available) this.lostAll();
    });
  }

  get available(): boolean {
    return this.janus.available;
  }

  get size(): number {
    return this.rooms.size;
  }

  connect(output: SfuOutput): void {
    this.output = output;
  }

  signal(room: Room, member: Member, to: string, raw: unknown): void {
    const signal = parseSfuSignal(raw);
    if (!signal) return;
    const sfu = this.sfuRoom(room);
    const p = this.participant(sfu, member);
    const kind: FeedKind = 'screen' in signal && signal.screen ? 'screen' : 'camera';
    const leg = legKey(to, kind);
    const fail = (error: unknown) => this.failed(sfu, p, to, kind, error);
    const feeds = this.feeds;
    if (to === SFU_PEER) {
      switch (signal.type) {
        case 'offer':
          if (signal.restart) {
            return p.run(leg, () => feeds.restartPublication(sfu, p, kind, signal.sdp), fail);
          }
          return p.run(leg, () => feeds.publish(sfu, p, kind, signal.sdp), fail);
        case 'candidate':
          return p.run(
            leg,
            () => trickle(p.publications.get(kind)?.handle, signal.candidate),
            fail,
          );
        case 'unpublish':
          // The camera goes with the participant; only a share stops on its own.
          if (kind === 'screen') p.run(leg, () => feeds.unpublish(sfu, p, kind), fail);
          return;
        default:
          // Answers, restarts, qualities and subscriptions name the publisher they are about,
          // never the SFU itself: nothing to do.
          return;
      }
    }
    const screenLeg = legKey(to, 'screen');
    switch (signal.type) {
      case 'subscribe':
        // A new connection for its camera, and one for its share while it shares.
        p.wants.set(to, signal.quality);
        p.run(to, () => feeds.subscribe(sfu, p, to, 'camera', true), fail);
        return p.run(
          screenLeg,
          () => feeds.subscribe(sfu, p, to, 'screen', true),
          (error) => this.failed(sfu, p, to, 'screen', error),
        );
      case 'answer':
        return p.run(leg, () => feeds.start(sfu, p, to, kind, signal.sdp), fail);
      case 'candidate': {
        const subscriptions = p.subscriptions[kind];
        return p.run(leg, () => trickle(subscriptions.get(to)?.handle, signal.candidate), fail);
      }
      case 'restart':
        return p.run(leg, () => feeds.restart(sfu, p, to, kind), fail);
      case 'quality':
        if (!p.wants.has(to)) return;
        p.wants.set(to, signal.quality);
        return p.run(to, () => feeds.choose(p, to), fail);
      case 'unsubscribe':
        p.wants.delete(to);
        p.run(to, () => p.unsubscribe(to, 'camera'), fail);
        return p.run(
          screenLeg,
          () => p.unsubscribe(to, 'screen'),
          // Most participants share nothing: no share to stop receiving is no failure.
          () => undefined,
        );
      default:
        // Offers and unpublishing are about one's own publication: sent to the SFU, not to
        // another participant, so one sent here has nothing to act on.
        return;
    }
  }

  muted(room: Room, member: Member, kind: 'audio' | 'video', muted: boolean): void {
    const sfu = this.rooms.get(room.id);
    const p = sfu?.participants.get(member.participant.id);
    if (!sfu || !p) return;
    if (muted) p.moderated.add(kind);
    else if (!p.moderated.delete(kind)) return;
    p.run(
      SFU_PEER,
      () => this.moderate(sfu, p, kind, muted),
      (error) =>
        this.options.onFailure?.('sfu.failed', {
          roomId: room.id,
          participantId: p.id,
          request: 'moderate',
          error,
        }),
    );
  }

  left(room: Room, member: Member): void {
    const sfu = this.rooms.get(room.id);
    const p = sfu?.participants.get(member.participant.id);
    if (!sfu || !p) return;
    const share = p.publications.get('screen');
    this.drop(sfu, p);
    if (sfu.talking.delete(p.id)) this.output?.talking(room, p.id, false);
    if (share) this.feeds.shareEnded(sfu, p, share.live);
    for (const other of sfu.participants.values()) {
      if (other.subscriptions.camera.has(p.id)) {
        other.run(
          p.id,
          () => other.unsubscribe(p.id, 'camera'),
          // The feed left with its publisher: Janus drops the subscription with it.
          () => undefined,
        );
      }
    }
  }

  closed(room: Room): void {
    const sfu = this.rooms.get(room.id);
    if (!sfu) return;
    this.rooms.delete(room.id);
    for (const p of sfu.participants.values()) this.drop(sfu, p);
    void sfu.created
      .then(() => this.adminHandle())
      .then((admin) => admin.request({ request: 'destroy', room: sfu.janusId, secret: sfu.secret }))
      .catch(() => undefined); // Janus forgets the room anyway when it restarts
  }

  async close(): Promise<void> {
    for (const sfu of [...this.rooms.values()]) this.closed(sfu.room);
    const admin = this.admin;
    this.admin = undefined;
    // Closing: Janus drops the handle with the connection anyway.
    await admin?.then((handle) => handle.detach()).catch(() => undefined);
  }

  private sfuRoom(room: Room): SfuRoom {
    const existing = this.rooms.get(room.id);
    if (existing) return existing;
    const janusId = randomInt(1, 2 ** 47);
    const secret = randomBytes(16).toString('base64url');
    const pin = randomBytes(16).toString('base64url');
    const created = this.create(janusId, secret, pin);
    const sfu: SfuRoom = {
      room,
      janusId,
      secret,
      pin,
      created,
      participants: new Map(),
      feeds: new Map(),
      talking: new Set(),
    };
    created.catch((error: unknown) => {
      this.options.onFailure?.('sfu.failed', { roomId: room.id, request: 'create', error });
      // Janus refused or went away: the room cannot carry media, its participants rejoin.
      if (this.rooms.get(room.id) !== sfu) return;
      this.rooms.delete(room.id);
      for (const p of sfu.participants.values()) this.drop(sfu, p);
      this.output?.lost(room);
    });
    this.rooms.set(room.id, sfu);
    return sfu;
  }

  private async create(janusId: number, secret: string, pin: string): Promise<void> {
    const admin = await this.adminHandle();
    await admin.request({
      request: 'create',
      room: janusId,
      secret,
      pin,
      is_private: true,
      permanent: false,
      // Everyone's camera, and a screen share each.
      publishers: 2 * this.options.maxPublishers,
      videocodec: 'vp8',
      audiolevel_event: true,
      audio_level_average: this.options.talkingLevel ?? 40,
      audio_active_packets: this.options.talkingPackets ?? 50,
      notify_joining: false,
    });
  }

  private participant(sfu: SfuRoom, member: Member): SfuParticipant {
    const id = member.participant.id;
    let p = sfu.participants.get(id);
    if (!p || p.member !== member) {
      if (p) {
        // Joined again as the participant it is: what it published before is gone.
        const share = p.publications.get('screen');
        this.drop(sfu, p);
        if (share) this.feeds.shareEnded(sfu, p, share.live);
      }
      p = new SfuParticipant(member);
      sfu.participants.set(id, p);
    }
    return p;
  }

  /** Its Janus session, created on first use with a token that expires with its JWT. */
  private session(p: SfuParticipant): Promise<JanusSession> {
    p.session ??= this.janus
      .createSession(() =>
        janusToken(
          this.options.secret,
          this.options.expiresAt(p.member) ?? this.clock.now() + ADMIN_TOKEN_MS,
          [VIDEOROOM],
        ),
      )
      .then((session) => {
        if (p.gone) void session.destroy();
        return session;
      });
    return p.session;
  }

  private async moderate(sfu: SfuRoom, p: SfuParticipant, kind: 'audio' | 'video', mute: boolean) {
    const camera = p.publications.get('camera');
    const mid = camera?.mids[kind];
    if (camera?.feed === undefined || mid === undefined) return; // applied when it publishes
    const admin = await this.adminHandle();
    await admin.request({
      request: 'moderate',
      room: sfu.janusId,
      secret: sfu.secret,
      id: camera.feed,
      mid,
      mute,
    });
  }

  /** Events of the room seen on a camera's publisher handle (each publisher gets them all). */
  private roomEvent(sfu: SfuRoom, { data }: JanusEvent): void {
    if (this.rooms.get(sfu.room.id) !== sfu) return;
    const kind = data.videoroom;
    if (kind === 'talking' || kind === 'stopped-talking') {
      // Camera feeds only: a screen share's feed is not listed, its tab audio is not talking.
      const id = typeof data.id === 'number' ? sfu.feeds.get(data.id) : undefined;
      const talking = kind === 'talking';
      if (id === undefined || sfu.talking.has(id) === talking) return;
      if (talking) sfu.talking.add(id);
      else sfu.talking.delete(id);
      this.output?.talking(sfu.room, id, talking);
    }
  }

  /**
   * Tells the participant its signal about `leg` failed: its client closes that connection.
   * A share that fails is over: those receiving it are told it ended.
   */
  private failed(sfu: SfuRoom, p: SfuParticipant, leg: string, kind: FeedKind, error: unknown) {
    if (!this.janus.available || this.rooms.get(sfu.room.id) !== sfu) return; // lostAll tells
    this.options.onFailure?.('sfu.failed', {
      roomId: sfu.room.id,
      participantId: p.id,
      leg,
      kind,
      error,
    });
    const why = error instanceof Error ? error.message : String(error);
    this.output?.signal(sfu.room, p.id, leg, {
      type: 'error',
      ...screenFlag(kind),
      message: `The media server could not carry this media (${why}). Leave and join the room again.`,
    });
    if (leg === SFU_PEER && kind === 'screen') {
      p.run(
        legKey(SFU_PEER, kind),
        () => this.feeds.unpublish(sfu, p, kind),
        // The share failed already (told above): its connection goes either way.
        () => undefined,
      );
    }
  }

  private drop(sfu: SfuRoom, p: SfuParticipant): void {
    p.gone = true;
    sfu.participants.delete(p.id);
    if (p.feed !== undefined) sfu.feeds.delete(p.feed);
    // Destroying the session detaches its handles; Janus tells the room the feed left.
    void p.session
      ?.then((session) => session.destroy())
      .catch((error: unknown) =>
        this.options.onFailure?.('sfu.failed', {
          roomId: sfu.room.id,
          participantId: p.id,
          request: 'destroy',
          error,
        }),
      );
  }

  /** Janus went away: it forgot every room and session; the Relay's rooms on it end. */
  private lostAll(): void {
    this.admin = undefined;
    const lost = [...this.rooms.values()];
    this.rooms.clear();
    for (const sfu of lost) {
      for (const p of sfu.participants.values()) p.gone = true;
      this.output?.lost(sfu.room);
    }
  }

  /** The Relay's own handle, for creating, destroying and moderating rooms. */
  private adminHandle(): Promise<JanusHandle> {
    if (!this.admin) {
      const admin = this.janus
        .createSession(() =>
          janusToken(this.options.secret, this.clock.now() + ADMIN_TOKEN_MS, [VIDEOROOM]),
        )
        .then((session) => {
          session.onGone(() => {
            if (this.admin === admin) this.admin = undefined;
          });
          return session.attach(VIDEOROOM);
        });
      admin.catch(() => {
        if (this.admin === admin) this.admin = undefined;
      });
      this.admin = admin;
    }
    return this.admin;
  }
}

async function trickle(handle: JanusHandle | undefined, candidate: Candidate | null) {
  await handle?.trickle(candidate);
}
