/**
 * A stand-in RelayClient for the scripted room stories: it implements the RelayClient interface
 * over a writable zustand store, and "joins" rooms without any Relay. Scripts then put the other
 * participants in (joining, speaking, muting, going away, leaving) with `participant()`,
 * `update()` and `remove()`. Their cameras are animated canvases (syntheticMedia).
 */
import type {
  DeviceManager,
  DevicesState,
  ParticipantSnapshot,
  QualityState,
  RelayClient,
  RelayClientState,
  RoomJoinOptions,
  RoomSnapshot,
} from 'relaycall';
import { ErrorCodes, RelayError } from 'relaycall';
import { createStore, type StoreApi } from 'zustand/vanilla';
import { syntheticMedia, type SyntheticMedia } from './syntheticMedia.js';

/** `record` without `key`. */
function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

const notHere = () =>
  new RelayError(ErrorCodes.invalidState, 'Scripted room stories place no calls.');

function initialState(resource: string): RelayClientState {
  return {
    status: 'connected',
    error: null,
    sessionId: 'scripted',
    resource,
    scopes: ['rooms:join', 'rooms:moderate'],
    expiresAt: null,
    clockOffset: 0,
    iceServers: [],
    calls: {},
    rooms: {},
    roomInvites: {},
    assists: {},
    callList: { status: 'idle', calls: {}, truncated: false, error: null },
    messages: {},
  };
}

function fakeDevices(): DeviceManager {
  const store = createStore<DevicesState>(() => ({
    audioInputs: [],
    videoInputs: [],
    audioOutputs: [],
    permissions: { microphone: 'granted', camera: 'granted' },
    canSelectAudioOutput: false,
    error: null,
  }));
  return {
    store,
    refresh: async () => undefined,
    requestPermission: async () => undefined,
    destroy: () => undefined,
  };
}

/** What a scripted participant starts as; `id` and `resource` are required. */
export type ParticipantInit = Partial<ParticipantSnapshot> & { id: string; resource: string };

export class FakeRoomClient implements RelayClient {
  readonly store: StoreApi<RelayClientState>;
  readonly devices = fakeDevices();
  /** Call quality, scripted: nothing is sampled (stories set the store themselves). */
  readonly quality = createStore<QualityState>(() => ({ calls: {}, rooms: {}, warnings: [] }));
  readonly watchCallStats = () => () => undefined;
  readonly watchRoomStats = () => () => undefined;
  readonly onQualityWarning = () => () => undefined;
  private readonly media = new Map<string, SyntheticMedia>();
  private hue = 20;

  constructor(readonly resource: string) {
    this.store = createStore<RelayClientState>(() => initialState(resource));
  }

  /** Replaces the room `name` with `patch` applied (nothing when the room is gone). */
  private patchRoom(name: string, patch: (room: RoomSnapshot) => Partial<RoomSnapshot>): void {
    this.store.setState((state) => {
      const room = state.rooms[name];
      if (!room) return state;
      return { rooms: { ...state.rooms, [name]: { ...room, ...patch(room) } } };
    });
  }

  /**
   * An animated canvas with `label` on it, stopped when the client is destroyed. Video only: a
   * silent audio track would make the browser refuse to autoplay the tiles until a click.
   */
  camera(id: string, label: string): MediaStream {
    let media = this.media.get(id);
    if (!media) {
      const canvas = syntheticMedia(label, (this.hue += 47) % 360);
      media = { stream: new MediaStream(canvas.stream.getVideoTracks()), stop: canvas.stop };
      this.media.set(id, media);
    }
    return media.stream;
  }

  /** Adds (or replaces) a participant of the room `name`; joined ones get a camera. */
  participant(name: string, init: ParticipantInit): void {
    const stream = init.state === 'ringing' ? null : this.camera(init.id, init.resource);
    const participant: ParticipantSnapshot = {
      state: 'joined',
      isLocal: false,
      metadata: null,
      audioMuted: false,
      videoMuted: false,
      moderator: false,
      stream,
      screenStream: null,
      connected: true,
      reconnecting: false,
      speaking: false,
      assist: null,
      agent: null,
      ...init,
    };
    this.patchRoom(name, (room) => ({
      participants: { ...room.participants, [init.id]: participant },
    }));
  }

  /** Changes a participant of the room `name`. */
  update(name: string, id: string, patch: Partial<ParticipantSnapshot>): void {
    this.patchRoom(name, (room) => {
      const current = room.participants[id];
      if (!current) return {};
      const stream =
        current.stream ?? (patch.state === 'joined' ? this.camera(id, current.resource) : null);
      return { participants: { ...room.participants, [id]: { ...current, stream, ...patch } } };
    });
  }

  /** A participant leaves the room `name`. */
  remove(name: string, id: string): void {
    this.patchRoom(name, (room) => {
      return {
        participants: without(room.participants, id),
        activeSpeakerId: room.activeSpeakerId === id ? null : room.activeSpeakerId,
      };
    });
  }

  /** `id` speaks (and becomes the active speaker); null: silence. */
  speak(name: string, id: string | null): void {
    this.patchRoom(name, (room) => ({
      activeSpeakerId: id ?? room.activeSpeakerId,
      participants: Object.fromEntries(
        Object.values(room.participants).map((p) => [p.id, { ...p, speaking: p.id === id }]),
      ),
    }));
  }

  async joinRoom(name: string, options?: RoomJoinOptions): Promise<RoomSnapshot> {
    const existing = this.store.getState().rooms[name];
    if (existing && existing.state !== 'left') return existing;
    const localStream = options?.localStream ?? this.camera('local', 'You');
    const local: ParticipantSnapshot = {
      id: 'local',
      resource: this.resource,
      state: 'joined',
      isLocal: true,
      metadata: options?.metadata ?? null,
      audioMuted: false,
      videoMuted: false,
      moderator: true,
      stream: localStream,
      screenStream: null,
      connected: true,
      reconnecting: false,
      speaking: false,
      assist: null,
      agent: null,
    };
    const room: RoomSnapshot = {
      name,
      id: `scripted-${name}`,
      state: 'joined',
      participantId: local.id,
      participants: { [local.id]: local },
      localStream,
      screenStream: null,
      screenShareError: null,
      audioMuted: false,
      videoMuted: false,
      activeSpeakerId: null,
      maxParticipants: 8,
      media: 'mesh',
      leftReason: null,
      error: null,
    };
    this.store.setState((state) => ({ rooms: { ...state.rooms, [name]: room } }));
    return room;
  }

  leaveRoom(name: string): void {
    this.patchRoom(name, () => ({ state: 'left', leftReason: 'left', participants: {} }));
  }

  async inviteToRoom(name: string, to: string): Promise<void> {
    this.participant(name, { id: `invited-${to}`, resource: to, state: 'ringing' });
  }

  declineRoom(roomId: string): void {
    this.store.setState((state) => ({ roomInvites: without(state.roomInvites, roomId) }));
  }

  setRoomAudioMuted(name: string, muted: boolean): void {
    this.patchRoom(name, () => ({ audioMuted: muted }));
    this.update(name, 'local', { audioMuted: muted });
  }

  setRoomVideoMuted(name: string, muted: boolean): void {
    this.patchRoom(name, () => ({ videoMuted: muted }));
    this.update(name, 'local', { videoMuted: muted });
  }

  async muteParticipant(name: string, id: string, kind: 'audio' | 'video'): Promise<void> {
    this.update(name, id, kind === 'audio' ? { audioMuted: true } : { videoMuted: true });
  }

  async removeParticipant(name: string, id: string): Promise<void> {
    this.remove(name, id);
  }

  async endRoom(name: string): Promise<void> {
    this.patchRoom(name, () => ({ state: 'left', leftReason: 'ended', participants: {} }));
  }

  dismissRoom(name: string): void {
    this.store.setState((state) => ({ rooms: without(state.rooms, name) }));
  }

  setRoomQuality(): void {}

  async connect(): Promise<void> {}
  async updateToken(): Promise<void> {}
  onTokenExpiring(): () => void {
    return () => {};
  }
  disconnect(): void {}
  call(): string {
    throw notHere();
  }
  async answer(): Promise<void> {
    throw notHere();
  }
  reject(): void {}
  hangup(): void {}
  setAudioMuted(): void {}
  setVideoMuted(): void {}
  setHeld(): void {}
  sendDtmf(): void {}
  async transfer(): Promise<void> {
    throw notHere();
  }
  async switchDevice(): Promise<void> {}
  setAudioOutput(): void {}
  dismiss(): void {}
  async setTrackProcessor(): Promise<void> {}
  async startScreenShare(): Promise<void> {}
  async startRoomScreenShare(): Promise<void> {}
  stopRoomScreenShare(): void {}
  stopScreenShare(): void {}
  async sendMessage(): Promise<never> {
    throw notHere();
  }
  async assist(): Promise<never> {
    throw notHere();
  }
  stopAssist(): void {}
  async listCalls(): Promise<never> {
    throw notHere();
  }
  watchCalls(): () => void {
    return () => undefined;
  }
  async refreshCallList(): Promise<void> {}

  destroy(): void {
    for (const media of this.media.values()) media.stop();
    this.media.clear();
  }
}
