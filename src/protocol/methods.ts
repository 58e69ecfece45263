/**
 * The typed method and event maps of the signaling protocol: for every method its params,
 * result, required scope and routing. The Relay dispatches from one handler table keyed by
 * these names and the client's `request<M>()` is typed by them. See docs/PROTOCOL.md#methods.
 */
import type {
  CallEvent,
  CallIdParams,
  ConnectParams,
  ConnectResult,
  EndedEvent,
  IncomingEvent,
  InviteParams,
  InviteResult,
  PeerEvent,
  PingParams,
  PingResult,
  ReauthenticateParams,
  ReauthenticateResult,
  RejectParams,
  SignalEvent,
  SignalParams,
} from './messages.js';
import type {
  RoomEndedEvent,
  RoomIdParams,
  RoomInvitedEvent,
  RoomInviteParams,
  RoomJoinParams,
  RoomJoinResult,
  RoomLeftEvent,
  RoomMutedEvent,
  RoomTalkingEvent,
  RoomMediaEvent,
  RoomMuteParams,
  RoomModerateParams,
  RoomParticipantEvent,
  RoomSignalEvent,
  RoomSignalParams,
  RoomUpdateParams,
} from './rooms.js';
import type { DtmfEvent, DtmfParams, HoldParams, TransferParams } from './gateway.js';
import type { Scope } from './scopes.js';
import type {
  CallMessageEvent,
  CallMessageParams,
  MessageResult,
  RoomMessageEvent,
  RoomMessageParams,
} from './callMessages.js';
import type {
  AssistedEvent,
  AssistParams,
  AssistResult,
  CallsFilter,
  CallsListResult,
  CallsUpdatedEvent,
} from './supervision.js';

type Empty = Record<string, never>;

/** Params and result of every method a client may call. */
export interface MethodMap {
  'relay.connect': { params: ConnectParams; result: ConnectResult };
  'relay.reauthenticate': { params: ReauthenticateParams; result: ReauthenticateResult };
  'relay.ping': { params: PingParams; result: PingResult };
  'call.invite': { params: InviteParams; result: InviteResult };
  'call.answer': { params: CallIdParams; result: { callId: string } };
  'call.reject': { params: RejectParams; result: Empty };
  'call.hangup': { params: CallIdParams; result: Empty };
  'call.signal': { params: SignalParams; result: Empty };
  'call.dtmf': { params: DtmfParams; result: Empty };
  'call.hold': { params: HoldParams; result: Empty };
  'call.transfer': { params: TransferParams; result: Empty };
  'call.assist': { params: AssistParams; result: AssistResult };
  'call.message': { params: CallMessageParams; result: MessageResult };
  'calls.list': { params: CallsFilter; result: CallsListResult };
  'calls.watch': { params: CallsFilter; result: CallsListResult };
  'calls.unwatch': { params: Empty; result: Empty };
  'room.join': { params: RoomJoinParams; result: RoomJoinResult };
  'room.leave': { params: RoomIdParams; result: Empty };
  'room.invite': { params: RoomInviteParams; result: Empty };
  'room.decline': { params: RoomIdParams; result: Empty };
  'room.signal': { params: RoomSignalParams; result: Empty };
  'room.update': { params: RoomUpdateParams; result: Empty };
  'room.mute': { params: RoomMuteParams; result: Empty };
  'room.remove': { params: RoomModerateParams; result: Empty };
  'room.end': { params: RoomIdParams; result: Empty };
  'room.message': { params: RoomMessageParams; result: MessageResult };
}

export type Method = keyof MethodMap;
export type MethodParams<M extends Method> = MethodMap[M]['params'];
export type MethodResult<M extends Method> = MethodMap[M]['result'];

/**
 * Which node answers a request:
 * - `socket`: the node holding the socket, before or without a session;
 * - `session`: the node holding the session;
 * - `call`: the node owning the call named by `callId`;
 * - `room`: the node owning the room named by `roomId` (or `name`, for `room.join`).
 */
export type Routing = 'socket' | 'session' | 'call' | 'room';

export interface MethodSpec {
  /** Scope the session's token needs, or null when any authenticated session may call it. */
  scope: Scope | null;
  routing: Routing;
}

/**
 * Scope and routing of every method: the one table the Relay authorizes and routes from. Scopes
 * are written as literals (checked against `Scope`): a bundler can then drop the table from
 * browser bundles that do not use it.
 */
export const METHODS: { readonly [M in Method]: MethodSpec } = {
  'relay.connect': { scope: null, routing: 'socket' },
  'relay.reauthenticate': { scope: null, routing: 'session' },
  'relay.ping': { scope: null, routing: 'session' },
  'call.invite': { scope: 'calls:dial', routing: 'session' },
  'call.answer': { scope: null, routing: 'call' },
  'call.reject': { scope: null, routing: 'call' },
  'call.hangup': { scope: null, routing: 'call' },
  'call.signal': { scope: null, routing: 'call' },
  'call.dtmf': { scope: null, routing: 'call' },
  'call.hold': { scope: null, routing: 'call' },
  'call.transfer': { scope: null, routing: 'call' },
  'call.assist': { scope: null, routing: 'call' },
  'call.message': { scope: null, routing: 'call' },
  'calls.list': { scope: 'calls:list', routing: 'session' },
  'calls.watch': { scope: 'calls:list', routing: 'session' },
  'calls.unwatch': { scope: null, routing: 'session' },
  'room.join': { scope: 'rooms:join', routing: 'room' },
  'room.leave': { scope: null, routing: 'room' },
  'room.invite': { scope: 'calls:dial', routing: 'room' },
  'room.decline': { scope: null, routing: 'room' },
  'room.signal': { scope: null, routing: 'room' },
  'room.update': { scope: null, routing: 'room' },
  'room.mute': { scope: 'rooms:moderate', routing: 'room' },
  'room.remove': { scope: 'rooms:moderate', routing: 'room' },
  'room.end': { scope: 'rooms:moderate', routing: 'room' },
  'room.message': { scope: null, routing: 'room' },
};

export function isMethod(name: string): name is Method {
  return Object.hasOwn(METHODS, name);
}

/** Params of every notification the Relay sends. Each carries a per-session `seq`. */
export interface EventMap {
  'call.incoming': IncomingEvent;
  'call.ringing': CallEvent;
  'call.answered': CallEvent;
  'call.signal': SignalEvent;
  'call.ended': EndedEvent;
  'call.peer': PeerEvent;
  'call.early': CallEvent;
  'call.dtmf': DtmfEvent;
  'call.assisted': AssistedEvent;
  'call.message': CallMessageEvent;
  'calls.updated': CallsUpdatedEvent;
  'room.joined': RoomParticipantEvent;
  'room.updated': RoomParticipantEvent;
  'room.left': RoomLeftEvent;
  'room.signal': RoomSignalEvent;
  'room.invited': RoomInvitedEvent;
  'room.muted': RoomMutedEvent;
  'room.ended': RoomEndedEvent;
  'room.talking': RoomTalkingEvent;
  'room.media': RoomMediaEvent;
  'room.message': RoomMessageEvent;
}

export type EventName = keyof EventMap;

/** A notification's params as sent, before the session numbers it. */
export type EventParams<E extends EventName> = Omit<EventMap[E], 'seq'>;
