import type { StoreApi } from 'zustand/vanilla';
import type { AssistedEvent, IceServer, Supervisor } from '../../protocol/index.js';
import type { CallSnapshot, RelayClientState } from '../types.js';
import type { GatewayPeerOptions } from '../peer/createGatewayPeer.js';
import type { Peer } from '../peer/createPeer.js';
import { sendTrack, sentTrack } from './linkTracks.js';
import { mixAudio, type AudioMix } from './mixAudio.js';
import type { SignalTeller } from './SignalTeller.js';
import type { SupervisorSnapshot } from './supervisionTypes.js';

export interface PartySupervisorsDeps {
  store: StoreApi<RelayClientState>;
  iceServers(): IceServer[];
  /** A plain RTCPeerConnection peer (createGatewayPeer, with the client's ICE policy). */
  createPeer(options: GatewayPeerOptions): Promise<Peer>;
  teller: SignalTeller;
  /** This client's id of the call the Relay knows as `serverId`, if it is one of ours. */
  callIdOf(serverId: string): string | undefined;
  updateCall(callId: string, patch: Partial<CallSnapshot>): void;
  /** Web Audio, to mix a gateway call's far end into what its supervisors hear. */
  AudioContext: typeof AudioContext | undefined;
}

/** The link with one supervisor. */
interface SupervisorLink {
  /** Once created (null if it could not be). */
  ready: Promise<Peer | null>;
  peer: Peer | null;
  /** The supervisor's audio, once it arrived. */
  stream: MediaStream | null;
  /** Gateway calls: the microphone and the far end, mixed. */
  mix: AudioMix | null;
}

/** A call of ours someone supervises. */
interface Supervised {
  serverId: string;
  callId: string;
  /** Our participant id in the call (from `call.assisted`). */
  participantId: string | null;
  supervisors: Supervisor[];
  links: Map<string, SupervisorLink>;
}

/**
 * The party's side of supervision: shows who supervises each call (`CallSnapshot.supervisors`)
 * and answers each supervisor's link with the call's own tracks (shared, so mute and hold apply
 * to the supervisor too). A supervisor's audio is exposed (and enabled) only while this party
 * hears it. Links close when their supervisor leaves or the call ends.
 */
export class PartySupervisors {
  private readonly calls = new Map<string, Supervised>();
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: PartySupervisorsDeps) {
    this.unsubscribe = deps.store.subscribe(() => this.sync());
  }

  onAssisted(params: AssistedEvent): void {
    const entry = this.entry(params.callId);
    if (!entry) return;
    entry.participantId = params.participantId;
    entry.supervisors = params.supervisors;
    const listed = new Set(params.supervisors.map((s) => s.participantId));
    for (const [id, link] of entry.links) {
      if (!listed.has(id)) this.closeLink(entry, id, link);
    }
    this.publish(entry);
  }

  /** A supervisor's signal for one of our calls. */
  onSignal(serverId: string, from: string, signal: unknown): void {
    const entry = this.entry(serverId);
    if (!entry) return;
    const current = entry.links.get(from) ?? this.open(entry, from);
    // In order, once the peer exists.
    void current.ready.then((peer) => peer?.signal(signal));
  }

  /** The Relay lost our session: its supervisors are gone with it. */
  sessionLost(): void {
    for (const entry of [...this.calls.values()]) this.drop(entry);
  }

  destroy(): void {
    this.unsubscribe();
    this.sessionLost();
  }

  private entry(serverId: string): Supervised | undefined {
    const callId = this.deps.callIdOf(serverId);
    const call = callId === undefined ? undefined : this.deps.store.getState().calls[callId];
    if (!callId || !call || call.state === 'ended') return undefined;
    let entry = this.calls.get(serverId);
    if (!entry || entry.callId !== callId) {
      entry = { serverId, callId, participantId: null, supervisors: [], links: new Map() };
      this.calls.set(serverId, entry);
    }
    return entry;
  }

  /** Answers a supervisor's link with the call's tracks (a gateway call: mixed with the far end). */
  private open(entry: Supervised, supervisorId: string): SupervisorLink {
    const call = this.deps.store.getState().calls[entry.callId];
    const local = call?.localStream ?? null;
    const far = call?.gateway ? call.remoteStream?.getAudioTracks()[0] : undefined;
    const mix = far
      ? mixAudio(this.deps.AudioContext, local?.getAudioTracks()[0] ?? null, [far])
      : null;
    const stream = mix ? new MediaStream([mix.track, ...(local?.getVideoTracks() ?? [])]) : local;
    const { serverId } = entry;
    const current: SupervisorLink = { ready: Promise.resolve(null), peer: null, stream: null, mix };
    const alive = () => entry.links.get(supervisorId) === current;
    entry.links.set(supervisorId, current);
    const created = (peer: Peer) => {
      if (!alive()) {
        peer.destroy();
        return null;
      }
      current.peer = peer;
      peer.onSignal((signal) =>
        this.deps.teller.tell({ callId: serverId, to: supervisorId, signal }, alive),
      );
      peer.onStream((received) => {
        current.stream = received;
        this.publish(entry);
      });
      peer.onClose(() => {
        if (!alive()) return;
        this.closeLink(entry, supervisorId, current);
        this.publish(entry);
      });
      return peer;
    };
    current.ready = this.deps
      .createPeer({
        initiator: false,
        iceServers: this.deps.iceServers(),
        ...(stream ? { stream } : {}),
        farEnd: 'the supervisor',
      })
      .then(created, () => {
        // No WebRTC here: the supervisor cannot hear this party; the call goes on.
        if (alive()) this.closeLink(entry, supervisorId, current);
        return null;
      });
    return current;
  }

  private closeLink(entry: Supervised, id: string, link: SupervisorLink): void {
    entry.links.delete(id);
    link.peer?.destroy();
    void link.ready.then((peer) => peer?.destroy());
    link.mix?.close();
  }

  /** Forgets a call: closes its links and clears its supervisors. */
  private drop(entry: Supervised): void {
    this.calls.delete(entry.serverId);
    for (const [id, link] of entry.links) this.closeLink(entry, id, link);
    const call = this.deps.store.getState().calls[entry.callId];
    if (call && call.supervisors.length > 0)
      this.deps.updateCall(entry.callId, { supervisors: [] });
  }

  /** Puts the call's supervisors in its snapshot; only those this party hears may be played. */
  private publish(entry: Supervised): void {
    const supervisors = entry.supervisors.map((supervisor): SupervisorSnapshot => {
      const heard =
        supervisor.mode === 'barge' ||
        (supervisor.mode === 'whisper' && supervisor.agent === entry.participantId);
      const link = entry.links.get(supervisor.participantId);
      // Defense in depth: a supervisor this party must not hear is silenced even if it sends.
      for (const receiver of link?.peer?.pc.getReceivers() ?? []) {
        if (receiver.track.kind === 'audio') receiver.track.enabled = heard;
      }
      return { ...supervisor, heard, stream: heard ? (link?.stream ?? null) : null };
    });
    this.deps.updateCall(entry.callId, { supervisors });
  }

  /** Follows the calls: an ended call drops its links; a switched device is sent on them too. */
  private sync(): void {
    const { calls } = this.deps.store.getState();
    for (const entry of [...this.calls.values()]) {
      const call = calls[entry.callId];
      if (!call || call.state === 'ended') {
        this.drop(entry);
        continue;
      }
      const mic = call.localStream?.getAudioTracks()[0] ?? null;
      const camera = call.localStream?.getVideoTracks()[0] ?? null;
      for (const { peer, mix } of entry.links.values()) {
        if (mix) mix.setMic(mic);
        if (!peer) continue;
        const { pc } = peer;
        if (!mix && mic && sentTrack(pc, 'audio') !== mic) void switched(pc, 'audio', mic);
        if (camera && sentTrack(pc, 'video') !== camera) void switched(pc, 'video', camera);
      }
    }
  }
}

/** A switched device sent on a link too (a refusal leaves the old track: nothing else to do). */
const switched = (pc: RTCPeerConnection, kind: 'audio' | 'video', track: MediaStreamTrack) =>
  sendTrack(pc, kind, track).catch(() => undefined);
