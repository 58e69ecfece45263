export { createRelayClient } from './RelayClient.js';
export type { RelayClientOptions } from './clientOptions.js';
export { jwtExpiresAt, refreshDelay } from './tokenSchedule.js';
export type { RefreshPlan } from './tokenSchedule.js';
export type {
  CallDirection,
  CallEndReason,
  CallOptions,
  CallSnapshot,
  CallState,
  ClientClock,
  ConnectionStatus,
  DeviceManager,
  DevicePermission,
  DevicesState,
  MediaOptions,
  ParticipantSnapshot,
  ReadonlyStore,
  RelayClient,
  RelayClientState,
  RoomInvite,
  RoomJoinOptions,
  RoomLeftReason,
  RoomSnapshot,
  RoomState,
  WebSocketFactory,
  WebSocketLike,
} from './types.js';
export type { MediaSession, MediaSessionCallbacks } from './rooms/MediaSession.js';
export {
  CloseCodes,
  ErrorCodes,
  RelayCloseError,
  RelayError,
  RelayHttpError,
  RelayMediaError,
  RelayRpcError,
  SFU_PEER,
  Scopes,
  gatewayOf,
} from '../protocol/index.js';
export type {
  ErrorCode,
  Gateway,
  IceServer,
  Participant,
  ParticipantState,
  RoomMedia,
  Scope,
  VideoQuality,
} from '../protocol/index.js';
