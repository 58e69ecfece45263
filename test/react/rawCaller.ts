/**
 * The other party of a call, speaking docs/PROTOCOL.md JSON-RPC over a plain
 * WebSocket: it can invite, hang up and see notifications without any media
 * (which jsdom lacks). It gets its token from the test token endpoint.
 */
import { getToken, relayUrl } from './helpers.js';

export interface Notification {
  method: string;
  params: Record<string, unknown>;
}

export interface RawCaller {
  resource: string;
  /** `call.invite`; resolves the call id. */
  invite(to: string, metadata?: unknown): Promise<string>;
  hangup(callId: string): Promise<void>;
  /** `call.answer` of a call ringing here. */
  answer(callId: string): Promise<void>;
  /** Any other request; resolves its result, rejects with the Relay's message. */
  request<T = unknown>(method: string, params: object): Promise<T>;
  /** Every notification received so far, in order. */
  received(): readonly Notification[];
  /** Resolves the first notification (already received or next) `matches` accepts. */
  next(matches: (notification: Notification) => boolean): Promise<Notification>;
  /** Resolves the first notification (already received or next) matching `method` and `callId`. */
  notification(method: string, callId: string): Promise<Notification>;
  close(): void;
}

/** Connects `resource` to the test Relay over a raw socket (`relay.connect`). */
export async function connectRawCaller(resource: string, token?: string): Promise<RawCaller> {
  token ??= await getToken(resource);
  const payload = token.split('.')[1] ?? '';
  const project = (
    JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as {
      sub: string;
    }
  ).sub;
  const socket = new WebSocket(`${relayUrl.replace(/^http/, 'ws')}/api/relay/ws`);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const received: Notification[] = [];
  const waiters: Array<() => void> = [];
  let nextId = 1;

  type Message = {
    id?: number;
    method?: string;
    params?: Record<string, unknown>;
    result?: unknown;
    error?: { message: string };
  };
  socket.onmessage = (event) => {
    // One message per frame, or a turn's messages as a JSON-RPC batch.
    const parsed = JSON.parse(String(event.data)) as Message | Message[];
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) receive(message);
  };
  const receive = (message: Message) => {
    if (message.method) {
      received.push({ method: message.method, params: message.params ?? {} });
      for (const wake of waiters.splice(0)) wake();
    } else if (typeof message.id === 'number') {
      const request = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) request?.reject(new Error(message.error.message));
      else request?.resolve(message.result);
    }
  };
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error('raw caller: socket error'));
  });
  const rpc = <T>(method: string, params: object) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  await rpc('relay.connect', { project, token });
  const next = async (matches: (notification: Notification) => boolean) => {
    for (;;) {
      const found = received.find(matches);
      if (found) return found;
      await new Promise<void>((wake) => waiters.push(wake));
    }
  };

  return {
    resource,
    invite: async (to, metadata) =>
      (await rpc<{ callId: string }>('call.invite', { to, metadata })).callId,
    hangup: async (callId) => {
      await rpc('call.hangup', { callId });
    },
    answer: async (callId) => {
      await rpc('call.answer', { callId });
    },
    request: (method, params) => rpc(method, params),
    received: () => received,
    notification: (method, callId) =>
      next((n) => n.method === method && n.params.callId === callId),
    next,
    close: () => socket.close(1000),
  };
}
