import type { StoreApi } from 'zustand/vanilla';
import {
  ErrorCodes,
  RelayError,
  Scopes,
  type Method,
  type MethodParams,
  type RoomJoinResult,
  type VideoQuality,
} from '../../protocol/index.js';
import { RequestOutbox, type SendOptions } from '../connection/RequestOutbox.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { DisplayMediaFn } from '../media/captureScreen.js';
import type { TrackProcessor } from '../media/TrackProcessor.js';
import type {
  ClientClock,
  RelayClientState,
  RoomJoinOptions,
  RoomSnapshot,
  ScreenShareOptions,
} from '../types.js';
import type { MediaSessionFactory, SupervisorSending } from './MediaSession.js';
import { RoomMediaManager, asRelayError, isMediaEffect } from './RoomMediaManager.js';
import {
  initialRoomsState,
  type RoomAction,
  type RoomEffect,
  type RoomEventName,
  type RoomServerEvent,
  type RoomsState,
} from './roomActions.js';
import { newRoomSnapshot } from './newRoomSnapshot.js';
import { roomReducer } from './roomReducer.js';

export interface RoomManagerDeps {
  store: StoreApi<RelayClientState>;
  clock: ClientClock;
  mediaDevices: MediaDevices | undefined;
  /** A signaling request; rejects with `not_connected` (nothing sent) when not connected. */
  request: RequestFn;
  /** Whether a request sent now goes out. */
  isConnected: () => boolean;
  /** Resolves once connected; rejects with `not_connected` when the client gives up. */
  whenConnected(): Promise<void>;
  /**
   * Makes each room's MediaSession, for the room's media (a MeshSession on the client's peers,
   * an SfuSession on the Relay's media server).
   */
  createMediaSession: MediaSessionFactory;
  /** Web Audio, for the active speaker of mesh rooms; none (Node): no audio levels. */
  AudioContext: typeof AudioContext | undefined;
  /** The client's track processor, for rooms whose options choose none. Default: none. */
  processTrack?: TrackProcessor | undefined;
  /** Screen capture for `startRoomScreenShare`. Default: none (sharing fails, saying why). */
  getDisplayMedia?: DisplayMediaFn | undefined;
  /** A message from a participant on a mesh room's data channel. Default: dropped. */
  onPeerData?(name: string, participantId: string, message: unknown): void;
}

const ROOM_EVENTS = new Set<string>([
  'room.joined',
  'room.updated',
  'room.left',
  'room.signal',
  'room.invited',
  'room.muted',
  'room.ended',
  'room.talking',
  'room.media',
] satisfies RoomEventName[]);

/** Requests about a joined room that the app waits for. */
export type RoomMethod = Extract<Method, 'room.invite' | 'room.mute' | 'room.remove' | 'room.end'>;

/**
 * The rooms of a client: runs the room reducer and carries out its effects (media, peers
 * through a MediaSession, requests through an outbox, timers), and publishes the rooms and
 * invitations in the client store.
 */
export class RoomManager {
  private state: RoomsState = initialRoomsState();
  private readonly outbox: RequestOutbox;
  private readonly media: RoomMediaManager;
  private readonly options = new Map<string, RoomJoinOptions>();
  private readonly waiters = new Map<string, ((room: RoomSnapshot) => void)[]>();
  private readonly timers = new Set<unknown>();
  /** Actions dispatched while effects run wait their turn, so effects run in order. */
  private readonly queue: RoomAction[] = [];
  private dispatching = false;

  constructor(private readonly deps: RoomManagerDeps) {
    this.media = new RoomMediaManager(
      deps,
      (name) => this.state.rooms[name],
      (action) => this.dispatch(action),
    );
    this.outbox = new RequestOutbox({
      clock: deps.clock,
      request: deps.request,
      isConnected: deps.isConnected,
    });
  }

  joinRoom(name: string, options: RoomJoinOptions): Promise<RoomSnapshot> {
    const room = this.state.rooms[name];
    if (room && room.state !== 'left' && room.state !== 'joining') return Promise.resolve(room);
    const joined = new Promise<RoomSnapshot>((resolve) => {
      this.waiters.set(name, [...(this.waiters.get(name) ?? []), resolve]);
    });
    if (!room || room.state === 'left') {
      this.options.set(name, options);
      const { status, scopes } = this.deps.store.getState();
      const refused =
        status === 'connected' && !scopes.includes(Scopes.joinRooms)
          ? new RelayError(
              ErrorCodes.forbidden,
              'Your token may not join rooms. Ask for a token with rooms:join.',
            )
          : undefined;
      const { metadata, media } = options;
      this.dispatch({ type: 'join', name, metadata, ...(media ? { media } : {}), refused });
    }
    return joined;
  }

  leaveRoom(name: string): void {
    this.dispatch({ type: 'leave', name });
  }

  dismissRoom(name: string): void {
    this.dispatch({ type: 'dismiss', name });
    if (!this.state.rooms[name]) this.options.delete(name);
  }

  declineRoom(roomId: string): void {
    this.dispatch({ type: 'decline', roomId });
  }

  setMuted(name: string, kind: 'audio' | 'video', muted: boolean): void {
    this.dispatch({ type: 'setMuted', name, kind, muted });
  }

  /** The simulcast layer of a participant's video to receive (sfu rooms; mesh: nothing). */
  setQuality(name: string, participantId: string, quality: VideoQuality): void {
    this.dispatch({ type: 'setQuality', name, participantId, quality });
  }

  /**
   * Sends a request about a joined room (invite, moderation); rejects with a RelayError. A room
   * this client ended is left once the Relay confirms (it tells only the others).
   */
  async tell<M extends RoomMethod>(
    name: string,
    method: M,
    params: Omit<MethodParams<M>, 'roomId'>,
  ): Promise<void> {
    const room = this.state.rooms[name];
    const internal = this.state.internal[name];
    if (!room?.id || internal?.phase !== 'in' || internal.rejoining) {
      throw new RelayError(
        ErrorCodes.invalidState,
        `Not in the room "${name}" (yet): join it first, and wait until it is joined.`,
      );
    }
    const send = this.outbox.send.bind(this.outbox) as (
      method: Method,
      params: unknown,
      options: SendOptions,
    ) => Promise<unknown>;
    await send(method, { ...params, roomId: room.id }, { key: name });
    if (method === 'room.end') this.dispatch({ type: 'ended', name, roomId: room.id });
  }

  onNotification(method: string, params: Record<string, unknown>): boolean {
    if (!ROOM_EVENTS.has(method)) return false;
    this.dispatch({ type: 'event', event: { method, params } as unknown as RoomServerEvent });
    return true;
  }

  /**
   * This client is now in a room as a supervisor (`call.assist` answered with `room`), sending
   * as `sending` says (`stream`: its microphone, if on). Called again on a mode change. Throws
   * when this client is in that room as a participant.
   */
  assist(result: RoomJoinResult, sending: SupervisorSending, stream: MediaStream | null) {
    const { name } = result;
    const room = this.state.rooms[name];
    const live = room !== undefined && room.state !== 'left';
    if (live && this.state.internal[name]?.assisting && this.media.setSupervisor(name, sending)) {
      this.dispatch({ type: 'assistChanged', result, stream });
    } else if (live) {
      throw new RelayError(
        ErrorCodes.invalidState,
        `This client is in the room "${name}" as a participant: it cannot also assist it. Leave the room first.`,
      );
    } else {
      this.media.assisting(name, sending);
      this.dispatch({ type: 'assistJoined', result, stream });
    }
    return this.state.rooms[name];
  }

  /** The assist of a room is over without a `room.leave` to send (its session is gone). */
  assistEnded(name: string, error: RelayError | null): void {
    this.dispatch({ type: 'assistEnded', name, error });
  }

  /** The socket dropped: rooms show `reconnecting` (media keeps flowing peer to peer). */
  connectionLost(): void {
    this.dispatch({ type: 'connectionLost' });
  }

  startScreenShare(name: string, options: ScreenShareOptions): Promise<void> {
    return this.media.startScreenShare(name, options);
  }

  stopScreenShare(name: string): void {
    this.media.screens.stop(name);
  }

  /** Sends JSON on the data channel with a participant (mesh rooms); false when none is open. */
  sendData(name: string, participantId: string, message: object): boolean {
    return this.media.sendData(name, participantId, message);
  }

  /** The room's peer connections now, by participant id (for their stats). */
  connectionsOf(name: string): ReadonlyMap<string, RTCPeerConnection> {
    return this.media.connectionsOf(name);
  }

  /** Connected (the store says so already): a resumed session, or a fresh one to rejoin on. */
  connected(resumed: boolean): void {
    this.outbox.connected(resumed);
    this.dispatch({ type: 'connected', resumed });
  }

  /** Leaves every room (disconnect, page hidden): each room.leave goes before the socket closes. */
  leaveAll(): void {
    for (const name of Object.keys(this.state.rooms)) this.leaveRoom(name);
  }

  /** Leaves and forgets every room, and every timer. */
  destroy(): void {
    for (const name of Object.keys(this.state.rooms)) this.dismissRoom(name);
    this.outbox.clear();
    for (const timer of this.timers) this.deps.clock.clearTimeout(timer);
    this.timers.clear();
  }

  private dispatch(action: RoomAction): void {
    this.queue.push(action);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.step(next);
    } finally {
      this.dispatching = false;
    }
  }

  private step(action: RoomAction): void {
    const before = this.state;
    const { state, effects } = roomReducer(before, action);
    this.state = state;
    if (state.rooms !== before.rooms || state.roomInvites !== before.roomInvites) {
      this.deps.store.setState({ rooms: state.rooms, roomInvites: state.roomInvites });
    }
    for (const effect of effects) this.run(effect);
    if (state.rooms !== before.rooms) {
      this.settleWaiters();
      this.media.measure();
    }
  }

  private run(effect: RoomEffect): void {
    if (isMediaEffect(effect)) return this.media.run(effect);
    switch (effect.type) {
      case 'acquireMedia':
        return void this.media.acquire(
          effect.name,
          effect.attempt,
          this.options.get(effect.name) ?? {},
        );
      case 'join':
        return void this.join(effect);
      case 'request': {
        const { method, params } = effect.request;
        this.outbox.send(method, params, { key: effect.name }).catch(() => undefined);
        return;
      }
      case 'dropRequests':
        return this.outbox.drop(effect.name);
      case 'schedule': {
        const timer = this.deps.clock.setTimeout(() => {
          this.timers.delete(timer);
          this.dispatch(effect.action);
        }, effect.delayMs);
        this.timers.add(timer);
        return;
      }
    }
  }

  /** Sends the room.join of an attempt once connected, unless the attempt is over by then. */
  private async join(effect: Extract<RoomEffect, { type: 'join' }>): Promise<void> {
    const { name, attempt } = effect;
    const current = () => {
      const internal = this.state.internal[name];
      return internal?.attempt === attempt && internal.phase === 'join';
    };
    try {
      await this.deps.whenConnected();
      if (!current()) return;
      const result = await this.outbox.send('room.join', effect.params, {
        key: name,
        wanted: current,
      });
      this.dispatch({ type: 'joined', name, attempt, result });
    } catch (error) {
      this.dispatch({ type: 'joinFailed', name, attempt, error: asRelayError(error) });
    }
  }

  /** Resolves the joinRoom() promises of rooms that are joined or left. */
  private settleWaiters(): void {
    for (const [name, waiters] of this.waiters) {
      const room = this.state.rooms[name];
      if (room?.state === 'joining') continue;
      this.waiters.delete(name);
      const settled = room ?? { ...newRoomSnapshot(name), state: 'left', leftReason: 'left' };
      for (const resolve of waiters) resolve(settled);
    }
  }
}
