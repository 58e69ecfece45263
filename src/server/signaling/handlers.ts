import {
  ErrorCodes,
  METHODS,
  RelayRpcError,
  RpcErrorCodes,
  isMethod,
  type Method,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { runRoomMethod } from '../rooms/roomMethods.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { RoomMethod } from '../rooms/roomParams.js';
import type { CallManager } from './CallManager.js';
import type { ParamReader } from './parseRequest.js';
import type { Session } from './Session.js';
import { authorizeMethod } from './authorize.js';

/** What a handler answers: a result, and work to do once the result is sent. */
export interface Handled {
  result: unknown;
  after?: () => void;
}

/** What the handlers act on. */
export interface Engines {
  calls: CallManager;
  rooms: RoomManager;
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
  'call.invite': ({ calls }, session, p) => {
    const result = calls.invite(session, p.resource('to'), p.metadata('metadata'));
    return { result, after: () => calls.announceRinging(result.callId) };
  },
  'call.answer': ({ calls }, session, p) => {
    const result = calls.answer(session, p.string('callId'));
    return { result, after: () => calls.flushEarlySignals(result.callId) };
  },
  'call.reject': ({ calls }, session, p) => {
    calls.reject(session, p.string('callId'), p.rejectReason('reason'));
    return EMPTY_RESULT;
  },
  'call.hangup': ({ calls }, session, p) => {
    calls.hangup(session, p.string('callId'));
    return EMPTY_RESULT;
  },
  'call.signal': ({ calls }, session, p) => {
    calls.signal(session, p.string('callId'), p.json('signal', true));
    return EMPTY_RESULT;
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

export function unknownMethod(method: string): RelayRpcError {
  return new RelayRpcError(
    RpcErrorCodes.methodNotFound,
    ErrorCodes.methodNotFound,
    `Unknown method "${method}". See docs/PROTOCOL.md for the methods the Relay serves.`,
  );
}
