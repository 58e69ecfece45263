import { ErrorCodes, RelayError } from '../../protocol/index.js';
import { captureScreen, onStreamEnded, type DisplayMediaFn } from '../media/captureScreen.js';
import { stopStream } from '../media/getLocalMedia.js';
import type { ScreenShareOptions } from '../types.js';
import type { PeerMessage } from './callMessages.js';
import type { CallRecord, CallTable } from './CallTable.js';

/** A call's screen shares, both ways. */
export interface CallScreen {
  /** The picker is open (or the share is being set up): a second start waits for it. */
  starting: Promise<void> | null;
  /** stop() came while the picker was open: what it gives is stopped at once. */
  stopAsked: boolean;
  /** The share this side sends, or null. */
  stream: MediaStream | null;
  /** The library captured `stream` (it stops its tracks); false for an app's own stream. */
  owned: boolean;
  /** Removes the `ended` listeners of `stream`'s tracks. */
  unlisten: () => void;
  /** The id of the stream the other side announced as its share, or null. */
  remoteId: string | null;
  /** Streams received besides the first (the camera), by id: one may be announced later. */
  received: Map<string, MediaStream>;
}

function screenOf(record: CallRecord): CallScreen {
  record.screen ??= {
    starting: null,
    stopAsked: false,
    stream: null,
    owned: false,
    unlisten: () => undefined,
    remoteId: null,
    received: new Map(),
  };
  return record.screen;
}

const notShareable = (message: string) => new RelayError(ErrorCodes.invalidState, message);

/**
 * Screen sharing in calls between browsers. The share is a second stream on the call's peer
 * (added with a renegotiation through the call's signals); its stream id goes on the data
 * channel (`{ t: 'screen', id }`), since a received stream does not say what it is.
 */
export class CallScreenShares {
  constructor(
    private readonly table: CallTable,
    private readonly getDisplayMedia: DisplayMediaFn | undefined,
  ) {}

  start(callId: string, options: ScreenShareOptions): Promise<void> {
    const record = this.table.get(callId);
    const call = this.table.snapshot(callId);
    if (!record || !call || (call.state !== 'active' && call.state !== 'held') || !record.peer) {
      return Promise.reject(
        notShareable('Screen sharing needs an active call: wait until it is active, then share.'),
      );
    }
    if (call.gateway || !record.peer.addStream) {
      return Promise.reject(
        notShareable(
          'A call with a phone or SIP endpoint cannot carry a screen share: share in a call between browsers.',
        ),
      );
    }
    const screen = screenOf(record);
    if (screen.starting) return screen.starting;
    if (screen.stream) return Promise.resolve();
    screen.stopAsked = false;
    const starting = this.begin(record, screen, options).finally(() => {
      screen.starting = null;
    });
    screen.starting = starting;
    return starting;
  }

  stop(callId: string): void {
    const record = this.table.get(callId);
    const screen = record?.screen;
    if (!record || !screen) return;
    if (screen.starting) screen.stopAsked = true;
    const stream = screen.stream;
    if (!stream) return;
    this.letGo(screen);
    const peer = record.peer;
    if (peer && !peer.destroyed) {
      peer.removeStream?.(stream);
      peer.send({ t: 'screen', id: null } satisfies PeerMessage);
    }
    this.table.update(callId, { screenSharing: false, screenStream: null });
  }

  /** The call ends: its capture stops (the snapshot is cleared by the caller). */
  release(record: CallRecord): void {
    const screen = record.screen;
    if (!screen) return;
    screen.stopAsked = true;
    this.letGo(screen);
    screen.received.clear();
    screen.remoteId = null;
  }

  /** A stream arrived on the call's peer: the camera, or the other side's share. */
  onStream(record: CallRecord, stream: MediaStream): void {
    const screen = record.screen;
    if (screen?.remoteId === stream.id) {
      this.table.update(record.id, { remoteScreenStream: stream });
      return;
    }
    const call = this.table.snapshot(record.id);
    if (!call?.gateway && call?.remoteStream && call.remoteStream.id !== stream.id) {
      // Not the camera: a share whose announcement is still on its way.
      screenOf(record).received.set(stream.id, stream);
      return;
    }
    this.table.update(record.id, { remoteStream: stream });
  }

  /** The other side started (`id`: its share's stream id) or stopped (`null`) sharing. */
  onMessage(record: CallRecord, id: unknown): void {
    if (id !== null && typeof id !== 'string') return;
    const screen = screenOf(record);
    if (screen.remoteId !== null && screen.remoteId !== id) screen.received.delete(screen.remoteId);
    screen.remoteId = id;
    const call = this.table.snapshot(record.id);
    let stream = id === null ? null : (screen.received.get(id) ?? null);
    if (id !== null && call?.remoteStream?.id === id) stream = call.remoteStream;
    this.table.update(record.id, {
      remoteScreenSharing: id !== null,
      remoteScreenStream: stream,
      // The share came first and was taken for the camera: it is not.
      ...(stream && call?.remoteStream === stream ? { remoteStream: null } : {}),
    });
  }

  // Not a lazy chunk: browsers open the picker only within the click's user activation, so
  // getDisplayMedia is called synchronously from start(), with nothing to load first.
  private async begin(record: CallRecord, screen: CallScreen, options: ScreenShareOptions) {
    const stream = options.stream ?? (await captureScreen(this.getDisplayMedia, options));
    const owned = options.stream === undefined;
    const peer = record.peer;
    if (screen.stopAsked || this.table.ended(record.id) || !peer || peer.destroyed) {
      // Stopped or hung up while the picker was open: no capture may outlive it.
      if (owned) stopStream(stream);
      return;
    }
    screen.stream = stream;
    screen.owned = owned;
    // The browser's own "Stop sharing" button ends the tracks.
    screen.unlisten = onStreamEnded(stream, () => this.stop(record.id));
    // Announced first: the data channel is faster than the renegotiation through the Relay.
    peer.send({ t: 'screen', id: stream.id } satisfies PeerMessage);
    peer.addStream?.(stream);
    this.table.update(record.id, { screenSharing: true, screenStream: stream });
  }

  private letGo(screen: CallScreen): void {
    const stream = screen.stream;
    screen.stream = null;
    screen.unlisten();
    screen.unlisten = () => undefined;
    if (screen.owned) stopStream(stream);
  }
}
