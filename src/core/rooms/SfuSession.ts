import { SFU_PEER, type IceServer, type VideoQuality } from '../../protocol/index.js';
import type { IceRestartOptions } from '../peer/IceRestarter.js';
import type { ClientClock } from '../types.js';
import type { MediaSession, MediaSessionOptions, SupervisorSending } from './MediaSession.js';
import { defaultClock } from '../clientOptions.js';
import { SfuLeg, asCandidate } from './SfuLeg.js';

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
  /**
   * How each connection with the media server survives network changes: once connected, an
   * ICE failure, ICE `disconnected` for `graceMs` or a network change restarts ICE on the same
   * connection (see `IceRestartOptions`); `false` closes it on the first ICE failure.
   * Default: `{}` (3 s grace, 3 attempts of 10 s each).
   */
  iceRestart?: IceRestartOptions | false;
  /** The clock of the ICE restarts' timers. Default: the global timers. */
  clock?: ClientClock;
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

/** A participant's camera (and microphone), or its screen share. */
type Kind = 'camera' | 'screen';

/** This client's upload of a kind to the media server. */
interface Upload {
  leg: SfuLeg;
  /** Offers sent and not answered yet: the answer to apply is the last offer's. */
  pending: number;
}

/** Receiving a kind of one participant: its connection once the server offers. */
interface Download {
  leg: SfuLeg | null;
  /** Candidates that came before the server's offer. */
  early: (RTCIceCandidateInit | null)[];
  /** The offers answered: a copy of one is not a new connection. */
  offers: Set<string>;
}

type Subscription = Record<Kind, Download>;

interface Signal {
  type?: unknown;
  sdp?: unknown;
  candidate?: unknown;
  screen?: unknown;
  restart?: unknown;
}

const flag = (kind: Kind) => (kind === 'screen' ? { screen: true } : {});
const download = (): Download => ({ leg: null, early: [], offers: new Set() });

/**
 * An `sfu` room's media: this client's camera and microphone go once, in one publisher
 * connection (simulcast video), to the Relay's media server, which it reaches through
 * `room.signal` to SFU_PEER; a screen share is a second publisher connection. Each other
 * participant's media comes from the server in a connection of its own, which the server offers
 * once subscribed (`add`), and its screen share in another while it shares. Signals of a
 * participant not added are dropped: the server offers only what was subscribed. Every
 * connection restarts ICE by itself once connected (SfuLeg): an upload offers anew, a download
 * asks the server for a new offer (`restart`), on the same connection.
 */
export class SfuSession implements MediaSession {
  private readonly uploads = new Map<Kind, Upload>();
  private readonly subscriptions = new Map<string, Subscription>();
  /** Chosen layers, kept across subscriptions. */
  private readonly qualities = new Map<string, VideoQuality>();
  /** The screen shared, or null. */
  private screen: MediaStream | null = null;
  /** Connections restarting ICE, by participant (SFU_PEER: the uploads). */
  private readonly restarting = new Map<string, Set<SfuLeg>>();
  private destroyed = false;

  constructor(private readonly options: SfuSessionOptions) {
    const stream = options.stream;
    if (options.supervisor) this.setSupervisor(options.supervisor);
    else if (stream && stream.getTracks().length > 0) this.publish('camera', stream);
  }

  /**
   * A supervisor publishes its microphone only once its mode is heard by someone (the media
   * server refuses a monitoring supervisor's upload, and lets only those who hear it
   * subscribe). Its mode only goes up in an sfu room: once published, it stays.
   */
  setSupervisor(sending: SupervisorSending): void {
    if (this.destroyed || this.uploads.has('camera') || sending.mode === 'monitor') return;
    if (!sending.mic) return;
    const Stream = this.options.MediaStream ?? globalThis.MediaStream;
    if (typeof Stream === 'function') this.publish('camera', new Stream([sending.mic]));
  }

  add(participantId: string): void {
    if (this.destroyed || participantId === SFU_PEER) return;
    this.close(participantId);
    this.subscriptions.set(participantId, { camera: download(), screen: download() });
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
    const kind: Kind = signal.screen === true ? 'screen' : 'camera';
    const key = JSON.stringify(data);
    if (participantId === SFU_PEER) return this.signalUpload(kind, signal, key);
    const subscription = this.subscriptions.get(participantId);
    if (!subscription) return;
    const down = subscription[kind];
    if (signal.type === 'offer' && typeof signal.sdp === 'string') {
      if (down.offers.has(key)) return;
      down.offers.add(key);
      if (signal.restart === true && down.leg) {
        // An ICE restart the server made as asked: answered on the same connection.
        void this.answer(participantId, kind, down.leg, signal.sdp);
        return;
      }
      // A new offer: the participant published again, or the server subscribed afresh.
      this.closeDownload(participantId, down);
      const leg = this.open(participantId, kind);
      for (const candidate of down.early.splice(0)) leg.addCandidate(candidate);
      down.leg = leg;
      void this.answer(participantId, kind, leg, signal.sdp);
    } else if (signal.type === 'candidate') {
      const leg = down.leg;
      if (leg?.seen.has(key)) return;
      leg?.seen.add(key);
      if (leg) leg.addCandidate(signal.candidate);
      else down.early.push(asCandidate(signal.candidate));
    } else if (signal.type === 'ended' && kind === 'screen') {
      this.closeDownload(participantId, down, true);
    } else if (signal.type === 'error') {
      this.downloadFailed(participantId, kind);
    }
  }

  setTrackEnabled(kind: 'audio' | 'video', enabled: boolean): void {
    for (const track of this.options.stream?.getTracks() ?? []) {
      if (track.kind === kind) track.enabled = enabled;
    }
  }

  async replaceTrack(old: MediaStreamTrack, next: MediaStreamTrack): Promise<void> {
    const pc = this.uploads.get('camera')?.leg.pc;
    const sender = pc?.getSenders().find((s) => s.track === old);
    if (sender) await sender.replaceTrack(next);
    // The stream holds what a new publisher connection (after a rejoin) sends.
    const stream = this.options.stream;
    if (stream?.getTracks().includes(old)) {
      stream.removeTrack(old);
      stream.addTrack(next);
    }
  }

  /** Shares `stream` beside the camera, in a publisher connection of its own; null stops. */
  setScreen(stream: MediaStream | null): void {
    if (this.destroyed || stream === this.screen) return;
    this.screen = stream;
    if (this.uploads.has('screen')) {
      this.closeUpload('screen');
      this.options.callbacks.onSignal(SFU_PEER, { type: 'unpublish', screen: true });
    }
    if (stream) this.publish('screen', stream);
  }

  setQuality(participantId: string, quality: VideoQuality): void {
    this.qualities.set(participantId, quality);
    if (this.destroyed || !this.subscriptions.has(participantId)) return;
    this.options.callbacks.onSignal(participantId, { type: 'quality', quality });
  }

  /** The camera's upload (as SFU_PEER), and each participant's camera received. */
  connections(): ReadonlyMap<string, RTCPeerConnection> {
    const legs = [...this.subscriptions].flatMap(([id, s]) =>
      s.camera.leg ? [[id, s.camera.leg.pc] as const] : [],
    );
    const upload = this.uploads.get('camera');
    return new Map(upload ? [[SFU_PEER, upload.leg.pc], ...legs] : legs);
  }

  destroy(): void {
    this.destroyed = true;
    for (const kind of [...this.uploads.keys()]) this.closeUpload(kind);
    for (const id of [...this.subscriptions.keys()]) this.close(id);
    this.restarting.clear();
  }

  private publish(kind: Kind, stream: MediaStream): void {
    let upload: Upload;
    try {
      upload = { leg: this.open(SFU_PEER, kind), pending: 0 };
      this.uploads.set(kind, upload);
      for (const track of stream.getTracks()) {
        upload.leg.pc.addTransceiver(track, {
          direction: 'sendonly',
          streams: [stream],
          // A share goes as it is: text stays sharp, and nobody needs a smaller layer of it.
          ...(track.kind === 'video' && kind === 'camera'
            ? { sendEncodings: [...SIMULCAST_ENCODINGS] }
            : {}),
        });
      }
    } catch {
      // No WebRTC here, or the browser refused: nothing can be sent.
      return this.uploadFailed(kind);
    }
    void this.offer(kind, upload, false);
  }

  /** Sends the upload's offer: the first, or an ICE restart's on the same connection. */
  private async offer(kind: Kind, upload: Upload, restart: boolean): Promise<void> {
    try {
      const sdp = await upload.leg.offer(restart);
      if (this.uploads.get(kind) !== upload) return;
      upload.pending += 1;
      this.options.callbacks.onSignal(SFU_PEER, {
        type: 'offer',
        sdp,
        ...(restart ? { restart: true } : {}),
        ...flag(kind),
      });
    } catch {
      if (this.uploads.get(kind) === upload) this.uploadFailed(kind);
    }
  }

  private signalUpload(kind: Kind, signal: Signal, key: string): void {
    const upload = this.uploads.get(kind);
    const leg = upload?.leg;
    if (!upload || !leg || leg.seen.has(key)) return;
    leg.seen.add(key);
    if (signal.type === 'answer' && typeof signal.sdp === 'string') {
      if (upload.pending === 0) return;
      upload.pending -= 1;
      // The answer to an earlier offer, which a restart's newer offer replaced: that one's comes.
      if (upload.pending > 0 || leg.pc.signalingState !== 'have-local-offer') return;
      leg.answered(signal.sdp).catch(() => {
        if (this.uploads.get(kind) === upload) this.uploadFailed(kind);
      });
    } else if (signal.type === 'candidate') {
      leg.addCandidate(signal.candidate);
    } else if (signal.type === 'error') {
      this.uploadFailed(kind);
    }
  }

  /** Answers the server's offer of a participant's camera or share. */
  private async answer(participantId: string, kind: Kind, leg: SfuLeg, sdp: string) {
    try {
      const answer = await leg.answer(sdp);
      if (leg.closed) return;
      this.options.callbacks.onSignal(participantId, {
        type: 'answer',
        sdp: answer,
        ...flag(kind),
      });
    } catch {
      if (!leg.closed) this.downloadFailed(participantId, kind);
    }
  }

  /** A new connection with the media server: an upload (SFU_PEER) or a participant's media. */
  private open(id: string, kind: Kind): SfuLeg {
    const { callbacks } = this.options;
    const Stream = this.options.MediaStream ?? globalThis.MediaStream;
    const leg: SfuLeg = new SfuLeg(
      {
        iceServers: this.options.iceServers(),
        iceTransportPolicy: this.options.iceTransportPolicy ?? 'all',
        iceRestart: this.options.iceRestart ?? {},
        clock: this.options.clock ?? defaultClock,
        RTCPeerConnection: this.options.RTCPeerConnection ?? globalThis.RTCPeerConnection,
        MediaStream: typeof Stream === 'function' ? Stream : undefined,
      },
      {
        candidate: (candidate) =>
          callbacks.onSignal(id, { type: 'candidate', candidate, ...flag(kind) }),
        connected: () => kind === 'camera' && callbacks.onConnected(id),
        failed: () => {
          this.setRestarting(id, leg, false);
          if (id === SFU_PEER) this.uploadFailed(kind);
          else this.downloadFailed(id, kind);
        },
        reconnecting: (on) => this.setRestarting(id, leg, on),
        stream: (stream) => {
          if (id === SFU_PEER) return;
          if (kind === 'camera') callbacks.onStream(id, stream);
          else callbacks.onScreenStream?.(id, stream);
        },
        restart: () => {
          if (id !== SFU_PEER) {
            callbacks.onSignal(id, { type: 'restart', ...flag(kind) });
            return;
          }
          const upload = this.uploads.get(kind);
          if (upload?.leg === leg) void this.offer(kind, upload, true);
        },
      },
    );
    return leg;
  }

  /** A participant is `reconnecting` while any of its connections restarts ICE. */
  private setRestarting(id: string, leg: SfuLeg, on: boolean): void {
    const legs = this.restarting.get(id) ?? new Set<SfuLeg>();
    const before = legs.size > 0;
    if (on) legs.add(leg);
    else legs.delete(leg);
    if (legs.size > 0) this.restarting.set(id, legs);
    else this.restarting.delete(id);
    if (before !== legs.size > 0 && !this.destroyed) {
      this.options.callbacks.onReconnecting?.(id, legs.size > 0);
    }
  }

  private closeUpload(kind: Kind): void {
    const upload = this.uploads.get(kind);
    this.uploads.delete(kind);
    if (!upload) return;
    upload.leg.close();
    this.setRestarting(SFU_PEER, upload.leg, false);
  }

  /** An upload failed, or the server refused it: it is over, and the room is told. */
  private uploadFailed(kind: Kind): void {
    this.closeUpload(kind);
    if (kind === 'camera') this.options.callbacks.onClosed(SFU_PEER);
    else {
      this.screen = null; // shared again later: a new upload
      this.options.callbacks.onScreenFailed?.();
    }
  }

  /** Closes a participant's connection of a kind; a share received is then gone (`told`). */
  private closeDownload(participantId: string, down: Download, told = false): void {
    const leg = down.leg;
    down.leg = null;
    down.early = [];
    if (!leg) return;
    leg.close();
    this.setRestarting(participantId, leg, false);
    if (told) this.options.callbacks.onScreenStream?.(participantId, null);
  }

  /** Forgets a participant's subscription and closes its connections, telling no one. */
  private close(participantId: string): void {
    const subscription = this.subscriptions.get(participantId);
    this.subscriptions.delete(participantId);
    if (!subscription) return;
    for (const down of [subscription.camera, subscription.screen]) {
      down.leg?.close();
      down.leg = null;
    }
    this.restarting.delete(participantId);
  }

  /**
   * A connection failed, or the server refused it: it is over. A camera's closes the
   * participant's subscription, and the room is told (it subscribes afresh); a share's only
   * goes (the server still offers the next share).
   */
  private downloadFailed(participantId: string, kind: Kind): void {
    const subscription = this.subscriptions.get(participantId);
    if (!subscription) return;
    if (kind === 'screen') return this.closeDownload(participantId, subscription.screen, true);
    // The server may still hold the subscription: let it go (add() subscribes afresh).
    this.remove(participantId);
    this.options.callbacks.onClosed(participantId);
  }
}
