import type { StoreApi } from 'zustand/vanilla';
import {
  ErrorCodes,
  MAX_MESSAGE_ID_LENGTH,
  RelayError,
  ServerEvents,
  messageBytes,
} from '../../protocol/index.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { Peer } from '../peer/createPeer.js';
import type { CallSnapshot, ClientClock, RelayClientState, RoomSnapshot } from '../types.js';
import {
  MAX_MESSAGE_BYTES as MAX_BYTES,
  MAX_MESSAGE_HISTORY,
  type CallMessage,
  type SendMessageOptions,
} from './messageTypes.js';

/** A message on a peer data channel (calls and mesh rooms alike). */
export interface PeerTextMessage {
  t: 'message';
  id: string;
  body: unknown;
  /** Rooms: the participant id it is for alone. */
  to?: string;
}

export interface CallMessagingDeps {
  store: StoreApi<RelayClientState>;
  clock: ClientClock;
  request: RequestFn;
  /** A call's peer (null before it exists or once ended) and its Relay id (null when unrouted). */
  callRoute(callId: string): { peer: Peer | null; serverId: string | null } | undefined;
  /** This client's id of the call the Relay knows as `serverId`. */
  localCallId(serverId: string): string | undefined;
  /** Sends on the data channel with a mesh room's participant; false when none is open. */
  sendToRoomPeer(name: string, participantId: string, message: PeerTextMessage): boolean;
}

let counter = 0;

/**
 * In-call messages: sends each on the peer data channel when one is open, else through the
 * Relay (`call.message`, `room.message`), and keeps the last {@link MAX_MESSAGE_HISTORY} of each
 * call or room in the store's `messages`, by call id or room name, until the call or room is
 * dismissed. Receivers keep a message once, by sender and id: one sent both ways (a mesh
 * broadcast some of whose channels were not open) arrives twice.
 */
export class CallMessaging {
  constructor(private readonly deps: CallMessagingDeps) {
    const { store } = deps;
    // A dismissed call or room takes its messages with it.
    store.subscribe((state, before) => {
      if (state.calls === before.calls && state.rooms === before.rooms) return;
      const gone = Object.keys(state.messages).filter(
        (key) => !Object.hasOwn(state.calls, key) && !Object.hasOwn(state.rooms, key),
      );
      if (gone.length === 0) return;
      const messages = { ...state.messages };
      for (const key of gone) delete messages[key];
      store.setState({ messages });
    });
  }

  async sendMessage(
    id: string,
    body: unknown,
    options: SendMessageOptions = {},
  ): Promise<CallMessage> {
    const sent = asJson(body);
    const state = this.deps.store.getState();
    const call = state.calls[id];
    const room = call ? undefined : state.rooms[id];
    if (!call && !room) {
      throw new RelayError(
        ErrorCodes.invalidState,
        `There is no call with the id "${id}" and no room named "${id}" on this client: pass a ` +
          'call id (from call() or calls) or the name of a room you joined.',
      );
    }
    const message: PeerTextMessage = { t: 'message', id: newMessageId(), body: sent };
    if (options.to !== undefined) message.to = options.to;
    const from = call
      ? await this.sendInCall(call, message)
      : await this.sendInRoom(room!, message);
    const kept: CallMessage = {
      id: message.id,
      from,
      resource: state.resource ?? '',
      to: options.to ?? null,
      body: sent,
      at: this.deps.clock.now(),
      local: true,
    };
    this.keep(id, kept);
    return kept;
  }

  /** `call.message` and `room.message` from the Relay; false for other notifications. */
  onNotification(method: string, params: Record<string, unknown>): boolean {
    if (method !== ServerEvents.message && method !== ServerEvents.roomMessage) return false;
    const { id, from, resource, to, body } = params;
    if (typeof id !== 'string' || typeof from !== 'string' || typeof resource !== 'string') {
      return true;
    }
    const key =
      method === ServerEvents.message
        ? this.deps.localCallId(String(params.callId))
        : Object.values(this.deps.store.getState().rooms).find((r) => r.id === params.roomId)?.name;
    if (key === undefined) return true;
    const inCall = method === ServerEvents.message;
    this.receive(key, {
      id,
      from: inCall ? resource : from,
      resource,
      to: typeof to === 'string' ? to : null,
      body,
    });
    return true;
  }

  /** A message on a call's data channel. */
  fromCallPeer(callId: string, message: PeerTextMessage): void {
    const call = this.deps.store.getState().calls[callId];
    if (!call || !wellFormed(message)) return;
    this.receive(callId, {
      id: message.id,
      from: call.remote,
      resource: call.remote,
      to: null,
      body: message.body,
    });
  }

  /** A message on the data channel with a mesh room's participant. */
  fromRoomPeer(name: string, participantId: string, message: unknown): void {
    const room = this.deps.store.getState().rooms[name];
    if (!room || !wellFormed(message)) return;
    const to = typeof message.to === 'string' ? message.to : null;
    if (to !== null && to !== room.participantId) return;
    const resource = room.participants[participantId]?.resource ?? '';
    this.receive(name, { id: message.id, from: participantId, resource, to, body: message.body });
  }

  /** Sends in a call; resolves this side's name as `from` shows it (its resource). */
  private async sendInCall(call: CallSnapshot, message: PeerTextMessage): Promise<string> {
    if (call.gateway) {
      throw new RelayError(
        ErrorCodes.invalidState,
        'Calls to SIP endpoints or phone numbers take no messages: their far end is not a ' +
          'browser. Send messages in calls between browsers, or in rooms.',
      );
    }
    if (call.state !== 'connecting' && call.state !== 'active' && call.state !== 'held') {
      throw new RelayError(
        ErrorCodes.invalidState,
        `The call is ${call.state}: messages go in calls in progress. Wait until it is answered.`,
      );
    }
    const route = this.deps.callRoute(call.id);
    const resource = this.deps.store.getState().resource ?? '';
    if (message.to === undefined && route?.peer?.connected && route.peer.send(message)) {
      return resource;
    }
    if (!route?.serverId) {
      throw new RelayError(
        ErrorCodes.notConnected,
        'The message could not go: the call has no open data channel and the Relay does not ' +
          'route it now. Try again once the call is connected.',
      );
    }
    await this.deps.request('call.message', { ...wire(message), callId: route.serverId });
    return resource;
  }

  /** Sends in a room; resolves this participant's id (`from`). */
  private async sendInRoom(room: RoomSnapshot, message: PeerTextMessage): Promise<string> {
    const self = room.participantId;
    if (!room.id || !self || (room.state !== 'joined' && room.state !== 'reconnecting')) {
      throw new RelayError(
        ErrorCodes.invalidState,
        `Not in the room "${room.name}" (yet): join it, and wait until it is joined.`,
      );
    }
    const to = message.to;
    if (to !== undefined && (to === self || !room.participants[to])) {
      throw new RelayError(
        ErrorCodes.invalidParams,
        `"to" must be the participant id of another participant of the room "${room.name}".`,
      );
    }
    const receivers =
      to === undefined
        ? Object.values(room.participants)
            .filter((p) => !p.isLocal && (p.state === 'joined' || p.state === 'away'))
            .map((p) => p.id)
        : [to];
    // A supervisor's messages go where its voice does, which only the Relay knows.
    const direct = room.media === 'mesh' && !room.participants[self]?.assist;
    let missed = !direct;
    if (direct) {
      for (const id of receivers) {
        if (!this.deps.sendToRoomPeer(room.name, id, message)) missed = true;
      }
    }
    if (missed) {
      await this.deps.request('room.message', { ...wire(message), roomId: room.id });
    }
    return self;
  }

  private receive(key: string, message: Omit<CallMessage, 'at' | 'local'>): void {
    const kept = this.deps.store.getState().messages[key] ?? [];
    if (kept.some((m) => m.id === message.id && m.from === message.from)) return;
    this.keep(key, { ...message, at: this.deps.clock.now(), local: false });
  }

  private keep(key: string, message: CallMessage): void {
    const { messages } = this.deps.store.getState();
    const list = [...(messages[key] ?? []), message].slice(-MAX_MESSAGE_HISTORY);
    this.deps.store.setState({ messages: { ...messages, [key]: list } });
  }
}

/** The body as receivers get it (JSON), checked against the size limit. */
function asJson(body: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    throw new RelayError(
      ErrorCodes.invalidParams,
      'The message body cannot be sent as JSON (a cycle, or a BigInt). Send a string or plain data.',
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new RelayError(
      ErrorCodes.invalidParams,
      'A message needs a body: a string or JSON-serialisable data.',
    );
  }
  const bytes = messageBytes(body);
  if (bytes > MAX_BYTES) {
    throw new RelayError(
      ErrorCodes.payloadTooLarge,
      `The message is ${bytes} bytes of JSON, more than the ${MAX_BYTES} a message may carry ` +
        '(maxMessageBytes). Send a shorter message, or split it.',
    );
  }
  return JSON.parse(text) as unknown;
}

/** The params of a data-channel message, for the Relay. */
function wire(message: PeerTextMessage): { id: string; body: unknown; to?: string } {
  return {
    id: message.id,
    body: message.body,
    ...(message.to === undefined ? {} : { to: message.to }),
  };
}

function wellFormed(message: unknown): message is PeerTextMessage {
  const m = message as Partial<PeerTextMessage> | null;
  return (
    typeof m?.id === 'string' &&
    m.id.length > 0 &&
    m.id.length <= MAX_MESSAGE_ID_LENGTH &&
    m.body !== undefined &&
    messageBytes(m.body) <= MAX_BYTES
  );
}

function newMessageId(): string {
  const random = Math.random().toString(36).slice(2, 10);
  return `m-${Date.now().toString(36)}-${(counter++).toString(36)}-${random}`;
}
