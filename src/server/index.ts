export { createRelayServer } from './RelayServer.js';
export type {
  IssueTokenRequest,
  ListenOptions,
  ProjectCredentials,
  RelayServer,
  RelayServerOptions,
  RelayStats,
  TlsFiles,
} from './RelayServer.js';
export { MemoryStore } from './store/MemoryStore.js';
export { SqliteStore } from './store/SqliteStore.js';
export { RedisStore } from './store/RedisStore.js';
export type { RedisStoreOptions } from './store/RedisStore.js';
export type {
  FamilyRecord,
  ProjectRecord,
  RefreshTokenRecord,
  RelayStore,
  RotateOutcome,
} from './store/RelayStore.js';
export type { Clock } from './clock.js';
export type { TurnOptions } from './turnCredentials.js';
export type { JanusOptions } from './janus/JanusOptions.js';
export type { SipOptions, SipTrunk } from './sip/SipOptions.js';
export type { ClusterConfig } from './cluster/connectCluster.js';
export type { AssistRecord } from './supervision/Assists.js';
export { jsonLogger, silentLogger, textLogger } from './RelayLogger.js';
export type { LineWriter, LogClock, LogFields, LogLevel, RelayLogger } from './RelayLogger.js';
export type { MetricsOptions } from './metrics/metricsEndpoint.js';
export { systemClock } from './clock.js';
export { createRestClient } from './RestClient.js';
export type { RestClient, RestClientOptions, CreateTokenOptions, TokenPair } from './RestClient.js';
export {
  CloseCodes,
  ErrorCodes,
  RpcErrorCodes,
  Scopes,
  DEFAULT_LIMITS,
  DEFAULT_SCOPES,
  RelayError,
  RelayHttpError,
  RelayRpcError,
  RelayCloseError,
  resourceProblem,
  normalizeIdentity,
} from '../protocol/index.js';
export type {
  AssistAudit,
  AssistMode,
  CallRecord,
  CallRecordParticipant,
  CallsFilter,
  CallsListResult,
  ErrorCode,
  IceServer,
  RelayLimits,
  Scope,
} from '../protocol/index.js';
