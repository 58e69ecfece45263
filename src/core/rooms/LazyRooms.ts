import { ErrorCodes, RelayError, type IceServer, type MethodParams } from '../../protocol/index.js';
import type { CreatePeerOptions, Peer } from '../peer/createPeer.js';
import type { IceRestartOptions } from '../peer/IceRestarter.js';
import type { RoomJoinOptions, RoomSnapshot } from '../types.js';
import type { MediaSessionFactory } from './MediaSession.js';
import { newRoomSnapshot } from './newRoomSnapshot.js';
import type { RoomManager, RoomManagerDeps, RoomMethod } from './RoomManager.js';

export interface LazyRoomsDeps extends Omit<RoomManagerDeps, 'createMediaSession'> {
  /**
   * How rooms carry media. Default: a MeshSession on `iceServers` and `createPeer` for mesh
   * rooms, an SfuSession on `iceServers` for sfu rooms.
   */
  createMediaSession: MediaSessionFactory | undefined;
  iceServers: () => IceServer[];
  createPeer: (options: CreatePeerOptions) => Promise<Peer>;
  /** Starts loading the peer code (a room is being joined). Default: nothing. */
  preloadPeer?: () => void;
  /** `'relay'`: TURN relay candidates only (sfu rooms; mesh peers get it from `createPeer`). */
  iceTransportPolicy: RTCIceTransportPolicy;
  /** ICE restarts of sfu rooms' connections (mesh peers get theirs from `createPeer`). */
  iceRestart?: IceRestartOptions | false | undefined;
  /** The app's peer connection constructor for sfu rooms (mesh peers get it from `createPeer`). */
  RTCPeerConnection?: typeof RTCPeerConnection | undefined;
}

/**
 * The rooms of a client, loaded on first use: the room machinery (reducer, manager, mesh and
 * SFU sessions, outbox, audio levels) is its own chunk, fetched when the app joins a room or the Relay first
 * says something about one (an invitation), so an app that only calls never loads it. Until
 * it is there, what is asked of it waits and is carried out in order.
 */
export class LazyRooms {
  private manager: RoomManager | null = null;
  private loading: Promise<RoomManager> | null = null;

  constructor(private readonly deps: LazyRoomsDeps) {}

  /** Loads the room code now (a supervisor about to assist what may be a room). */
  preload(): Promise<void> {
    return this.use(() => Promise.resolve());
  }

  joinRoom(name: string, options: RoomJoinOptions): Promise<RoomSnapshot> {
    this.deps.preloadPeer?.();
    return this.use((rooms) => rooms.joinRoom(name, options)).catch((error: unknown) => ({
      ...notJoined(name),
      error: error instanceof RelayError ? error : loadError(error),
    }));
  }

  tell<M extends RoomMethod>(
    name: string,
    method: M,
    params: Omit<MethodParams<M>, 'roomId'>,
  ): Promise<void> {
    return this.use((rooms) => rooms.tell(name, method, params));
  }

  /** Carries out `act` with the room code, loading it first if need be; rejects if it cannot. */
  use<T>(act: (rooms: RoomManager) => T | Promise<T>): Promise<T> {
    return this.manager ? Promise.resolve(act(this.manager)) : this.load().then(act);
  }

  /** Carries out `act` now when loaded, after what waits when loading, else on a fresh load. */
  run(act: (rooms: RoomManager) => void): void {
    if (this.manager) act(this.manager);
    else void this.load().then(act, () => undefined);
  }

  /** Like `run`, but only when rooms were ever used: there is nothing to do otherwise. */
  ifUsed(act: (rooms: RoomManager) => void): void {
    if (this.manager) act(this.manager);
    else if (this.loading) void this.loading.then(act, () => undefined);
  }

  /** Sends JSON on the data channel with a mesh room's participant; false when none is open. */
  sendData(name: string, participantId: string, message: object): boolean {
    return this.manager?.sendData(name, participantId, message) ?? false;
  }

  /** The room's peer connections now, by participant id; none before the room code loaded. */
  connectionsOf(name: string): ReadonlyMap<string, RTCPeerConnection> {
    return this.manager?.connectionsOf(name) ?? new Map();
  }

  /** Room notifications (every `room.*` method) go to the rooms; false for the others. */
  onNotification(method: string, params: Record<string, unknown>): boolean {
    if (!method.startsWith('room.')) return false;
    this.run((rooms) => rooms.onNotification(method, params));
    return true;
  }

  private load(): Promise<RoomManager> {
    this.loading ??= Promise.all([import('./RoomManager.js'), import('./mediaSessions.js')]).then(
      ([{ RoomManager }, { mediaSessions }]) => {
        const {
          iceServers,
          createPeer,
          iceTransportPolicy,
          iceRestart,
          createMediaSession,
          RTCPeerConnection,
          ...deps
        } = this.deps;
        const clock = deps.clock;
        this.manager = new RoomManager({
          ...deps,
          createMediaSession:
            createMediaSession ??
            mediaSessions({
              iceServers,
              createPeer,
              iceTransportPolicy,
              iceRestart,
              clock,
              RTCPeerConnection,
            }),
        });
        return this.manager;
      },
      (error: unknown) => {
        this.loading = null; // the next use tries again
        throw loadError(error);
      },
    );
    return this.loading;
  }
}

function loadError(cause: unknown): RelayError {
  return new RelayError(
    ErrorCodes.internal,
    'Could not load the room code of relaycall. Check the network and reload the page.',
    { cause },
  );
}

function notJoined(name: string): RoomSnapshot {
  return { ...newRoomSnapshot(name), state: 'left', leftReason: 'failed' };
}
