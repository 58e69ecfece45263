import type { MethodParams, MethodResult } from '../../protocol/index.js';
import type { ParamReader } from '../signaling/parseRequest.js';
import type { Leg } from './Leg.js';
import { readRoomParams, type RoomMethod } from './roomParams.js';
import type { RoomManager } from './RoomManager.js';

type Runner<M extends RoomMethod> = (
  rooms: RoomManager,
  leg: Leg,
  params: MethodParams<M>,
) => MethodResult<M>;

const EMPTY = {} as Record<string, never>;

/** What each room method does with its read params: one row per method. */
const RUNNERS: { readonly [M in RoomMethod]: Runner<M> } = {
  'room.join': (rooms, leg, params) => rooms.join(leg, params),
  'room.leave': (rooms, leg, { roomId }) => (rooms.leave(leg, roomId), EMPTY),
  'room.invite': (rooms, leg, params) => (rooms.invite(leg, params), EMPTY),
  'room.decline': (rooms, leg, { roomId }) => (rooms.decline(leg, roomId), EMPTY),
  'room.signal': (rooms, leg, params) => (rooms.signal(leg, params), EMPTY),
  'room.update': (rooms, leg, params) => (rooms.update(leg, params), EMPTY),
  'room.mute': (rooms, leg, params) => (rooms.mute(leg, params), EMPTY),
  'room.remove': (rooms, leg, params) => (rooms.remove(leg, params), EMPTY),
  'room.end': (rooms, leg, { roomId }) => (rooms.end(leg, roomId), EMPTY),
};

/**
 * Runs a room method of a leg: reads its params, then acts. The caller has checked the
 * method's scope (METHODS); the engine checks it again, with what only it knows (the room).
 */
export function runRoomMethod<M extends RoomMethod>(
  rooms: RoomManager,
  leg: Leg,
  method: M,
  p: ParamReader,
): MethodResult<M> {
  return (RUNNERS[method] as Runner<M>)(rooms, leg, readRoomParams(method, p));
}
