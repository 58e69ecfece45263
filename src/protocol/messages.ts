/**
 * The signaling protocol: JSON-RPC 2.0 over one WebSocket. See docs/PROTOCOL.md.
 */
import type { Gateway } from './gateway.js';
import type { Scope } from './scopes.js';

/** Path of the signaling WebSocket on a Relay. */
export const WS_PATH = '/api/relay/ws';
/** Path of the token REST endpoint on a Relay. */
export const JWT_PATH = '/api/relay/rest/jwt';
/** Path of the health check. */
export const HEALTH_PATH = '/healthz';
/**
 * Newest protocol version the server speaks. `relay.connect` answers the version of the
 * session: the client's `protocol` param when it sends one the Relay knows, else 1.
 * Version 2 adds rooms; every version-1 method and event is unchanged in version 2.
 */
export const PROTOCOL_VERSION = 2;

/** Methods a client may call. */
export const ClientMethods = {
  connect: 'relay.connect',
  reauthenticate: 'relay.reauthenticate',
  ping: 'relay.ping',
  invite: 'call.invite',
  answer: 'call.answer',
  reject: 'call.reject',
  hangup: 'call.hangup',
  signal: 'call.signal',
  dtmf: 'call.dtmf',
  hold: 'call.hold',
  transfer: 'call.transfer',
  assist: 'call.assist',
  message: 'call.message',
  callsList: 'calls.list',
  callsWatch: 'calls.watch',
  callsUnwatch: 'calls.unwatch',
  roomJoin: 'room.join',
  roomLeave: 'room.leave',
  roomInvite: 'room.invite',
  roomDecline: 'room.decline',
  roomSignal: 'room.signal',
  roomUpdate: 'room.update',
  roomMute: 'room.mute',
  roomRemove: 'room.remove',
  roomEnd: 'room.end',
  roomMessage: 'room.message',
} as const;

/** Notifications the server sends. Every one carries a per-session `seq`. */
export const ServerEvents = {
  incoming: 'call.incoming',
  ringing: 'call.ringing',
  answered: 'call.answered',
  signal: 'call.signal',
  ended: 'call.ended',
  peer: 'call.peer',
  early: 'call.early',
  dtmf: 'call.dtmf',
  assisted: 'call.assisted',
  message: 'call.message',
  callsUpdated: 'calls.updated',
  roomJoined: 'room.joined',
  roomUpdated: 'room.updated',
  roomLeft: 'room.left',
  roomSignal: 'room.signal',
  roomInvited: 'room.invited',
  roomMuted: 'room.muted',
  roomEnded: 'room.ended',
  roomTalking: 'room.talking',
  roomMedia: 'room.media',
  roomMessage: 'room.message',
} as const;

/** An ICE server as handed to RTCPeerConnection. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface ConnectParams {
  /** Project id the JWT was issued for. */
  project: string;
  /** The JWT from `POST /api/relay/rest/jwt`. */
  token: string;
  /** A previous session to resume (after a dropped socket). */
  sessionId?: string;
  /** Highest `seq` the client processed in that session; later ones are replayed. */
  lastSeq?: number;
  /** Protocol version the client speaks (see PROTOCOL_VERSION). Default: 1. */
  protocol?: number;
}

export interface ConnectResult {
  protocol: number;
  sessionId: string;
  /** True when `sessionId` was resumed with its calls; false for a fresh session. */
  resumed: boolean;
  resource: string;
  scopes: Scope[];
  /** JWT expiry, ms since the epoch (server clock). */
  expiresAt: number;
  /** Server clock when answering, ms since the epoch. */
  serverTime: number;
  /** ICE servers for RTCPeerConnection; TURN credentials among them expire with the JWT. */
  iceServers: IceServer[];
}

export interface ReauthenticateParams {
  token: string;
}

export interface ReauthenticateResult {
  expiresAt: number;
  serverTime: number;
  scopes: Scope[];
  /** ICE servers as in ConnectResult, with TURN credentials minted for the fresher JWT. */
  iceServers: IceServer[];
}

export interface PingParams {
  /** Highest `seq` the client processed; lets the server drop its replay copies. */
  ack?: number;
}

export interface PingResult {
  serverTime: number;
}

export interface InviteParams {
  /**
   * Resource to ring, within the caller's project; or, through the project's SIP gateway, a
   * `sip:user@host` URI (scope `calls:sip`) or an E.164 number like '+15551234567' (scope
   * `calls:pstn`).
   */
  to: string;
  /** Opaque JSON handed to the callee with `call.incoming` (e.g. a display name). */
  metadata?: unknown;
}

export interface InviteResult {
  callId: string;
}

export interface CallIdParams {
  callId: string;
}

export type RejectReason = 'busy' | 'declined';

export interface RejectParams extends CallIdParams {
  /** `declined` (default) ends the call on every ringing session; `busy` only this one's. */
  reason?: RejectReason;
}

export interface SignalParams extends CallIdParams {
  /** Opaque WebRTC payload (SDP or ICE candidate). */
  signal: unknown;
  /**
   * Assisted calls: the participant id of the supervisor (from a party) or of the party (from a
   * supervisor) the signal is for. Absent: the other party of the call.
   */
  to?: string;
}

/** Why a call ended, as told by `call.ended`. */
export type EndReason =
  | 'hangup'
  | 'cancelled'
  | 'declined'
  | 'busy'
  | 'no-answer'
  | 'answered-elsewhere'
  | 'disconnected'
  /** Gateway calls only: the number or URI does not exist or cannot take calls (SIP 404, 480…). */
  | 'unavailable'
  /** Gateway calls only: the trunk refused the call (SIP 403, 401, 407). */
  | 'forbidden'
  /** Gateway calls only: any other failure; `sipStatus` says which. */
  | 'failed'
  /** Gateway calls only: the other party was transferred elsewhere (REFER accepted). */
  | 'transferred';

export interface IncomingEvent {
  seq: number;
  callId: string;
  /** Resource of the caller; for gateway calls its number ('+1…') or SIP URI. */
  from: string;
  /** Set when the call comes through the SIP gateway. */
  gateway?: Gateway;
  metadata?: unknown;
}

export interface CallEvent {
  seq: number;
  callId: string;
}

export interface SignalEvent extends CallEvent {
  signal: unknown;
  /**
   * Assisted calls: the participant id of the sender, when the signal is between a supervisor
   * and a party (absent between the two parties).
   */
  from?: string;
}

export interface EndedEvent extends CallEvent {
  reason: EndReason;
  /** Gateway calls: the SIP status that ended the call (e.g. 486), when there was one. */
  sipStatus?: number;
  /** Gateway calls: that status's reason phrase (e.g. 'Busy Here'). */
  sipReason?: string;
}

export interface PeerEvent extends CallEvent {
  /** False while the other leg's socket is gone (it may resume), true when it is back. */
  connected: boolean;
}

export interface RpcRequest {
  jsonrpc: '2.0';
  id?: string | number;
  method: string;
  params?: unknown;
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: { code: string; [key: string]: unknown };
}

export type RpcResponse =
  | { jsonrpc: '2.0'; id: string | number | null; result: unknown }
  | { jsonrpc: '2.0'; id: string | number | null; error: RpcErrorObject };

export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params: { seq: number; [key: string]: unknown };
}

/** REST: `POST /api/relay/rest/jwt` body. Every field is optional. */
export interface CreateTokenBody {
  resource?: string;
  /** Minutes. */
  expires_in?: number;
  scopes?: Scope[];
}

/** REST: the token pair answered by POST and PUT. */
export interface TokenPairBody {
  jwt_token: string;
  refresh_token: string;
}

/** REST: body of every error response. */
export interface RestErrorBody {
  error: { code: string; message: string };
}

/** Claims of a Relay JWT. */
export interface RelayClaims {
  iss: string;
  /** Project id. */
  sub: string;
  resource: string;
  scopes: Scope[];
  iat: number;
  /** Not before: equal to `iat`. */
  nbf: number;
  exp: number;
  jti: string;
  /** Refresh family id: every token descended from one POST shares it. */
  fam: string;
}
