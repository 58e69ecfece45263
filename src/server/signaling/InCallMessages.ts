import { randomUUID } from 'node:crypto';
import {
  ErrorCodes,
  MAX_MESSAGE_ID_LENGTH,
  RelayError,
  ServerEvents,
  type CallMessageParams,
  type MessageResult,
  type RoomMessageParams,
} from '../../protocol/index.js';
import { answered } from '../rooms/callLedger.js';
import type { Leg } from '../rooms/Leg.js';
import type { Member, Room } from '../rooms/Room.js';
import type { RoomEngine } from '../rooms/RoomEngine.js';
import * as roomErrors from '../rooms/roomErrors.js';
import * as callErrors from './callErrors.js';
import type { ParamReader } from './parseRequest.js';
import type { Session } from './Session.js';

/**
 * In-call messages through the Relay (`call.message`, `room.message`): from a participant of a
 * call or room to the others present, or to one of them (`to`). A supervisor's message goes
 * where its voice does: a whispering one's to its agent alone, a monitoring one's nowhere
 * (refused). A message reaches all its receivers or none: when one of them is not reading what
 * it was sent, the sender is refused with `peer_backlogged` and may send it again shortly.
 */
export class InCallMessages {
  constructor(private readonly engine: RoomEngine) {}

  /** `call.message`: the sender is a party (or a supervisor) of an answered call. */
  call(session: Session, params: CallMessageParams): MessageResult {
    const room = this.engine.room(params.callId, 'call');
    if (!room?.call || !session.calls.has(params.callId)) throw callErrors.callNotFound();
    const sender = room.memberOf(session.id);
    if (!sender || !answered(room.call)) {
      throw callErrors.invalidState('Messages go once the call is answered: wait for it.');
    }
    return this.deliver(room, sender, params, (base) => ({ ...base, callId: room.id }));
  }

  /** `room.message`: the sender is in the room (joined or away). */
  room(leg: Leg, params: RoomMessageParams): MessageResult {
    const room = this.engine.room(params.roomId, 'room');
    const sender = room?.memberOf(leg.id);
    if (!room || !sender) throw roomErrors.notInRoom('send messages in it');
    return this.deliver(room, sender, params, (base) => ({ ...base, roomId: room.id }), true);
  }

  private deliver<E extends object>(
    room: Room,
    sender: Member,
    params: { id?: string | undefined; body: unknown; to?: string | undefined },
    event: (base: MessageBase) => E,
    inRoom = false,
  ): MessageResult {
    const receivers = this.receivers(room, sender, params.to);
    const legs = receivers.flatMap((member) => {
      const leg = member.legId === null ? undefined : this.engine.directory.get(member.legId);
      return leg ? [leg] : [];
    });
    if (legs.some((leg) => !leg.acceptsSignal())) {
      throw inRoom ? roomErrors.peerBacklogged() : callErrors.peerBacklogged();
    }
    const id = params.id ?? randomUUID();
    const base: MessageBase = {
      id,
      from: sender.participant.id,
      resource: sender.participant.resource,
      body: params.body,
      ...(params.to === undefined ? {} : { to: params.to }),
    };
    const method = inRoom ? ServerEvents.roomMessage : ServerEvents.message;
    const notification = event(base) as never;
    for (const leg of legs) this.engine.tell.send(leg, method, notification);
    return { id };
  }

  /** Who receives a message: `to` alone, or everyone present who hears the sender. */
  private receivers(room: Room, sender: Member, to: string | undefined): Member[] {
    if (sender.assist?.mode === 'monitor') throw monitorSilent();
    if (to === undefined) {
      return room.present().filter((member) => member !== sender && hears(member, sender));
    }
    const target = room.member(to);
    if (!target || target.legId === null || target === sender) {
      throw new RelayError(
        ErrorCodes.invalidParams,
        `"to" must be the participant id of another participant present in this ${kindOf(room)}.`,
      );
    }
    if (!hears(target, sender)) {
      throw new RelayError(
        ErrorCodes.forbidden,
        'A whispering supervisor messages only its agent. Assist in barge mode to message others.',
      );
    }
    return [target];
  }
}

type MessageBase = { id: string; from: string; resource: string; body: unknown; to?: string };

/** Whether `listener` may receive `source`'s messages: a supervisor's only as its mode says. */
function hears(listener: Member, source: Member): boolean {
  const assist = source.assist;
  if (!assist || assist.mode === 'barge') return true;
  return assist.mode === 'whisper' && assist.agent === listener.participant.id;
}

function monitorSilent(): RelayError {
  return new RelayError(
    ErrorCodes.invalidState,
    'A monitoring supervisor is heard by nobody, so it sends no messages. Assist again in ' +
      'whisper or barge mode to send them.',
  );
}

function kindOf(room: Room): string {
  return room.kind === 'call' ? 'call' : 'room';
}

/** Reads a message's `id`, `body` and `to`; `body` is at most `maxMessageBytes` of JSON. */
export function readMessage(p: ParamReader): { id?: string; body: unknown; to?: string } {
  const id = p.optionalString('id');
  if (id !== undefined && id.length > MAX_MESSAGE_ID_LENGTH) {
    throw new RelayError(
      ErrorCodes.invalidParams,
      `"id" must be at most ${MAX_MESSAGE_ID_LENGTH} characters.`,
    );
  }
  const body = p.messageBody('body');
  const to = p.optionalParticipantId('to');
  return { ...(id === undefined ? {} : { id }), body, ...(to === undefined ? {} : { to }) };
}
