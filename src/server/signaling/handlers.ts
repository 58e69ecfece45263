import {
  ErrorCodes,
  METHODS,
  RelayRpcError,
  RpcErrorCodes,
  gatewayOf,
  isMethod,
  type Method,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { runRoomMethod } from '../rooms/roomMethods.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { RoomMethod } from '../rooms/roomParams.js';
import type { GatewayCalls } from '../sip/GatewayCalls.js';
import type { Assists } from '../supervision/Assists.js';
import type { CallBoard } from '../supervision/CallBoard.js';
import type { CallManager } from './CallManager.js';
import type { ParamReader } from './parseRequest.js';
import type { Session } from './Session.js';
import { authorizeMethod } from './authorize.js';
import { callNotFound } from './callErrors.js';
import { readMessage, type InCallMessages } from './InCallMessages.js';

/** What a handler answers: a result, and work to do once the result is sent. */
export interface Handled {
  result: unknown;
  after?: () => void;
}

/** What the handlers act on. */
export interface Engines {
  calls: CallManager;
  /** Calls to and from SIP endpoints and phone numbers. */
  gateway: GatewayCalls;
  rooms: RoomManager;
  /** Ongoing calls, for supervisors. */
  board: CallBoard;
  /** Supervisors joining calls. */
  assists: Assists;
  /** In-call messages through the Relay. */
  messages: InCallMessages;
  clock: Clock;
}

type Handler = (engines: Engines, session: Session, p: ParamReader) => Handled;

const EMPTY_RESULT: Handled = { result: {} };

/** A room method: the room engine reads its params and runs it. */
const room =
  (method: RoomMethod): Handler =>
  ({ rooms }, session, p) => ({ result: runRoomMethod(rooms, session, method, p) });

/**
 * The methods a session's node answers at once, one row per method. `relay.connect` and
 * `relay.reauthenticate` wait on a token check and are the socket layer's.
 */
const HANDLERS: Partial<Record<Method, Handler>> = {
  'relay.ping': ({ clock }, session, p) => {
    const ack = p.optionalSeq('ack');
    if (ack !== undefined) session.acknowledge(ack);
    return { result: { serverTime: clock.now() } };
  },
  'call.invite': ({ calls, gateway }, session, p) => {
    const to = p.resource('to');
    const metadata = p.metadata('metadata');
    if (gatewayOf(to)) return { result: gateway.invite(session, to, metadata) };
    const result = calls.invite(session, to, metadata);
    return { result, after: () => calls.announceRinging(result.callId) };
  },
  'call.answer': ({ calls, gateway }, session, p) => {
    const callId = p.string('callId');
    if (gateway.owns(callId)) {
      return { result: gateway.answer(session, callId), after: () => gateway.flushOffer(callId) };
    }
    const result = calls.answer(session, callId);
    return { result, after: () => calls.flushEarlySignals(result.callId) };
  },
  'call.reject': ({ calls, gateway }, session, p) => {
    const callId = p.string('callId');
    const reason = p.rejectReason('reason');
    if (gateway.owns(callId)) gateway.reject(session, callId, reason);
    else calls.reject(session, callId, reason);
    return EMPTY_RESULT;
  },
  'call.hangup': ({ calls, gateway }, session, p) => {
    const callId = p.string('callId');
    if (gateway.owns(callId)) gateway.hangup(session, callId);
    else calls.hangup(session, callId);
    return EMPTY_RESULT;
  },
  'call.signal': ({ calls, gateway }, session, p) => {
    const callId = p.string('callId');
    const signal = p.json('signal', true);
    const to = p.optionalParticipantId('to');
    if (gateway.owns(callId)) gateway.signal(session, callId, signal, to);
    else calls.signal(session, callId, signal, to);
    return EMPTY_RESULT;
  },
  'call.assist': ({ assists, gateway }, session, p) => {
    const request = {
      callId: p.string('callId'),
      mode: p.assistMode('mode'),
      agent: p.optionalString('agent'),
    };
    if (gateway.owns(request.callId)) return gateway.assist(session, request);
    return assists.assist(session, request);
  },
  'call.message': ({ gateway, messages }, session, p) => {
    const callId = p.string('callId');
    const message = readMessage(p);
    if (gateway.owns(callId)) throw notBrowsers(gateway, session, callId);
    return { result: messages.call(session, { callId, ...message }) };
  },
  'calls.list': ({ board }, session, p) => ({
    result: board.list(session.projectId, p.callsFilter()),
  }),
  'calls.watch': ({ board }, session, p) => ({ result: board.watch(session, p.callsFilter()) }),
  'calls.unwatch': ({ board }, session) => {
    board.unwatch(session.id);
    return EMPTY_RESULT;
  },
  'call.dtmf': ({ gateway }, session, p) => {
    gateway.dtmf(session, gatewayCall(gateway, session, p.string('callId')), p.string('tones'));
    return EMPTY_RESULT;
  },
  'call.hold': ({ gateway }, session, p) => {
    gateway.hold(session, gatewayCall(gateway, session, p.string('callId')), p.boolean('held'));
    return EMPTY_RESULT;
  },
  'call.transfer': ({ gateway }, session, p) => {
    const callId = gatewayCall(gateway, session, p.string('callId'));
    return { result: gateway.transfer(session, callId, p.string('to')).then(() => ({})) };
  },
  'room.join': room('room.join'),
  'room.leave': room('room.leave'),
  'room.invite': room('room.invite'),
  'room.decline': room('room.decline'),
  'room.signal': room('room.signal'),
  'room.update': room('room.update'),
  'room.mute': room('room.mute'),
  'room.remove': room('room.remove'),
  'room.end': room('room.end'),
  'room.message': ({ messages }, session, p) => {
    const roomId = p.string('roomId');
    return { result: messages.room(session, { roomId, ...readMessage(p) }) };
  },
};

/** Runs a method of a session from the table, after the scope check of its METHODS row. */
export function handle(
  engines: Engines,
  session: Session,
  method: string,
  p: ParamReader,
): Handled {
  const handler = isMethod(method) ? HANDLERS[method] : undefined;
  if (!handler) throw unknownMethod(method);
  authorizeMethod(session.scopes, METHODS[method as Method].scope);
  return handler(engines, session, p);
}

/**
 * `callId`, when it names a gateway call: calls between browsers send DTMF and hold over their
 * data channel and cannot be transferred. A call this session is not in is not found.
 */
function gatewayCall(gateway: GatewayCalls, session: Session, callId: string): string {
  if (gateway.owns(callId)) return callId;
  if (!session.calls.has(callId)) throw callNotFound();
  throw new RelayRpcError(
    RpcErrorCodes.invalidState,
    ErrorCodes.invalidState,
    'Only calls to SIP endpoints or phone numbers take this request: calls between browsers ' +
      'send DTMF and hold over their data channel, and cannot be transferred.',
  );
}

/** A message on a gateway call: its far end is a phone or SIP endpoint, not a browser. */
function notBrowsers(gateway: GatewayCalls, session: Session, callId: string): RelayRpcError {
  gatewayCall(gateway, session, callId);
  return new RelayRpcError(
    RpcErrorCodes.invalidState,
    ErrorCodes.invalidState,
    'Calls to SIP endpoints or phone numbers take no messages: their far end is not a browser. ' +
      'Send messages in calls between browsers, or in rooms.',
  );
}

export function unknownMethod(method: string): RelayRpcError {
  return new RelayRpcError(
    RpcErrorCodes.methodNotFound,
    ErrorCodes.methodNotFound,
    `Unknown method "${method}". See docs/PROTOCOL.md for the methods the Relay serves.`,
  );
}
