import {
  ErrorCodes,
  RelayError,
  type Method,
  type MethodParams,
  type RoomIdParams,
} from '../../protocol/index.js';
import type { ParamReader } from '../signaling/parseRequest.js';

/** The room methods of the protocol (but `room.message`: see InCallMessages). */
export type RoomMethod = Exclude<Extract<Method, `room.${string}`>, 'room.message'>;

type Reader<M extends RoomMethod> = (p: ParamReader) => MethodParams<M>;

const roomId = (p: ParamReader): RoomIdParams => ({ roomId: p.string('roomId') });

/** How each room method's params are read; each reader throws invalid_params naming the field. */
export const ROOM_PARAMS: { readonly [M in RoomMethod]: Reader<M> } = {
  'room.join': (p) => {
    return {
      name: p.roomName('name'),
      metadata: p.metadata('metadata'),
      // Not an error when malformed (whatever its type or depth): a client that kept a bad id
      // simply gets a new one.
      participantId: p.stringOrNothing('participantId'),
      audioMuted: p.optionalBoolean('audioMuted'),
      videoMuted: p.optionalBoolean('videoMuted'),
      media: p.optionalMedia('media'),
    };
  },
  'room.leave': roomId,
  'room.invite': (p) => ({
    roomId: p.string('roomId'),
    to: p.resource('to'),
    metadata: p.metadata('metadata'),
  }),
  'room.decline': roomId,
  'room.signal': (p) => ({
    roomId: p.string('roomId'),
    to: p.signalTarget('to'),
    signal: p.json('signal', true),
  }),
  'room.update': (p) => {
    const params = {
      roomId: p.string('roomId'),
      audioMuted: p.optionalBoolean('audioMuted'),
      videoMuted: p.optionalBoolean('videoMuted'),
    };
    if (params.audioMuted === undefined && params.videoMuted === undefined) {
      throw new RelayError(
        ErrorCodes.invalidParams,
        'room.update: give "audioMuted" or "videoMuted" (or both), true or false.',
      );
    }
    return params;
  },
  'room.mute': (p) => ({
    roomId: p.string('roomId'),
    participantId: p.participantId('participantId'),
    kind: p.kind('kind'),
  }),
  'room.remove': (p) => ({
    roomId: p.string('roomId'),
    participantId: p.participantId('participantId'),
  }),
  'room.end': roomId,
};

export function isRoomMethod(method: string): method is RoomMethod {
  return Object.hasOwn(ROOM_PARAMS, method);
}

/** Reads the params of a room method into their typed form. */
export function readRoomParams<M extends RoomMethod>(method: M, p: ParamReader): MethodParams<M> {
  return (ROOM_PARAMS[method] as Reader<M>)(p);
}
