/**
 * In-call messages (SignalWire Relay v1's `call.message`): text or JSON one participant of a
 * call or room sends to the others, or to one of them. Browsers send them on the peer data
 * channel when they have one, else through the Relay (`call.message`, `room.message`). See
 * docs/PROTOCOL.md#in-call-messages.
 */

/** Longest message id, in characters. */
export const MAX_MESSAGE_ID_LENGTH = 64;

export interface CallMessageParams {
  callId: string;
  /**
   * The message's id (1 to 64 characters), unique per sender: receivers drop a message whose id
   * they already have (it may arrive twice when re-sent after a dropped socket). Default: one the
   * Relay makes.
   */
  id?: string;
  /** A string, or any JSON: at most `maxMessageBytes` bytes of JSON (UTF-8). */
  body: unknown;
  /**
   * The participant id of the one participant it is for (a supervisor, from a party; a party,
   * from a supervisor). Absent: everyone in the call.
   */
  to?: string;
}

export interface RoomMessageParams {
  roomId: string;
  /** As in {@link CallMessageParams}. */
  id?: string;
  /** As in {@link CallMessageParams}. */
  body: unknown;
  /** The participant id of the one participant it is for. Absent: everyone in the room. */
  to?: string;
}

export interface MessageResult {
  /** The message's id (the one sent, or the one the Relay made). */
  id: string;
}

/** What receivers of a message are told (`call.message`, `room.message`). */
interface MessageEventBase {
  seq: number;
  id: string;
  /** The sender's participant id. */
  from: string;
  /** The sender's resource. */
  resource: string;
  /** Set when the message was for this participant alone. */
  to?: string;
  body: unknown;
}

export interface CallMessageEvent extends MessageEventBase {
  callId: string;
}

export interface RoomMessageEvent extends MessageEventBase {
  roomId: string;
}

/**
 * Bytes of a message body as the Relay counts them against `maxMessageBytes`: its JSON text in
 * UTF-8 (a string body counts with its quotes). Without DOM or Node: the protocol runs on both.
 */
export function messageBytes(body: unknown): number {
  const text = JSON.stringify(body) ?? '';
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one 4-byte character (a lone one is 3, as U+FFFD).
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
