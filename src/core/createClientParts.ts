import type { StoreApi } from 'zustand/vanilla';
import { ErrorCodes, RelayError, type IceServer } from '../protocol/index.js';
import { CallManager } from './calls/CallManager.js';
import { audioContextOf, type RelayClientOptions } from './clientOptions.js';
import type { RequestFn } from './connection/RpcConnection.js';
import { ROOM_WORDING, type WaitWording } from './connection/waitForConnection.js';
import { displayMediaOf } from './media/captureScreen.js';
import type { createGatewayPeer } from './peer/createGatewayPeer.js';
import type { createPeer } from './peer/createPeer.js';
import { LazyMessaging } from './messages/LazyMessaging.js';
import { LazyRooms } from './rooms/LazyRooms.js';
import { LazyStats } from './stats/LazyStats.js';
import { LazySupervision } from './supervision/LazySupervision.js';
import type { ClientClock, RelayClientState } from './types.js';

/** What the client's parts ask of the client: its store, its connection. */
export interface ClientHost {
  state: StoreApi<RelayClientState>;
  clock: ClientClock;
  mediaDevices: MediaDevices | undefined;
  /** A request on the connection; rejects with `not_connected` when there is none. */
  request: RequestFn;
  /** The ICE servers new peers use now (the Relay's, once connected). */
  iceServers: () => IceServer[];
  isConnected: () => boolean;
  /** Resolves once connected; rejects with `not_connected` (worded per `wording`) on giving up. */
  whenConnected(wording?: WaitWording): Promise<void>;
}

/** The calls, rooms and supervision of one client. */
export interface ClientParts {
  calls: CallManager;
  rooms: LazyRooms;
  supervision: LazySupervision;
  /** Call quality: stats sampling and warnings (loaded on the first watch). */
  stats: LazyStats;
  /** In-call messages, on data channels or through the Relay (loaded on first use). */
  messages: LazyMessaging;
}

/**
 * Builds a client's calls, rooms and supervision, wired together, with the peers they create
 * (per the client's ICE policy; the gateway peer's code loaded on the first gateway call, so apps
 * that never make one do not carry it).
 */
export function createClientParts(options: RelayClientOptions, host: ClientHost): ClientParts {
  const { state: store, clock, mediaDevices, request, iceServers, isConnected } = host;
  const iceTransportPolicy = options.iceTransportPolicy ?? 'all';
  const AudioContext = audioContextOf(options);
  const getDisplayMedia = displayMediaOf(options.getDisplayMedia, mediaDevices);
  // The app's WebRTC (React Native's, say) for every connection, unless a peer factory overrides.
  const webrtc = options.RTCPeerConnection ? { RTCPeerConnection: options.RTCPeerConnection } : {};
  // The peer code (and simple-peer behind it) is loaded with the first call or room, not the
  // page: preloaded when one starts, so it arrives while the camera opens.
  const loadPeer = () => chunk(import('./peer/createPeer.js'));
  // A failed load is reported by the first peer that needs it.
  const ignoreLoadError = () => undefined;
  const preloadPeer = () => {
    if (options.createPeer) return;
    loadPeer().then((m) => m.preloadPeer(), ignoreLoadError);
  };
  const peer: typeof createPeer = async (peerOptions) =>
    (options.createPeer ?? (await loadPeer()).createPeer)({
      ...webrtc,
      ...peerOptions,
      iceTransportPolicy,
      clock,
      ...(options.iceRestart === undefined ? {} : { iceRestart: options.iceRestart }),
    });
  const gatewayPeer: typeof createGatewayPeer = async (peerOptions) => {
    const create =
      options.createGatewayPeer ??
      (await chunk(import('./peer/createGatewayPeer.js'))).createGatewayPeer;
    return create({ ...webrtc, ...peerOptions, iceTransportPolicy });
  };
  // Gateway calls restart ICE as browser calls do; supervision links (browser to browser) do not.
  const gatewayCallPeer: typeof createGatewayPeer = (peerOptions) =>
    gatewayPeer({ ...peerOptions, clock, iceRestart: options.iceRestart ?? {} });
  // Messages reach calls and rooms made below, once made.
  const messages: LazyMessaging = new LazyMessaging({
    store,
    clock,
    request,
    callRoute: (callId) => calls.messageRoute(callId),
    localCallId: (serverId) => calls.localIdOf(serverId),
    sendToRoomPeer: (name, participantId, message) => rooms.sendData(name, participantId, message),
  });
  const calls = new CallManager({
    store,
    clock,
    onMessage: (callId, message) => messages.fromCallPeer(callId, message),
    mediaDevices,
    createPeer: peer,
    preloadPeer,
    createGatewayPeer: gatewayCallPeer,
    getDisplayMedia,
    noAnswerTimeoutMs: options.noAnswerTimeoutMs ?? 45_000,
    iceServers,
    whenConnected: () => host.whenConnected(),
    request,
    AudioContext,
    processTrack: options.processTrack,
  });
  const rooms = new LazyRooms({
    store,
    clock,
    getDisplayMedia,
    mediaDevices,
    request,
    isConnected,
    whenConnected: () => host.whenConnected(ROOM_WORDING),
    createMediaSession: options.createMediaSession,
    iceServers,
    createPeer: peer,
    preloadPeer,
    iceTransportPolicy,
    iceRestart: options.iceRestart,
    RTCPeerConnection: options.RTCPeerConnection,
    AudioContext,
    processTrack: options.processTrack,
    onPeerData: (name, participantId, message) =>
      messages.fromRoomPeer(name, participantId, message),
  });
  const supervision = new LazySupervision({
    store,
    clock,
    mediaDevices,
    request,
    whenConnected: (wording) => host.whenConnected(wording),
    isConnected,
    iceServers,
    createPeer: gatewayPeer,
    AudioContext,
    callIdOf: (serverId) => calls.localIdOf(serverId),
    updateCall: (callId, patch) => calls.update(callId, patch),
    rooms,
  });
  const stats = new LazyStats({
    clock,
    client: store,
    options: options.quality ?? {},
    callConnection: (callId) => calls.connectionOf(callId),
    roomConnections: (name) => rooms.connectionsOf(name),
  });
  return { calls, rooms, supervision, stats, messages };
}

/** A code chunk's load, failing as a call failure that says what to do. */
function chunk<T>(load: Promise<T>): Promise<T> {
  return load.catch((cause: unknown) => {
    throw new RelayError(
      ErrorCodes.callFailed,
      'Could not load the call code of relaycall. Check the network and reload the page.',
      { cause },
    );
  });
}
