import { ErrorCodes, RelayError } from '../../protocol/index.js';
import { captureScreen, onStreamEnded, type DisplayMediaFn } from '../media/captureScreen.js';
import { stopStream } from '../media/getLocalMedia.js';
import type { RoomSnapshot, ScreenShareOptions } from '../types.js';
import type { MediaSession } from './MediaSession.js';

interface Share {
  starting: Promise<void> | null;
  stopAsked: boolean;
  stream: MediaStream | null;
  owned: boolean;
  unlisten: () => void;
}

export interface RoomScreenSharesDeps {
  getDisplayMedia: DisplayMediaFn | undefined;
  room(name: string): RoomSnapshot | undefined;
  /** The room's media session now (a rejoin makes a new one), or null. */
  session(name: string): MediaSession | null;
  /** This client's share in the room started (the stream) or stopped (null; `error`: it failed). */
  shared(name: string, stream: MediaStream | null, error?: RelayError): void;
}

/** This client's screen shares in rooms: one per room, sent by the room's media session. */
export class RoomScreenShares {
  private readonly shares = new Map<string, Share>();

  constructor(private readonly deps: RoomScreenSharesDeps) {}

  start(name: string, options: ScreenShareOptions): Promise<void> {
    const room = this.deps.room(name);
    if (room?.state !== 'joined') {
      return Promise.reject(
        new RelayError(
          ErrorCodes.invalidState,
          `Screen sharing needs a joined room: join "${name}" first, then share.`,
        ),
      );
    }
    const own = room.participantId === null ? undefined : room.participants[room.participantId];
    if (own?.assist === 'monitor') {
      return Promise.reject(
        new RelayError(
          ErrorCodes.invalidState,
          'A monitoring supervisor sends nothing to the room, a screen share neither. Assist ' +
            'in whisper or barge mode first, then share.',
        ),
      );
    }
    if (!this.deps.session(name)?.setScreen) {
      return Promise.reject(
        new RelayError(
          ErrorCodes.screenShareFailed,
          "This room's media cannot carry a screen share. Share in a call, or in a room " +
            'joined with the default media.',
        ),
      );
    }
    let share = this.shares.get(name);
    if (share?.starting) return share.starting;
    if (share?.stream) return Promise.resolve();
    share = { starting: null, stopAsked: false, stream: null, owned: false, unlisten: () => {} };
    this.shares.set(name, share);
    const current = share;
    current.starting = this.begin(name, current, options).finally(() => {
      current.starting = null;
    });
    return current.starting;
  }

  stop(name: string): void {
    const share = this.shares.get(name);
    if (!share) return;
    share.stopAsked = true;
    if (!share.stream) return;
    this.release(name);
    this.deps.session(name)?.setScreen?.(null);
    this.deps.shared(name, null);
  }

  /** The room's media could not carry the share: it is over, and the capture stops. */
  failed(name: string): void {
    if (!this.shares.get(name)?.stream) return;
    this.release(name);
    this.deps.shared(
      name,
      null,
      new RelayError(
        ErrorCodes.screenShareFailed,
        "The room's media server could not carry your screen share, so it stopped. Share again; " +
          'if it stops again, leave and join the room.',
      ),
    );
  }

  /** The share a new media session of the room (a rejoin) sends from the start. */
  streamOf(name: string): MediaStream | null {
    return this.shares.get(name)?.stream ?? null;
  }

  /** The room is left: its capture stops. */
  release(name: string): void {
    const share = this.shares.get(name);
    if (!share) return;
    this.shares.delete(name);
    share.stopAsked = true;
    share.unlisten();
    if (share.owned) stopStream(share.stream);
    share.stream = null;
  }

  private async begin(name: string, share: Share, options: ScreenShareOptions) {
    const stream = options.stream ?? (await captureScreen(this.deps.getDisplayMedia, options));
    const owned = options.stream === undefined;
    const session = this.deps.session(name);
    const gone = this.shares.get(name) !== share || this.deps.room(name)?.state !== 'joined';
    if (share.stopAsked || gone || !session?.setScreen) {
      // Left or stopped while the picker was open: no capture may outlive it.
      if (owned) stopStream(stream);
      return;
    }
    share.stream = stream;
    share.owned = owned;
    share.unlisten = onStreamEnded(stream, () => this.stop(name));
    session.setScreen(stream);
    this.deps.shared(name, stream);
  }
}
