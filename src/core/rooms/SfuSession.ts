import { SFU_PEER, type IceServer, type VideoQuality } from '../../protocol/index.js';
import type { MediaSession, MediaSessionOptions, SupervisorSending } from './MediaSession.js';

export interface SfuSessionOptions extends MediaSessionOptions {
  /**
   * The ICE servers of now (the Relay's, e.g. its TURN server, once connected), read for each
   * new connection. Nothing is added to them: `[]` means host candidates only (no public STUN).
   */
  iceServers(): IceServer[];
  /**
   * `'relay'` uses TURN relay candidates only; passed to RTCPeerConnection as
   * `iceTransportPolicy`. Default: `'all'`.
   */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** RTCPeerConnection constructor to use (tests). Default: `globalThis.RTCPeerConnection`. */
  RTCPeerConnection?: typeof RTCPeerConnection;
  /** MediaStream constructor for the media received (tests). Default: `globalThis.MediaStream`. */
  MediaStream?: typeof MediaStream;
}

/**
 * The simulcast layers the camera is sent in, full resolution first; the media server forwards
 * one of them to each subscriber (see `setQuality`). Browsers drop the layers a small camera
 * resolution cannot carry.
 */
export const SIMULCAST_ENCODINGS: readonly RTCRtpEncodingParameters[] = [
  { rid: 'h', maxBitrate: 900_000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 300_000 },
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 100_000 },
];

/** One RTCPeerConnection with the media server: the upload (SFU_PEER), or one participant's. */
interface Leg {
  pc: RTCPeerConnection;
  /** The remote description is set: candidates apply at once, else they wait in `queued`. */
  described: boolean;
  queued: (RTCIceCandidateInit | null)[];
  /** Signals applied, as JSON: one sent again after a resume arrives twice. */
  seen: Set<string>;
  connected: boolean;
  /** Local ICE candidates gathered: none at the end of gathering means it can never connect. */
  gathered: number;
  /** Tracks received (subscriptions). */
  tracks: MediaStreamTrack[];
}

/** Receiving one participant: its subscription, and its connection once the server offers. */
interface Subscription {
  leg: Leg | null;
  /** Candidates that came before the server's offer. */
  early: (RTCIceCandidateInit | null)[];
  /** The offers answered: a copy of one is not a new connection. */
  offers: Set<string>;
}

interface Signal {
  type?: unknown;
  sdp?: unknown;
  candidate?: unknown;
}

/**
 * An `sfu` room's media: this client's camera and microphone go once, in one publisher
 * connection (simulcast video), to the Relay's media server, which it reaches through
 * `room.signal` to SFU_PEER; each other participant's media comes from the server in a
 * connection of its own, which the server offers once subscribed (`add`). Signals of a
 * participant not added are dropped: the server offers only what was subscribed.
 */
export class SfuSession implements MediaSession {
  private publisher: Leg | null = null;
  private readonly subscriptions = new Map<string, Subscription>();
  /** Chosen layers, kept across subscriptions. */
  private readonly qualities = new Map<string, VideoQuality>();
  private destroyed = false;

  constructor(private readonly options: SfuSessionOptions) {
    const stream = options.stream;
    if (options.supervisor) this.setSupervisor(options.supervisor);
    else if (stream && stream.getTracks().length > 0) void this.publish(stream);
  }

  /**
   * A supervisor publishes its microphone only once its mode is heard by someone (the media
   * server refuses a monitoring supervisor's upload, and lets only those who hear it
   * subscribe). Its mode only goes up in an sfu room: once published, it stays.
   */
  setSupervisor(sending: SupervisorSending): void {
    if (this.destroyed || this.publisher || sending.mode === 'monitor' || !sending.mic) return;
    const Stream = this.options.MediaStream ?? globalThis.MediaStream;
    if (typeof Stream === 'function') void this.publish(new Stream([sending.mic]));
  }

  add(participantId: string): void {
    if (this.destroyed || participantId === SFU_PEER) return;
    this.close(participantId);
    this.subscriptions.set(participantId, { leg: null, early: [], offers: new Set() });
    const quality = this.qualities.get(participantId);
    this.options.callbacks.onSignal(participantId, {
      type: 'subscribe',
      ...(quality ? { quality } : {}),
    });
  }

  remove(participantId: string): void {
    if (!this.subscriptions.has(participantId)) return;
    this.close(participantId);
    this.options.callbacks.onSignal(participantId, { type: 'unsubscribe' });
  }

  signal(participantId: string, data: unknown): void {
    if (this.destroyed || typeof data !== 'object' || data === null) return;
    const signal = data as Signal;
    if (participantId === SFU_PEER) return this.signalPublisher(signal, JSON.stringify(data));
    const subscription = this.subscriptions.get(participantId);
    if (!subscription) return;
    const key = JSON.stringify(data);
    if (signal.type === 'offer' && typeof signal.sdp === 'string') {
      if (subscription.offers.has(key)) return;
      subscription.offers.add(key);
      // A later offer: the participant published again, or the server restarted the
      // subscription. The old connection is over.
      if (subscription.leg) {
        closeQuietly(subscription.leg.pc);
        subscription.early = [];
      }
      const leg = this.open(participantId);
      leg.queued.push(...subscription.early.splice(0));
      subscription.leg = leg;
      void this.answer(participantId, leg, signal.sdp);
    } else if (signal.type === 'candidate') {
      const leg = subscription.leg;
      if (leg?.seen.has(key)) return;
      leg?.seen.add(key);
      if (leg) this.addCandidate(leg, signal.candidate);
      else subscription.early.push(asCandidate(signal.candidate));
    } else if (signal.type === 'error') {
      this.closedByItself(participantId);
    }
  }

  setTrackEnabled(kind: 'audio' | 'video', enabled: boolean): void {
    for (const track of this.options.stream?.getTracks() ?? []) {
      if (track.kind === kind) track.enabled = enabled;
    }
  }

  async replaceTrack(old: MediaStreamTrack, next: MediaStreamTrack): Promise<void> {
    const sender = this.publisher?.pc.getSenders().find((s) => s.track === old);
    if (sender) await sender.replaceTrack(next);
    // The stream holds what a new publisher connection (after a rejoin) sends.
    const stream = this.options.stream;
    if (stream?.getTracks().includes(old)) {
      stream.removeTrack(old);
      stream.addTrack(next);
    }
  }

  setQuality(participantId: string, quality: VideoQuality): void {
    this.qualities.set(participantId, quality);
    if (this.destroyed || !this.subscriptions.has(participantId)) return;
    this.options.callbacks.onSignal(participantId, { type: 'quality', quality });
  }

  /** The upload (as SFU_PEER), and each participant received. */
  connections(): ReadonlyMap<string, RTCPeerConnection> {
    const legs = [...this.subscriptions].flatMap(([id, s]) =>
      s.leg ? [[id, s.leg.pc] as const] : [],
    );
    return new Map(this.publisher ? [[SFU_PEER, this.publisher.pc], ...legs] : legs);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.publisher) closeQuietly(this.publisher.pc);
    this.publisher = null;
    for (const id of [...this.subscriptions.keys()]) this.close(id);
  }

  private async publish(stream: MediaStream): Promise<void> {
    let leg: Leg;
    try {
      leg = this.open(SFU_PEER);
      this.publisher = leg;
      for (const track of stream.getTracks()) {
        leg.pc.addTransceiver(track, {
          direction: 'sendonly',
          streams: [stream],
          ...(track.kind === 'video' ? { sendEncodings: [...SIMULCAST_ENCODINGS] } : {}),
        });
      }
    } catch {
      // No WebRTC here, or the browser refused: nothing can be sent.
      return this.closedByItself(SFU_PEER);
    }
    try {
      const offer = await leg.pc.createOffer();
      await leg.pc.setLocalDescription(offer);
      if (!this.current(SFU_PEER, leg)) return;
      this.options.callbacks.onSignal(SFU_PEER, { type: 'offer', sdp: offer.sdp });
    } catch {
      if (this.current(SFU_PEER, leg)) this.closedByItself(SFU_PEER);
    }
  }

  private signalPublisher(signal: Signal, key: string): void {
    const leg = this.publisher;
    if (!leg || leg.seen.has(key)) return;
    leg.seen.add(key);
    if (signal.type === 'answer' && typeof signal.sdp === 'string') {
      if (leg.pc.signalingState !== 'have-local-offer') return;
      leg.pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp }).then(
        () => this.described(leg),
        () => this.current(SFU_PEER, leg) && this.closedByItself(SFU_PEER),
      );
    } else if (signal.type === 'candidate') {
      this.addCandidate(leg, signal.candidate);
    } else if (signal.type === 'error') {
      this.closedByItself(SFU_PEER);
    }
  }

  /** Answers the server's offer of a participant's media. */
  private async answer(participantId: string, leg: Leg, sdp: string): Promise<void> {
    try {
      await leg.pc.setRemoteDescription({ type: 'offer', sdp });
      this.described(leg);
      const answer = await leg.pc.createAnswer();
      await leg.pc.setLocalDescription(answer);
      if (!this.current(participantId, leg)) return;
      this.options.callbacks.onSignal(participantId, { type: 'answer', sdp: answer.sdp });
    } catch {
      if (this.current(participantId, leg)) this.closedByItself(participantId);
    }
  }

  /** A new connection with the media server, for the upload (SFU_PEER) or a participant. */
  private open(id: string): Leg {
    const Native = this.options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    const pc = new Native({
      iceServers: [...this.options.iceServers()],
      iceTransportPolicy: this.options.iceTransportPolicy ?? 'all',
    });
    const leg: Leg = {
      pc,
      described: false,
      queued: [],
      seen: new Set(),
      connected: false,
      gathered: 0,
      tracks: [],
    };
    const { callbacks } = this.options;
    pc.addEventListener('icecandidate', (event) => {
      if (!this.current(id, leg)) return;
      const candidate = event.candidate ? candidateInit(event.candidate) : null;
      if (candidate) leg.gathered += 1;
      callbacks.onSignal(id, { type: 'candidate', candidate });
      // Every ICE server refused (expired TURN credentials, say): it would never connect, and
      // browsers leave such a connection 'new' instead of 'failed'.
      if (!candidate && leg.gathered === 0) this.closedByItself(id);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (!this.current(id, leg)) return;
      if (pc.connectionState === 'connected' && !leg.connected) {
        leg.connected = true;
        callbacks.onConnected(id);
      } else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        this.closedByItself(id);
      }
    });
    pc.addEventListener('track', (event) => {
      if (!this.current(id, leg) || id === SFU_PEER) return;
      leg.tracks = [...leg.tracks.filter((track) => track !== event.track), event.track];
      const Stream = this.options.MediaStream ?? globalThis.MediaStream;
      // A new stream object for each track, so that the app sees the change.
      const stream = typeof Stream === 'function' ? new Stream(leg.tracks) : event.streams[0];
      if (stream) callbacks.onStream(id, stream);
    });
    return leg;
  }

  private described(leg: Leg): void {
    leg.described = true;
    for (const candidate of leg.queued.splice(0)) this.addCandidate(leg, candidate);
  }

  private addCandidate(leg: Leg, raw: unknown): void {
    const candidate = asCandidate(raw);
    if (!leg.described) {
      leg.queued.push(candidate);
      return;
    }
    // null: the server gathered all its candidates. A candidate the browser cannot use is
    // skipped; the others may still connect.
    leg.pc.addIceCandidate(candidate ?? undefined).catch(() => undefined);
  }

  private current(id: string, leg: Leg): boolean {
    if (this.destroyed) return false;
    return id === SFU_PEER ? this.publisher === leg : this.subscriptions.get(id)?.leg === leg;
  }

  /** Forgets a participant's subscription and closes its connection, telling no one. */
  private close(participantId: string): void {
    const leg = this.subscriptions.get(participantId)?.leg;
    this.subscriptions.delete(participantId);
    if (leg) closeQuietly(leg.pc);
  }

  /** A connection failed, or the server refused it: it is over, and the room is told. */
  private closedByItself(id: string): void {
    if (id === SFU_PEER) {
      if (this.publisher) closeQuietly(this.publisher.pc);
      this.publisher = null;
    } else {
      if (!this.subscriptions.has(id)) return;
      // The server may still hold the subscription: let it go (add() subscribes afresh).
      this.remove(id);
    }
    this.options.callbacks.onClosed(id);
  }
}

function closeQuietly(pc: RTCPeerConnection): void {
  try {
    pc.close();
  } catch {
    // closed already
  }
}

function asCandidate(raw: unknown): RTCIceCandidateInit | null {
  return typeof raw === 'object' && raw !== null ? (raw as RTCIceCandidateInit) : null;
}

function candidateInit(candidate: RTCIceCandidate): RTCIceCandidateInit {
  if (typeof candidate.toJSON === 'function') return candidate.toJSON();
  const { sdpMid, sdpMLineIndex, usernameFragment } = candidate;
  return { candidate: candidate.candidate, sdpMid, sdpMLineIndex, usernameFragment };
}
