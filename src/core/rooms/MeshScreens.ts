import type { Peer } from '../peer/createPeer.js';

/** A share announcement on a mesh peer's data channel (as in calls, see CallScreenShares). */
interface ScreenMessage {
  t: 'screen';
  id: string | null;
}

const isScreenMessage = (message: unknown): message is ScreenMessage =>
  (message as { t?: unknown } | null)?.t === 'screen';

interface Remote {
  /** The stream the participant announced as its share, or null. */
  announced: string | null;
  /** The first stream received: its camera. */
  camera: string | null;
  /** Other streams received, by id: a share whose announcement may come later. */
  received: Map<string, MediaStream>;
}

/**
 * Screen shares in a mesh room: this client's share goes to every peer as a second stream
 * (peers that connect later get it on connect), and each peer's announced share is told apart
 * from its camera.
 */
export class MeshScreens {
  private stream: MediaStream | null = null;
  private readonly remotes = new Map<string, Remote>();
  private readonly peers = new Map<string, Peer>();

  constructor(
    /** A participant's camera (as before screen sharing). */
    private readonly onCamera: (participantId: string, stream: MediaStream) => void,
    /** A participant's share arrived, or stopped (null). */
    private readonly onScreen: (participantId: string, stream: MediaStream | null) => void,
  ) {}

  /** Shares `stream` with every peer (null: stops sharing). */
  set(stream: MediaStream | null): void {
    const previous = this.stream;
    if (previous === stream) return;
    this.stream = stream;
    for (const peer of this.peers.values()) {
      if (!peer.connected) continue; // it gets the share once connected
      if (previous) peer.removeStream?.(previous);
      this.announce(peer);
      if (stream) peer.addStream?.(stream);
    }
  }

  /** A participant's new peer: its streams and announcements go through here. */
  attach(participantId: string, peer: Peer, current: () => boolean): void {
    this.detach(participantId);
    this.peers.set(participantId, peer);
    const remote: Remote = { announced: null, camera: null, received: new Map() };
    this.remotes.set(participantId, remote);
    peer.onConnect(() => {
      if (!current() || !this.stream) return;
      this.announce(peer);
      peer.addStream?.(this.stream);
    });
    peer.onStream((stream) => {
      if (!current()) return;
      if (stream.id === remote.announced) return this.onScreen(participantId, stream);
      if (remote.camera !== null && remote.camera !== stream.id) {
        remote.received.set(stream.id, stream);
        return;
      }
      remote.camera = stream.id;
      this.onCamera(participantId, stream);
    });
    peer.onData((message) => {
      if (!current() || !isScreenMessage(message)) return;
      const id = typeof message.id === 'string' ? message.id : null;
      remote.announced = id;
      this.onScreen(participantId, id === null ? null : (remote.received.get(id) ?? null));
    });
  }

  detach(participantId: string): void {
    this.peers.delete(participantId);
    this.remotes.delete(participantId);
  }

  private announce(peer: Peer): void {
    peer.send({ t: 'screen', id: this.stream?.id ?? null } satisfies ScreenMessage);
  }
}
