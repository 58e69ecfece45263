import { DEFAULT_LIMITS } from '../../protocol/limits.js';

/** A message sent or received in a call or room (`sendMessage`), as kept in the store. */
export interface CallMessage {
  /** Unique per sender (a message that arrives twice is kept once). */
  id: string;
  /**
   * Who sent it: in a call, the sender's resource (the call's `remote`, or this client's own
   * resource for messages it sent); in a room, the sender's participant id (see `participants`).
   */
  from: string;
  /** The sender's resource, in calls and rooms alike. */
  resource: string;
  /** The participant id it was addressed to alone (rooms), or null when it was for everyone. */
  to: string | null;
  /** A string, or the JSON the sender sent. */
  body: unknown;
  /** When this client sent or received it, in ms (the client clock). */
  at: number;
  /** This client sent it. */
  local: boolean;
}

/** Options of `sendMessage`. */
export interface SendMessageOptions {
  /**
   * Rooms: the participant id of the one participant the message is for; the others never
   * receive it. In a call between browsers the message goes to the other party (`to` may name a
   * supervisor's participant id, through the Relay). Default: everyone.
   */
  to?: string;
}

/** In-call messages of a client. */
export interface MessagesApi {
  /**
   * Sends `body` (a string, or JSON-serialisable data of at most 16 KiB of JSON, UTF-8:
   * `maxMessageBytes`) to the others in the call `id` (its call id) or the room `id` (its name),
   * or to one of them (`options.to`). It goes on the peer data channel when there is one (calls
   * between browsers, mesh rooms), else through the Relay (sfu rooms, a data channel not open
   * yet). Resolves with the message once sent, and it shows in `messages[id]`. Rejects with a
   * RelayError: `payload_too_large` (nothing sent), `invalid_state` (no such call or room, not
   * active or joined, or a phone or SIP call, whose far end takes no messages), `not_connected`,
   * or the Relay's refusal (`peer_backlogged`: send it again shortly; `rate_limited`).
   */
  sendMessage(id: string, body: unknown, options?: SendMessageOptions): Promise<CallMessage>;
}

/** Largest message body, in bytes of its JSON (UTF-8): the Relay's default `maxMessageBytes`. */
export const MAX_MESSAGE_BYTES = DEFAULT_LIMITS.maxMessageBytes;

/** Messages kept per call or room in `messages` (oldest dropped first). */
export const MAX_MESSAGE_HISTORY = 100;
