export { createRelayClient } from './RelayClient.js';
export type { RelayClientOptions } from './RelayClient.js';
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
  RelayClient,
  RelayClientState,
  WebSocketFactory,
  WebSocketLike,
} from './types.js';
export {
  CloseCodes,
  ErrorCodes,
  RelayCloseError,
  RelayError,
  RelayHttpError,
  RelayMediaError,
  RelayRpcError,
  Scopes,
} from '../protocol/index.js';
export type { ErrorCode, IceServer, Scope } from '../protocol/index.js';
