import type { IceServer, RoomMedia, VideoQuality } from '../../protocol/index.js';
import { defaultClock } from '../clientOptions.js';
import { CandidateGate } from '../peer/CandidateGate.js';
import type { CreatePeerOptions, Peer } from '../peer/createPeer.js';
import type { ClientClock } from '../types.js';
import { MeshScreens } from './MeshScreens.js';
import { SupervisorSender, type SupervisorSending } from './supervisorSender.js';

/**
 * What a MediaSession reports, per participant. In an `sfu` session the participant id
 * `SFU_PEER` ('@sfu') stands for this client's upload to the media server.
 */
export type { SupervisorSending } from './supervisorSender.js';

export interface MediaSessionCallbacks {
  /** A signal for the participant, to send through the Relay (`room.signal`). */
  onSignal(participantId: string, data: unknown): void;
  /** The participant's media arrived. */
  onStream(participantId: string, stream: MediaStream): void;
  /** Media flows with the participant. */
  onConnected(participantId: string): void;
  /**
   * The connection with the participant closed by itself (a failure, or the other side's peer
   * went away). Not reported for `remove()` and `destroy()`.
   */
  onClosed(participantId: string): void;
  /**
   * The media path with the participant went down and ICE restarts (true), or it is back
   * (false). Optional: sessions whose connections do not restart never report it.
   */
  onReconnecting?(participantId: string, reconnecting: boolean): void;
  /** A message from the participant on the data channel (mesh rooms; in-call messages). */
  onData?(participantId: string, message: unknown): void;
  /** The participant's screen share arrived, or stopped (null). */
  onScreenStream?(participantId: string, stream: MediaStream | null): void;
  /**
   * This client's screen share could not be sent (the media server refused it, or its
   * connection failed for good): the session sends it no more.
   */
  onScreenFailed?(): void;
}

/**
 * How a room carries media between this client and the other participants: the seam between
 * the room logic and the transport. `MeshSession` peers with every participant; `SfuSession`
 * sends one upstream to the media server and receives each other participant from it.
 */
export interface MediaSession {
  /** Starts exchanging media with a participant; `initiator`: this side offers. */
  add(participantId: string, initiator: boolean): void;
  /** Stops exchanging media with a participant (no `onClosed`). */
  remove(participantId: string): void;
  /** A signal from the participant (`room.signal`). Held until `add()` when it is unknown. */
  signal(participantId: string, data: unknown): void;
  /** Turns the local track of a kind on or off without renegotiation (mute). */
  setTrackEnabled(kind: 'audio' | 'video', enabled: boolean): void;
  /** Sends `next` in place of `old` to everyone, without renegotiation (device switch). */
  replaceTrack(old: MediaStreamTrack, next: MediaStreamTrack): Promise<void>;
  /** Closes everything (no `onClosed`). The local tracks keep running: they are the caller's. */
  destroy(): void;
  /** Sends JSON to the participant on the data channel; false (nothing sent) when none is open. */
  send?(participantId: string, message: object): boolean;
  /**
   * Shares `stream` (a screen) with everyone beside the local media; null stops sharing.
   * Optional: sessions without it cannot share a screen.
   */
  setScreen?(stream: MediaStream | null): void;
  /** The peer connections now, by participant id (call quality samples their stats). */
  connections?(): ReadonlyMap<string, RTCPeerConnection>;
  /**
   * Receives the participant's video at a simulcast layer (an SFU); may come before `add()`.
   * Optional: a mesh has no layers to choose.
   */
  setQuality?(participantId: string, quality: VideoQuality): void;
  /** This client supervises the room: what it sends now (see `MediaSessionOptions.supervisor`). */
  setSupervisor?(sending: SupervisorSending): void;
}

export interface MediaSessionOptions {
  /** How the room carries media (the Relay's answer to the join): pick the session for it. */
  media: RoomMedia;
  /** The local media to send, or null to receive only. */
  stream: MediaStream | null;
  callbacks: MediaSessionCallbacks;
  /**
   * This client is in the room as a supervisor (`call.assist`): it receives everyone and sends
   * only its microphone, only where its mode is heard (`stream` is then null). Default: none.
   */
  supervisor?: SupervisorSending;
}

/** Makes the MediaSession of a room. */
export type MediaSessionFactory = (options: MediaSessionOptions) => MediaSession;

export interface MeshSessionOptions extends MediaSessionOptions {
  /** The ICE servers of now (the Relay's, once connected), read for each new peer. */
  iceServers(): IceServer[];
  createPeer(options: CreatePeerOptions): Promise<Peer>;
  /** The clock of the connect deadline. Default: the global timers. */
  clock?: ClientClock;
  /**
   * How long a new peer may take to connect, in ms, before it is made again (the side that
   * offers offers anew): a lost offer or answer, or a first ICE attempt that went nowhere, must
   * not leave a participant unconnected for good. Default: 20000.
   */
  connectTimeoutMs?: number;
  /**
   * Peers made for a participant, in a row, that may fail to connect (by the deadline, or closed
   * before connecting) before its connection is given up (`onClosed`). Default: 3.
   */
  maxConnectAttempts?: number;
}

/** Signals held per participant for a peer that does not exist yet, at most. */
const MAX_HELD = 128;

interface Entry {
  initiator: boolean;
  peer: Peer | null;
  /** Signals that arrived before the peer existed. */
  inbox: unknown[];
  /** Signals applied, as JSON: one sent again after a resume arrives twice. */
  seen: Set<string>;
  /** An offer was applied: a second one means the other side made a new peer. */
  offered: boolean;
  /** The DTLS fingerprint of the first offer: an ICE restart's offer keeps it, a new peer not. */
  fingerprint: string | undefined;
  /** Keeps another peer's (or ICE generation's) candidates from this peer. */
  gate: CandidateGate;
  /** Peers made for this participant before this one that did not connect. */
  failures: number;
  connected: boolean;
  /** The connect deadline's timer, until the peer connects. */
  deadline: unknown;
}

const isOffer = (data: unknown) => (data as { type?: unknown } | null)?.type === 'offer';
const fingerprintOf = (data: unknown) =>
  /a=fingerprint:(\S+ \S+)/.exec(String((data as { sdp?: unknown }).sdp))?.[1];

/** A mesh: one simple-peer connection per other participant, all sending the same local media. */
export class MeshSession implements MediaSession {
  private readonly entries = new Map<string, Entry>();
  /** Signals from participants not added yet (they may offer before we know them). */
  private readonly early = new Map<string, unknown[]>();
  private destroyed = false;
  /** A supervisor's peers: what each one sends. */
  private readonly supervisor: SupervisorSender | null;
  /** This client's screen share to every peer, and theirs. */
  private readonly screens: MeshScreens;

  constructor(private readonly options: MeshSessionOptions) {
    this.supervisor = options.supervisor ? new SupervisorSender(options.supervisor) : null;
    const { callbacks } = options;
    this.screens = new MeshScreens(
      (participantId, stream) => callbacks.onStream(participantId, stream),
      (participantId, stream) => callbacks.onScreenStream?.(participantId, stream),
    );
  }

  add(participantId: string, initiator: boolean): void {
    this.open(participantId, initiator, 0);
  }

  private open(participantId: string, initiator: boolean, failures: number): void {
    if (this.destroyed) return;
    // What it sent before we knew it goes to the new peer (remove() forgets it).
    const early = this.early.get(participantId) ?? [];
    this.remove(participantId);
    const entry: Entry = {
      initiator,
      peer: null,
      inbox: [],
      seen: new Set(),
      offered: false,
      fingerprint: undefined,
      gate: new CandidateGate(),
      failures,
      connected: false,
      deadline: null,
    };
    this.entries.set(participantId, entry);
    void this.start(participantId, entry);
    for (const data of early) this.signal(participantId, data);
  }

  remove(participantId: string): void {
    const entry = this.entries.get(participantId);
    this.entries.delete(participantId);
    this.early.delete(participantId);
    this.supervisor?.detach(participantId);
    this.screens.detach(participantId);
    if (entry) this.clock.clearTimeout(entry.deadline);
    entry?.peer?.destroy();
  }

  signal(participantId: string, data: unknown): void {
    if (this.destroyed) return;
    let entry = this.entries.get(participantId);
    if (!entry) {
      const held = this.early.get(participantId) ?? [];
      held.push(data);
      this.early.set(participantId, held.slice(-MAX_HELD));
      return;
    }
    const key = JSON.stringify(data);
    if (entry.seen.has(key)) return;
    const fresh = isOffer(data) && fingerprintOf(data) !== entry.fingerprint;
    if (fresh && !entry.initiator && entry.offered) {
      // A fresh offer on a negotiated connection: the other side's peer is new (it lost its
      // session and rejoined). Start over with a new peer for it.
      this.add(participantId, false);
      entry = this.entries.get(participantId)!;
    }
    entry.seen.add(key);
    if (isOffer(data) && !entry.offered) {
      entry.offered = true;
      entry.fingerprint = fingerprintOf(data);
    }
    for (const passed of entry.gate.pass(data)) {
      if (entry.peer) entry.peer.signal(passed);
      else entry.inbox.push(passed);
    }
  }

  setTrackEnabled(kind: 'audio' | 'video', enabled: boolean): void {
    for (const track of this.options.stream?.getTracks() ?? []) {
      if (track.kind === kind) track.enabled = enabled;
    }
  }

  async replaceTrack(old: MediaStreamTrack, next: MediaStreamTrack): Promise<void> {
    const stream = this.options.stream;
    if (!stream) return;
    const peers = [...this.entries.values()].flatMap((entry) => (entry.peer ? [entry.peer] : []));
    // Each peer swaps the track in the shared stream once; later ones find it swapped already.
    await Promise.all(peers.map((peer) => peer.replaceTrack(old, next, stream)));
  }

  setSupervisor(sending: SupervisorSending): void {
    this.supervisor?.set(sending);
  }

  setScreen(stream: MediaStream | null): void {
    this.screens.set(stream);
  }

  send(participantId: string, message: object): boolean {
    return this.entries.get(participantId)?.peer?.send(message) ?? false;
  }

  connections(): ReadonlyMap<string, RTCPeerConnection> {
    const peers = [...this.entries].flatMap(([id, entry]) =>
      entry.peer ? [[id, entry.peer.pc] as const] : [],
    );
    return new Map(peers);
  }

  destroy(): void {
    this.destroyed = true;
    for (const id of [...this.entries.keys()]) this.remove(id);
    this.early.clear();
    this.supervisor?.destroy();
  }

  private async start(participantId: string, entry: Entry): Promise<void> {
    const { callbacks } = this.options;
    const current = () => this.entries.get(participantId) === entry;
    let peer: Peer;
    const stream = this.supervisor ? this.supervisor.stream : this.options.stream;
    try {
      peer = await this.options.createPeer({
        initiator: entry.initiator,
        iceServers: this.options.iceServers(),
        ...(stream ? { stream } : {}),
      });
    } catch {
      // No WebRTC here, or the browser refused: the participant stays without media.
      if (!current()) return;
      this.entries.delete(participantId);
      callbacks.onClosed(participantId);
      return;
    }
    if (!current()) {
      peer.destroy();
      return;
    }
    entry.peer = peer;
    this.armDeadline(participantId, entry);
    this.supervisor?.attach(participantId, peer);
    peer.onSignal((data) => current() && callbacks.onSignal(participantId, data));
    this.screens.attach(participantId, peer, current);
    peer.onConnect(() => {
      if (!current()) return;
      entry.connected = true;
      this.clock.clearTimeout(entry.deadline);
      callbacks.onConnected(participantId);
    });
    peer.onReconnecting?.((on) => current() && callbacks.onReconnecting?.(participantId, on));
    peer.onData((message) => current() && callbacks.onData?.(participantId, message));
    peer.onError(() => undefined); // `close` follows
    peer.onClose(() => {
      if (!current()) return;
      if (!entry.connected) return this.failed(participantId, entry, true);
      this.entries.delete(participantId);
      callbacks.onClosed(participantId);
    });
    for (const data of entry.inbox.splice(0)) peer.signal(data);
  }

  /**
   * A peer did not connect by its deadline, or closed before connecting: made again, up to
   * maxConnectAttempts in a row. The offering side offers anew (a new DTLS fingerprint, which
   * makes the other side start over too); the answering side keeps waiting for that offer
   * unless its peer closed.
   */
  private failed(participantId: string, entry: Entry, closed: boolean): void {
    const failures = entry.failures + 1;
    if (failures >= (this.options.maxConnectAttempts ?? 3)) {
      this.remove(participantId);
      this.options.callbacks.onClosed(participantId);
    } else if (entry.initiator || closed) {
      this.open(participantId, entry.initiator, failures);
    } else {
      entry.failures = failures;
      this.armDeadline(participantId, entry);
    }
  }

  /** The entry's peer has connectTimeoutMs from now to connect. */
  private armDeadline(participantId: string, entry: Entry): void {
    entry.deadline = this.clock.setTimeout(
      () => this.entries.get(participantId) === entry && this.failed(participantId, entry, false),
      this.options.connectTimeoutMs ?? 20_000,
    );
  }

  private get clock(): ClientClock {
    return this.options.clock ?? defaultClock;
  }
}
