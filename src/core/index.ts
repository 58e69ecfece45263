export { createRelayClient } from './RelayClient.js';
export type { RelayClientOptions } from './clientOptions.js';
export type { IceRestartOptions } from './peer/IceRestarter.js';
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
  TokenExpiringEvent,
  RelayClient,
  RelayClientState,
  RoomInvite,
  RoomJoinOptions,
  RoomLeftReason,
  RoomSnapshot,
  RoomState,
  ScreenShareOptions,
  WebSocketFactory,
  WebSocketLike,
} from './types.js';
export type { DisplayMediaFn } from './media/captureScreen.js';
export type { MediaSession, MediaSessionCallbacks } from './rooms/MediaSession.js';
export type { CallMessage, MessagesApi, SendMessageOptions } from './messages/messageTypes.js';
export { MAX_MESSAGE_BYTES, MAX_MESSAGE_HISTORY } from './messages/messageTypes.js';
export { estimateMos } from './stats/estimateMos.js';
export type {
  CallStats,
  NetworkQualityLevel,
  QualityApi,
  QualityOptions,
  QualityState,
  QualityThreshold,
  QualityThresholds,
  QualityWarning,
  QualityWarningEvent,
  QualityWarningKind,
  VideoStats,
} from './stats/statsTypes.js';
export type { TrackProcessor, TrackProcessorContext } from './media/TrackProcessor.js';
export { createRingtone } from './ringtone/createRingtone.js';
export type { Ringtone, RingtoneOptions, RingtoneState } from './ringtone/createRingtone.js';
export type {
  AssistOptions,
  AssistParty,
  AssistSnapshot,
  AssistState,
  CallListState,
  CallListStatus,
  SupervisionApi,
  SupervisorSnapshot,
} from './supervision/supervisionTypes.js';
export {
  ASSIST_MODES,
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
  AssistAudit,
  AssistMode,
  CallParty,
  CallRecord,
  CallRecordMedia,
  CallRecordParticipant,
  CallRecordState,
  CallsFilter,
  CallsListResult,
  ErrorCode,
  Gateway,
  IceServer,
  Participant,
  ParticipantState,
  RoomMedia,
  Scope,
  Supervisor,
  VideoQuality,
} from '../protocol/index.js';
