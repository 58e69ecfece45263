import { ErrorCodes, RelayError } from '../../protocol/index.js';
import { LocalMedia } from '../media/LocalMedia.js';
import type { ScreenShareOptions, RoomSnapshot, RoomJoinOptions } from '../types.js';
import { AudioLevelMeter } from './AudioLevelMeter.js';
import type { MediaSession, SupervisorSending } from './MediaSession.js';
import { RoomScreenShares } from './RoomScreenShares.js';
import type { RoomAction, RoomEffect } from './roomActions.js';
import type { RoomManagerDeps } from './RoomManager.js';

/** A room's media on this client: its local tracks, its peers and its level meter. */
interface RoomMediaState {
  local: LocalMedia;
  session: MediaSession | null;
  meter: AudioLevelMeter | null;
  /** This client supervises the room: what it sends. */
  supervisor?: SupervisorSending;
}

/** The media effects of the room reducer, which this class carries out. */
type MediaEffect = Extract<
  RoomEffect,
  {
    type:
      | 'createPeer'
      | 'destroyPeer'
      | 'signalPeer'
      | 'setTrackEnabled'
      | 'resetMedia'
      | 'setQuality'
      | 'stopMedia';
  }
>;

const MEDIA_EFFECTS = new Set<string>([
  'createPeer',
  'destroyPeer',
  'signalPeer',
  'setTrackEnabled',
  'resetMedia',
  'setQuality',
  'stopMedia',
] satisfies MediaEffect['type'][]);

export const isMediaEffect = (effect: RoomEffect): effect is MediaEffect =>
  MEDIA_EFFECTS.has(effect.type);

/**
 * The media of each room on this client: its local tracks, its MediaSession (made on first use,
 * again after a rejoin), its level meter and its screen share. Reports what happens to the
 * media as room actions.
 */
export class RoomMediaManager {
  private readonly media = new Map<string, RoomMediaState>();
  readonly screens: RoomScreenShares;

  constructor(
    private readonly deps: RoomManagerDeps,
    /** The room as the reducer has it now. */
    private readonly room: (name: string) => RoomSnapshot | undefined,
    private readonly dispatch: (action: RoomAction) => void,
  ) {
    this.screens = new RoomScreenShares({
      getDisplayMedia: deps.getDisplayMedia,
      room,
      session: (name) => this.session(name),
      shared: (name, stream, error) => dispatch({ type: 'screenShared', name, stream, error }),
    });
  }

  /** Acquires a room's local media, telling `mediaReady` or `mediaFailed`. */
  async acquire(name: string, attempt: number, options: RoomJoinOptions): Promise<void> {
    const local = new LocalMedia({ room: name }, this.deps.processTrack ?? null);
    this.media.set(name, { local, session: null, meter: null });
    try {
      // Neither audio nor video, and no stream of the app's: this participant only receives.
      const none = options.audio === false && options.video === false && !options.localStream;
      const stream = none ? null : await local.acquire(this.deps.mediaDevices, options);
      this.dispatch({ type: 'mediaReady', name, attempt, stream });
    } catch (error) {
      this.dispatch({ type: 'mediaFailed', name, attempt, error: asRelayError(error) });
    }
  }

  /** This client supervises the room now: no local media, it sends as `sending` says. */
  assisting(name: string, sending: SupervisorSending): void {
    this.media.set(name, {
      local: new LocalMedia(),
      session: null,
      meter: null,
      supervisor: sending,
    });
  }

  /** A supervisor's mode changed; false when this client does not supervise the room. */
  setSupervisor(name: string, sending: SupervisorSending): boolean {
    const media = this.media.get(name);
    if (!media) return false;
    media.supervisor = sending;
    media.session?.setSupervisor?.(sending);
    return true;
  }

  startScreenShare(name: string, options: ScreenShareOptions): Promise<void> {
    return this.screens.start(name, options);
  }

  sendData(name: string, participantId: string, message: object): boolean {
    return this.media.get(name)?.session?.send?.(participantId, message) ?? false;
  }

  connectionsOf(name: string): ReadonlyMap<string, RTCPeerConnection> {
    return this.media.get(name)?.session?.connections?.() ?? new Map();
  }

  run(effect: MediaEffect): void {
    const media = this.media.get(effect.name);
    switch (effect.type) {
      case 'createPeer':
        return this.session(effect.name)?.add(effect.participantId, effect.initiator);
      case 'destroyPeer':
        return media?.session?.remove(effect.participantId);
      case 'signalPeer':
        return this.session(effect.name)?.signal(effect.participantId, effect.signal);
      case 'setTrackEnabled':
        media?.local.setEnabled(effect.kind, effect.enabled);
        return media?.session?.setTrackEnabled(effect.kind, effect.enabled);
      case 'resetMedia': {
        if (!media) return;
        media.session?.destroy();
        media.session = null;
        const session = this.session(effect.name);
        for (const [id, quality] of Object.entries(effect.qualities)) {
          session?.setQuality?.(id, quality);
        }
        return;
      }
      case 'setQuality':
        return media?.session?.setQuality?.(effect.participantId, effect.quality);
      case 'stopMedia':
        this.screens.release(effect.name);
        this.media.delete(effect.name);
        media?.session?.destroy();
        media?.meter?.destroy();
        return media?.local.release();
    }
  }

  /**
   * Points each mesh room's level meter at its participants' streams (where Web Audio exists).
   * In sfu rooms the media server tells who talks.
   */
  measure(): void {
    const AudioContextClass = this.deps.AudioContext;
    if (!AudioContextClass) return;
    for (const [name, media] of this.media) {
      const room = this.room(name);
      if (room?.media === 'sfu') continue;
      const streams = new Map<string, MediaStream>();
      for (const p of Object.values(room?.participants ?? {})) {
        if (p.stream) streams.set(p.id, p.stream);
      }
      if (streams.size === 0 && !media.meter) continue;
      media.meter ??= new AudioLevelMeter(this.deps.clock, AudioContextClass, (levels) =>
        this.dispatch({ type: 'audioLevels', name, levels }),
      );
      media.meter.setStreams(streams);
    }
  }

  /** The room's MediaSession, made on first use with the room's local media. */
  private session(name: string): MediaSession | null {
    const media = this.media.get(name);
    if (!media) return null;
    const dispatch = this.dispatch;
    media.session ??= this.deps.createMediaSession({
      media: this.room(name)?.media ?? 'mesh',
      stream: media.supervisor ? null : media.local.stream,
      ...(media.supervisor ? { supervisor: media.supervisor } : {}),
      callbacks: {
        onSignal: (participantId, signal) =>
          dispatch({ type: 'peerSignal', name, participantId, signal }),
        onStream: (participantId, stream) =>
          dispatch({ type: 'peerStream', name, participantId, stream }),
        onConnected: (participantId) => dispatch({ type: 'peerConnected', name, participantId }),
        onClosed: (participantId) => dispatch({ type: 'peerClosed', name, participantId }),
        onReconnecting: (participantId, reconnecting) =>
          dispatch({ type: 'peerReconnecting', name, participantId, reconnecting }),
        onData: (participantId, message) => this.deps.onPeerData?.(name, participantId, message),
        onScreenStream: (participantId, stream) =>
          dispatch({ type: 'peerScreen', name, participantId, stream }),
        onScreenFailed: () => this.screens.failed(name),
      },
    });
    // A rejoin's new session keeps sending the screen being shared.
    const screen = this.screens.streamOf(name);
    if (screen) media.session.setScreen?.(screen);
    return media.session;
  }
}

export function asRelayError(error: unknown): RelayError {
  return error instanceof RelayError
    ? error
    : new RelayError(ErrorCodes.internal, 'Joining the room failed unexpectedly.', {
        cause: error,
      });
}
