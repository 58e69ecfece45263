import type { StoreApi } from 'zustand/vanilla';
import type {
  AssistMode,
  AssistParams,
  AssistedEvent,
  CallParty,
  IceServer,
  RelayError,
} from '../../protocol/index.js';
import { lostWithConnection } from '../connection/connectionErrors.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { ClientClock, RelayClientState } from '../types.js';
import { assistEnded, assistError, sessionGone } from './assistErrors.js';
import { openMic, withNewAssist, type AssistMic } from './assistSnapshots.js';
import type { GatewayPeerOptions } from '../peer/createGatewayPeer.js';
import type { Peer } from '../peer/createPeer.js';
import { sendTrack } from './linkTracks.js';
import { RoomAssists, type RoomSending } from './RoomAssists.js';
import type { LazyRooms } from '../rooms/LazyRooms.js';
import type { SignalTeller } from './SignalTeller.js';
import type { AssistOptions, AssistParty, AssistSnapshot } from './supervisionTypes.js';

export interface AssistsDeps {
  store: StoreApi<RelayClientState>;
  clock: ClientClock;
  mediaDevices: MediaDevices | undefined;
  request: RequestFn;
  /** Resolves once connected; rejects with `not_connected` when the client gives up. */
  whenConnected(): Promise<void>;
  iceServers(): IceServer[];
  /** A plain RTCPeerConnection peer (createGatewayPeer, with the client's ICE policy). */
  createPeer(options: GatewayPeerOptions): Promise<Peer>;
  teller: SignalTeller;
  /** The client's room machinery, for the rooms it assists. */
  rooms: LazyRooms;
}

/** What a supervisor's link negotiates: it may speak (once a mode gives it a track), and sees. */
const SUPERVISOR_MEDIA: GatewayPeerOptions['transceivers'] = [
  { kind: 'audio', direction: 'sendrecv' },
  { kind: 'video', direction: 'recvonly' },
];

/** What the supervisor keeps per assisted call beside its snapshot. */
interface AssistRecord {
  callId: string;
  /** One link per party, by participant id. */
  links: Map<string, Peer>;
  mic: AssistMic | null;
  micLoading: Promise<AssistMic> | null;
  /** The last operation asked for (a join or a mode change), in flight until settled. */
  pending: { mode: AssistMode; agent: string | undefined; promise: Promise<AssistSnapshot> } | null;
  /** Operations run one after the other. */
  queue: Promise<unknown>;
  /** The Relay accepted the assist (a hangup is then owed when leaving). */
  joined: boolean;
  ended: boolean;
}

/** The supervisor's side: assisting calls, one media link per party. */
export class Assists {
  private readonly records = new Map<string, AssistRecord>();
  /** Hangups lost with the connection, sent again once the session resumes. */
  private lostHangups: string[] = [];
  /** Assisted rooms: this client is one of their participants (the room machinery). */
  private readonly rooms: RoomAssists;

  constructor(private readonly deps: AssistsDeps) {
    this.rooms = new RoomAssists({
      store: deps.store,
      rooms: deps.rooms,
      patch: (callId, patch) => {
        const record = this.records.get(callId);
        if (record) this.patch(record, patch);
      },
      ended: (callId, error) => {
        const record = this.live(callId);
        if (record) this.end(record, error);
      },
    });
  }

  assist(callId: string, mode: AssistMode, options: AssistOptions): Promise<AssistSnapshot> {
    const live = this.records.get(callId);
    if (live && !live.ended) {
      const { pending } = live;
      if (pending && pending.mode === mode && pending.agent === options.agent) {
        return pending.promise; // a double click
      }
      return this.enqueue(live, mode, options, () => this.change(live, mode, options));
    }
    const record = this.open(callId, mode);
    return this.enqueue(record, mode, options, () => this.join(record, mode, options));
  }

  stopAssist(callId: string): void {
    const record = this.records.get(callId);
    if (!record || record.ended) return;
    if (record.joined) this.leave(callId);
    this.end(record, null);
  }

  /** `call.assisted` to this supervisor; false when the call is not assisted here. */
  onAssisted(params: AssistedEvent): boolean {
    const record = this.live(params.callId);
    if (!record) return false;
    const own = params.supervisors.find((s) => s.participantId === params.participantId);
    const agent = own ? (own.mode === 'whisper' ? (own.agent ?? null) : null) : undefined;
    const before = this.snapshot(record);
    this.patch(record, {
      supervisors: params.supervisors,
      participantId: params.participantId,
      ...(agent !== undefined && agent !== null ? { agent } : {}),
    });
    if (agent && before?.agent !== agent) void this.applyMode(record).catch(() => undefined);
    return true;
  }

  /** A party's signal (`call.signal` with `from`); false when the call is not assisted here. */
  onSignal(callId: string, from: string, signal: unknown): boolean {
    const record = this.live(callId);
    if (!record) return false;
    record.links.get(from)?.signal(signal);
    return true;
  }

  /** The assisted call ended; false when the call is not assisted here. */
  onEnded(callId: string): boolean {
    const record = this.live(callId);
    if (!record) return false;
    this.end(record, null);
    return true;
  }

  /**
   * A fresh session: the Relay made every assist of the old one leave. Those still waiting for
   * the connection go on, on the new session.
   */
  sessionLost(): void {
    this.lostHangups = [];
    for (const record of this.records.values()) {
      if (!record.joined) continue;
      this.rooms.gone(record.callId, sessionGone());
      this.end(record, sessionGone());
    }
  }

  resumed(): void {
    for (const callId of this.lostHangups.splice(0)) this.hangup(callId);
  }

  /** The client disconnects: leave every assisted call. */
  endAll(): void {
    for (const record of [...this.records.values()]) this.stopAssist(record.callId);
  }

  private live(callId: string): AssistRecord | undefined {
    const record = this.records.get(callId);
    return record && !record.ended ? record : undefined;
  }

  private enqueue(
    record: AssistRecord,
    mode: AssistMode,
    options: AssistOptions,
    step: () => Promise<AssistSnapshot>,
  ): Promise<AssistSnapshot> {
    const promise = record.queue.then(step, step);
    record.queue = promise.catch(() => undefined);
    record.pending = { mode, agent: options.agent, promise };
    const settled = () => {
      if (record.pending?.promise === promise) record.pending = null;
    };
    promise.then(settled, settled);
    return promise;
  }

  private open(callId: string, mode: AssistMode): AssistRecord {
    const record: AssistRecord = {
      callId,
      links: new Map(),
      mic: null,
      micLoading: null,
      pending: null,
      queue: Promise.resolve(),
      joined: false,
      ended: false,
    };
    this.records.set(callId, record);
    const { assists } = this.deps.store.getState();
    this.deps.store.setState({ assists: withNewAssist(assists, callId, mode) });
    return record;
  }

  private async join(record: AssistRecord, mode: AssistMode, options: AssistOptions) {
    const { callId } = record;
    try {
      await this.deps.whenConnected();
      if (mode !== 'monitor') await this.microphone(record, mode, options);
      await this.rooms.preload(); // the id may be a room's
      if (record.ended) throw assistEnded(callId);
      const result = await this.deps.request('call.assist', this.params(callId, mode, options));
      record.joined = true;
      if (result.room) {
        this.patch(record, { state: 'assisting', participantId: result.participantId, mode });
        await this.rooms.assisted(callId, result.room, this.sending(record, mode));
        if (record.ended) throw assistEnded(callId);
        return this.snapshot(record)!;
      }
      if (record.ended) {
        this.hangup(callId); // stopped while the Relay was answering
        throw assistEnded(callId);
      }
      const parties = result.parties.map((party: CallParty): AssistParty => ({
        ...party,
        stream: null,
        connected: false,
      }));
      // call.assisted may have come first and named the agent already.
      const agent = this.agentOf(parties, mode, options.agent) ?? this.snapshot(record)?.agent;
      const { participantId } = result;
      this.patch(record, {
        state: 'assisting',
        participantId,
        parties,
        mode,
        agent: agent ?? null,
      });
      await Promise.all(parties.map((party) => this.link(record, party.participantId)));
      await this.applyMode(record);
      return this.snapshot(record)!;
    } catch (error) {
      const relayError = assistError(error);
      // Joined, or maybe joined (the reply was lost): leave, so nobody shows a ghost supervisor.
      if (!record.ended && (record.joined || lostWithConnection(error))) this.leave(callId);
      this.end(record, relayError);
      throw relayError;
    }
  }

  private async change(record: AssistRecord, mode: AssistMode, options: AssistOptions) {
    const { callId } = record;
    const current = this.snapshot(record);
    if (record.ended || !current) throw assistEnded(callId);
    const agent = this.agentOf(current.parties, mode, options.agent);
    if (current.mode === mode && (mode !== 'whisper' || !options.agent || agent === current.agent))
      return current;
    try {
      if (mode !== 'monitor') await this.microphone(record, mode, options);
      await this.deps.whenConnected();
      if (record.ended) throw assistEnded(callId);
      const result = await this.deps.request('call.assist', this.params(callId, mode, options));
      if (record.ended) throw assistEnded(callId);
      if (result.room && this.rooms.isRoom(callId)) {
        this.patch(record, { error: null });
        await this.rooms.assisted(callId, result.room, this.sending(record, mode));
        return this.snapshot(record)!;
      }
      const whisperTo = mode === 'whisper' ? (agent ?? current.agent) : null;
      this.patch(record, { mode, agent: whisperTo, error: null });
      await this.applyMode(record);
      return this.snapshot(record)!;
    } catch (error) {
      const relayError = assistError(error);
      if (!record.ended) this.patch(record, { error: relayError });
      // Refused its first whisper or barge: the microphone is not left on for nothing.
      if (this.snapshot(record)?.mode === 'monitor') this.releaseMic(record);
      throw relayError;
    }
  }

  private params(callId: string, mode: AssistMode, options: AssistOptions): AssistParams {
    return {
      callId,
      mode,
      ...(mode === 'whisper' && options.agent ? { agent: options.agent } : {}),
    };
  }

  /** The agent's participant id: the one asked for (by id or resource), or the only party. */
  private agentOf(parties: AssistParty[], mode: AssistMode, asked: string | undefined) {
    if (mode !== 'whisper') return null;
    if (asked === undefined) return parties.length === 1 ? parties[0]!.participantId : undefined;
    const party =
      parties.find((p) => p.participantId === asked) ?? parties.find((p) => p.resource === asked);
    return party?.participantId ?? asked;
  }

  /** Acquires the microphone once per assist (or takes the app's stream). */
  private async microphone(record: AssistRecord, mode: AssistMode, options: AssistOptions) {
    if (record.mic) return;
    record.micLoading ??= openMic(this.deps.mediaDevices, mode, options);
    let mic: AssistMic;
    try {
      mic = await record.micLoading;
    } finally {
      record.micLoading = null;
    }
    if (record.ended) {
      if (mic.owned) for (const track of mic.stream.getTracks()) track.stop();
      throw assistEnded(record.callId);
    }
    record.mic = mic;
    this.patch(record, { localStream: mic.stream });
  }

  /** Puts the microphone on the links the mode says, nothing on the others. */
  private async applyMode(record: AssistRecord): Promise<void> {
    const snapshot = this.snapshot(record);
    if (!snapshot || record.ended) return;
    const mic = record.mic?.stream.getAudioTracks()[0] ?? null;
    const heard = (participantId: string) =>
      snapshot.mode === 'barge' ||
      (snapshot.mode === 'whisper' && participantId === snapshot.agent);
    await Promise.all(
      [...record.links].map(([id, peer]) => sendTrack(peer.pc, 'audio', heard(id) ? mic : null)),
    );
  }

  /** The link with one party: the supervisor offers. Rejects where there is no WebRTC. */
  private async link(record: AssistRecord, participantId: string): Promise<void> {
    const { callId } = record;
    const peer = await this.deps.createPeer({
      initiator: true,
      iceServers: this.deps.iceServers(),
      transceivers: SUPERVISOR_MEDIA,
      farEnd: 'this party of the assisted call',
    });
    if (record.ended) return peer.destroy();
    record.links.set(participantId, peer);
    const alive = () => !record.ended && record.links.get(participantId) === peer;
    peer.onSignal((signal) => this.deps.teller.tell({ callId, to: participantId, signal }, alive));
    peer.onStream((stream) => this.patchParty(record, participantId, { stream }));
    peer.onConnect(() => this.patchParty(record, participantId, { connected: true }));
    peer.onError((error) => {
      if (alive()) this.patch(record, { error });
    });
    peer.onClose(() => {
      if (!alive()) return;
      record.links.delete(participantId);
      this.patchParty(record, participantId, { connected: false, stream: null });
    });
  }

  /** What a supervisor in a room sends in `mode`: its microphone, unless it monitors. */
  private sending(record: AssistRecord, mode: AssistMode): RoomSending {
    return { mode, stream: mode === 'monitor' ? null : (record.mic?.stream ?? null) };
  }

  /** Leaves an assisted call (`call.hangup`) or room (`room.leave`). */
  private leave(callId: string): void {
    if (this.rooms.isRoom(callId)) this.rooms.leave(callId);
    else this.hangup(callId);
  }

  private hangup(callId: string): void {
    this.deps.request('call.hangup', { callId }).catch((error: unknown) => {
      if (lostWithConnection(error)) this.lostHangups.push(callId);
    });
  }

  private end(record: AssistRecord, error: RelayError | null): void {
    if (record.ended) return;
    record.ended = true;
    for (const peer of record.links.values()) peer.destroy();
    record.links.clear();
    this.releaseMic(record);
    const parties = this.snapshot(record)?.parties ?? [];
    this.patch(record, {
      state: 'ended',
      error,
      localStream: null,
      parties: parties.map((party) => ({ ...party, stream: null, connected: false })),
    });
  }

  /** Stops the microphone the assist acquired (the app's own stream is the app's to stop). */
  private releaseMic(record: AssistRecord): void {
    if (!record.mic) return;
    if (record.mic.owned) for (const track of record.mic.stream.getTracks()) track.stop();
    record.mic = null;
    this.patch(record, { localStream: null });
  }

  private snapshot(record: AssistRecord): AssistSnapshot | undefined {
    return this.deps.store.getState().assists[record.callId];
  }

  private patch(record: AssistRecord, patch: Partial<AssistSnapshot>): void {
    const assists = this.deps.store.getState().assists;
    const current = assists[record.callId];
    if (!current || this.records.get(record.callId) !== record) return;
    if (current.state === 'ended' && patch.state !== 'ended') return;
    this.deps.store.setState({
      assists: { ...assists, [record.callId]: { ...current, ...patch } },
    });
  }

  private patchParty(record: AssistRecord, participantId: string, patch: Partial<AssistParty>) {
    const parties = this.snapshot(record)?.parties ?? [];
    this.patch(record, {
      parties: parties.map((p) => (p.participantId === participantId ? { ...p, ...patch } : p)),
    });
  }
}
