import { randomBytes, randomInt } from 'node:crypto';
import { SFU_PEER } from '../../protocol/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { Member, Room } from '../rooms/Room.js';
import type { SfuMedia, SfuOutput } from '../rooms/SfuMedia.js';
import type { JanusConnection } from './JanusConnection.js';
import { JanusError } from './JanusError.js';
import type { JanusEvent, JanusHandle } from './JanusHandle.js';
import type { JanusSession } from './JanusSession.js';
import { janusToken } from './janusToken.js';
import { SfuParticipant } from './SfuParticipant.js';
import { SUBSTREAM, midsOf, parseSfuSignal, type Candidate } from './sfuSignals.js';

const VIDEOROOM = 'janus.plugin.videoroom';
/** How long the Relay's own Janus session token lasts; minted again for every request. */
const ADMIN_TOKEN_MS = 60 * 60_000;

export interface JanusSfuOptions {
  /** Janus's token_auth_secret: each participant's Janus session gets a token signed with it. */
  secret: string;
  clock?: Clock;
  /** Publishers a Janus room takes (the Relay's maxSfuParticipants). */
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
}

/** A room's media on Janus: a videoroom with a secret and a pin only the Relay knows. */
interface SfuRoom {
  readonly room: Room;
  readonly janusId: number;
  readonly secret: string;
  readonly pin: string;
  /** Resolves once the videoroom exists on Janus. */
  readonly created: Promise<void>;
  readonly participants: Map<string, SfuParticipant>;
  /** Participant id of each published feed. */
  readonly feeds: Map<number, string>;
  readonly talking: Set<string>;
}

/**
 * The media of `sfu` rooms on a Janus videoroom SFU. The Relay holds the Janus API (browsers
 * never see it): a videoroom per room, a Janus session per participant with a token that expires
 * with the participant's JWT, a publisher handle for its upload and a subscriber handle per
 * participant it receives. Browsers negotiate with Janus through `room.signal`; Janus's voice
 * activity becomes `room.talking`. When Janus goes away every `sfu` room is lost (participants
 * rejoin once it is back); mesh rooms and calls never touch it.
 */
export class JanusSfu implements SfuMedia {
  private output: SfuOutput | undefined;
  private readonly rooms = new Map<string, SfuRoom>();
  private admin: Promise<JanusHandle> | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly janus: JanusConnection,
    private readonly options: JanusSfuOptions,
  ) {
    this.clock = options.clock ?? systemClock;
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
    const fail = (error: unknown) => this.failed(sfu, p, to, error);
    if (to === SFU_PEER) {
      if (signal.type === 'offer') p.run(to, () => this.publish(sfu, p, signal.sdp), fail);
      if (signal.type === 'candidate')
        p.run(to, () => trickle(p.publisher, signal.candidate), fail);
      return;
    }
    switch (signal.type) {
      case 'subscribe':
        p.wants.set(to, signal.quality);
        return p.run(to, () => this.subscribe(sfu, p, to, true), fail);
      case 'answer':
        return p.run(to, () => this.start(sfu, p, to, signal.sdp), fail);
      case 'candidate':
        return p.run(to, () => trickle(p.subscriptions.get(to)?.handle, signal.candidate), fail);
      case 'quality':
        if (!p.wants.has(to)) return;
        p.wants.set(to, signal.quality);
        return p.run(to, () => this.choose(p, to), fail);
      case 'unsubscribe':
        p.wants.delete(to);
        return p.run(to, () => p.unsubscribe(to), fail);
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
      () => undefined,
    );
  }

  left(room: Room, member: Member): void {
    const sfu = this.rooms.get(room.id);
    const p = sfu?.participants.get(member.participant.id);
    if (!sfu || !p) return;
    this.drop(sfu, p);
    if (sfu.talking.delete(p.id)) this.output?.talking(room, p.id, false);
    for (const other of sfu.participants.values()) {
      if (other.subscriptions.has(p.id)) {
        other.run(
          p.id,
          () => other.unsubscribe(p.id),
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
    created.catch(() => {
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
      publishers: this.options.maxPublishers,
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
      if (p) this.drop(sfu, p);
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

  /** Uploads (again) the participant's media: a new publisher replaces the one it had. */
  private async publish(sfu: SfuRoom, p: SfuParticipant, sdp: string): Promise<void> {
    await sfu.created;
    const session = await this.session(p);
    if (p.publisher) {
      const old = p.publisher;
      if (p.feed !== undefined) sfu.feeds.delete(p.feed);
      p.publisher = undefined;
      p.feed = undefined;
      await old.detach();
    }
    const handle = await session.attach(VIDEOROOM);
    p.publisher = handle;
    p.live = false;
    handle.onEvent((event) => this.roomEvent(sfu, event));
    // Janus lets subscribers in once the publisher's connection is up (else 428 no such feed).
    handle.onCore((event) => {
      if (event.janus !== 'webrtcup' || p.publisher !== handle || p.gone) return;
      p.live = true;
      this.subscribeAll(sfu, p);
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
    sfu.feeds.set(feed, p.id);
    const answered = await handle.message(
      { request: 'publish', display: p.id },
      { type: 'offer', sdp },
    );
    if (answered.jsep?.type !== 'answer') {
      throw new JanusError(0, 'Janus answered the offer without an SDP answer.');
    }
    p.feed = feed;
    p.mids = midsOf(sdp);
    this.output?.signal(sfu.room, p.id, SFU_PEER, { type: 'answer', sdp: answered.jsep.sdp });
    for (const kind of p.moderated) await this.moderate(sfu, p, kind, true);
    if (p.live) this.subscribeAll(sfu, p);
  }

  /** Everyone who asked for this participant's media gets its (new) feed. */
  private subscribeAll(sfu: SfuRoom, p: SfuParticipant): void {
    for (const other of sfu.participants.values()) {
      if (other !== p && other.wants.has(p.id)) {
        other.run(
          p.id,
          () => this.subscribe(sfu, other, p.id),
          (error) => this.failed(sfu, other, p.id, error),
        );
      }
    }
  }

  /**
   * Subscribes `p` to `target`'s current feed, sending Janus's offer; later when none yet.
   * `again`: asked by the participant (its connection is new), else kept when on that feed.
   */
  private async subscribe(sfu: SfuRoom, p: SfuParticipant, target: string, again = false) {
    const publisher = sfu.participants.get(target);
    const feed = publisher?.live ? publisher.feed : undefined;
    if (feed === undefined || !p.wants.has(target)) return; // its media going live subscribes us
    if (!again && p.subscriptions.get(target)?.feed === feed) return;
    await p.unsubscribe(target);
    await sfu.created;
    const handle = await (await this.session(p)).attach(VIDEOROOM);
    const subscription = {
      handle,
      feed,
      videoMid: undefined as string | undefined,
      started: false,
    };
    p.subscriptions.set(target, subscription);
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
    const streams = Array.isArray(attached.data.streams) ? attached.data.streams : [];
    const video = streams.find((s: { type?: unknown }) => s.type === 'video') as
      { mid?: unknown } | undefined;
    if (typeof video?.mid === 'string') subscription.videoMid = video.mid;
    this.output?.signal(sfu.room, p.id, target, { type: 'offer', sdp: attached.jsep.sdp });
  }

  /** The participant answered Janus's offer for `target`: media starts flowing. */
  private async start(sfu: SfuRoom, p: SfuParticipant, target: string, sdp: string) {
    const subscription = p.subscriptions.get(target);
    if (!subscription || subscription.started) return;
    await subscription.handle.message(
      { request: 'start', room: sfu.janusId },
      {
        type: 'answer',
        sdp,
      },
    );
    subscription.started = true;
    await this.choose(p, target);
  }

  /** Switches the simulcast layer `p` receives of `target` to the one it wants. */
  private async choose(p: SfuParticipant, target: string): Promise<void> {
    const subscription = p.subscriptions.get(target);
    const quality = p.wants.get(target);
    if (!subscription?.started || !subscription.videoMid || !quality) return;
    await subscription.handle.message({
      request: 'configure',
      streams: [{ mid: subscription.videoMid, substream: SUBSTREAM[quality] }],
    });
  }

  private async moderate(sfu: SfuRoom, p: SfuParticipant, kind: 'audio' | 'video', mute: boolean) {
    const mid = p.mids[kind];
    if (p.feed === undefined || mid === undefined) return; // applied when it publishes
    const admin = await this.adminHandle();
    await admin.request({
      request: 'moderate',
      room: sfu.janusId,
      secret: sfu.secret,
      id: p.feed,
      mid,
      mute,
    });
  }

  /** Events of the room seen on a publisher handle (each publisher gets them all). */
  private roomEvent(sfu: SfuRoom, { data }: JanusEvent): void {
    if (this.rooms.get(sfu.room.id) !== sfu) return;
    const kind = data.videoroom;
    if (kind === 'talking' || kind === 'stopped-talking') {
      const id = typeof data.id === 'number' ? sfu.feeds.get(data.id) : undefined;
      const talking = kind === 'talking';
      if (id === undefined || sfu.talking.has(id) === talking) return;
      if (talking) sfu.talking.add(id);
      else sfu.talking.delete(id);
      this.output?.talking(sfu.room, id, talking);
    }
  }

  /** Tells the participant its signal about `leg` failed: its client closes that connection. */
  private failed(sfu: SfuRoom, p: SfuParticipant, leg: string, error: unknown): void {
    if (!this.janus.available || this.rooms.get(sfu.room.id) !== sfu) return; // lostAll tells
    const why = error instanceof Error ? error.message : String(error);
    this.output?.signal(sfu.room, p.id, leg, {
      type: 'error',
      message: `The media server could not carry this media (${why}). Leave and join the room again.`,
    });
  }

  private drop(sfu: SfuRoom, p: SfuParticipant): void {
    p.gone = true;
    sfu.participants.delete(p.id);
    if (p.feed !== undefined) sfu.feeds.delete(p.feed);
    // Destroying the session detaches its handles; Janus tells the room the feed left.
    void p.session?.then((session) => session.destroy()).catch(() => undefined);
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
