/**
 * Shared pieces of the fault, leak and call tests: waits on a client's store, a call set up
 * between two clients, a seeded PRNG, droppable sockets and figures.
 */
import { commands } from 'vitest/browser';
import type {
  CallOptions,
  RelayClient,
  RelayClientState,
  WebSocketFactory,
  WebSocketLike,
} from 'relaycall/core';
import { ringingCall, within } from './helpers.js';
import type { SipRelayHandle } from './sipCommands.js';

/** Every end reason a call snapshot may carry (CallEndReason in src/core/types.ts). */
export const END_REASONS = [
  'hangup',
  'cancelled',
  'declined',
  'busy',
  'unavailable',
  'no-answer',
  'answered-elsewhere',
  'forbidden',
  'disconnected',
  'failed',
] as const;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

/** Median and worst of a list of durations. */
export function figures(samples: number[]): { median: number; worst: number; samples: number[] } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] ?? 0)
      : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median: Math.round(median), worst: Math.round(sorted.at(-1) ?? 0), samples };
}

/** Watches the frames `video` presents until `stop()`: how many, and the longest gap between two. */
export function watchFrames(video: HTMLVideoElement) {
  let frames = 0;
  let last = performance.now();
  let longestGap = 0;
  let running = true;
  const onFrame = (now: number) => {
    frames += 1;
    longestGap = Math.max(longestGap, now - last);
    last = now;
    if (running) video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  return {
    stop(): { frames: number; longestGapMs: number } {
      running = false;
      return { frames, longestGapMs: Math.round(Math.max(longestGap, performance.now() - last)) };
    },
  };
}

/** Resolves with the state once `predicate` holds (checked on every store change). */
export function until(
  client: RelayClient,
  predicate: (state: RelayClientState) => boolean,
  label: string | (() => string),
  ms = 8000,
): Promise<RelayClientState> {
  let stop = () => {};
  const promise = new Promise<RelayClientState>((resolve) => {
    stop = client.store.subscribe((state) => {
      if (predicate(state)) resolve(state);
    });
    if (predicate(client.store.getState())) resolve(client.store.getState());
  });
  return within(promise, ms, typeof label === 'string' ? label : 'condition').then(
    (state) => {
      stop();
      return state;
    },
    (error: Error) => {
      stop();
      throw typeof label === 'string' ? error : new Error(`${error.message}: ${label()}`);
    },
  );
}

/** Resolves once `predicate` holds, checked on every change of any of `clients`' stores. */
export function untilAll(
  clients: RelayClient[],
  predicate: () => boolean,
  label: () => string,
  ms: number,
): Promise<void> {
  const stops: (() => void)[] = [];
  const promise = new Promise<void>((resolve) => {
    for (const client of clients) {
      stops.push(client.store.subscribe(() => predicate() && resolve()));
    }
    if (predicate()) resolve();
  });
  return within(promise, ms, 'condition').then(
    () => stops.forEach((stop) => stop()),
    (error: Error) => {
      stops.forEach((stop) => stop());
      throw new Error(`${error.message}: ${label()}`);
    },
  );
}

/**
 * `caller` calls `callee` (the resource `to`) with `options`, and `callee` answers: resolves with
 * both sides' call ids, `[caller's, callee's]`, once both are active (each wait within `ms`).
 */
export async function activeCall(
  caller: RelayClient,
  callee: RelayClient,
  to: string,
  options?: CallOptions,
  ms = 8000,
): Promise<[string, string]> {
  const callerCall = caller.call(to, options);
  const ringing = ringingCall(await until(callee, (s) => !!ringingCall(s), `${to} rings`, ms))!;
  await callee.answer(ringing.id);
  const who = caller.store.getState().resource;
  await until(caller, (s) => s.calls[callerCall]?.state === 'active', `${who} active`, ms);
  await until(callee, (s) => s.calls[ringing.id]?.state === 'active', `${to} active`, ms);
  return [callerCall, ringing.id];
}

/**
 * A call from the phone network: sipp calls +15551230000 through the trunk (uac-inbound, hanging
 * up after `holdMs`), which the Relay routes to 'alice'. Resolves with the sipp and the call
 * once it rings on `client` (connected as alice to the inbound project).
 */
export async function ringsFromTrunk(relay: SipRelayHandle, client: RelayClient, holdMs: number) {
  const caller = await commands.startSippFar(relay.id, 'uac-inbound', {
    remote: relay.registrarContact,
    service: '+15551230000',
    vars: { hold_ms: holdMs },
  });
  const state = await until(
    client,
    (s) => ringingCall(s) !== undefined,
    () => `a call from the trunk to ring: ${JSON.stringify(client.store.getState().calls)}`,
    15_000,
  );
  return { caller, incoming: ringingCall(state)! };
}

export async function fetchToken(tokenUrl: string, resource: string, expiresIn?: number) {
  const query = expiresIn === undefined ? '' : `&expires_in=${expiresIn}`;
  const response = await fetch(`${tokenUrl}?resource=${resource}${query}`);
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** One JSON-RPC frame on a signaling socket, as a fault trigger sees it. */
export interface Frame {
  dir: 'out' | 'in';
  /** Method of a request or notification. */
  method?: string;
  /** For a reply: the method of the request it answers. */
  replyTo?: string;
  /** The call the frame is about (`callId` of its params or result), if any. */
  callId?: string;
}

/**
 * Decides, for each frame, whether the network drops right here: `before` (the frame is lost
 * with the connection) or `after` (it gets through, then the connection is lost).
 */
export type Trigger = (frame: Frame) => 'before' | 'after' | null;

/**
 * The signaling sockets of one client, through a fault proxy. `drop()` partitions the current
 * socket at once (nothing more gets through either way, as when a cable is pulled) and has the
 * proxy cut its TCP connection, so both ends see 1006 and no close frame: the Relay detaches the
 * session and the client resumes it on a new socket.
 */
export class FaultyLine {
  /** Consulted for every frame until it fires once; then cleared. */
  trigger: Trigger | null = null;
  drops = 0;
  /** Settles once the socket dropped last has closed (its client saw 1006). */
  dropped: Promise<void> = Promise.resolve();
  private current: DroppableSocket | null = null;
  private serial = 0;

  constructor(
    private readonly proxy: { id: string; url: string },
    readonly name: string,
  ) {}

  /** The Relay URL to give createRelayClient: the proxy's. */
  get url(): string {
    return this.proxy.url;
  }

  /** The WebSocket constructor to give createRelayClient. */
  get WebSocket(): WebSocketFactory {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const line = this;
    return class extends DroppableSocket {
      constructor(url: string) {
        super(line, url, `${line.name}-${++line.serial}`);
        line.current = this;
      }
    };
  }

  /** Drops the current socket now; resolves once its client saw it close. */
  drop(): Promise<void> {
    this.current?.partition();
    return this.dropped;
  }

  /** @internal */
  cut(name: string, closed: Promise<void>): void {
    this.drops += 1;
    this.dropped = closed;
    void commands.cutConnection(this.proxy.id, name).then((found) => {
      if (!found) console.warn(`fault proxy: no connection ${name} to cut`);
    });
  }

  /** @internal Whether the network drops at `frame`; fires the trigger once. */
  check(frame: Frame): 'before' | 'after' | null {
    const when = this.trigger?.(frame) ?? null;
    if (when) this.trigger = null;
    return when;
  }
}

class DroppableSocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  private readonly socket: WebSocket;
  private partitioned = false;
  private readonly closed: Promise<void>;
  /** Methods of the requests sent, by id, to name their replies. */
  private readonly requests = new Map<unknown, string>();

  constructor(
    private readonly line: FaultyLine,
    url: string,
    private readonly name: string,
  ) {
    const target = new URL(url);
    target.searchParams.set('fault', name);
    this.socket = new WebSocket(target);
    this.socket.onopen = (event) => this.onopen?.(event);
    this.socket.onerror = (event) => this.onerror?.(event);
    this.closed = new Promise((resolve) => {
      this.socket.onclose = (event) => {
        this.onclose?.({ code: event.code, reason: event.reason });
        resolve();
      };
    });
    this.socket.onmessage = (event) => {
      // A turn's messages come batched in one frame; each is a point the line may drop at.
      const parsed = parse(event.data);
      const messages = Array.isArray(parsed) ? parsed.map((m) => JSON.stringify(m)) : [event.data];
      for (const data of messages) {
        if (this.partitioned) return;
        const when = this.line.check(this.frame('in', data));
        if (when === 'before') return this.partition();
        this.onmessage?.({ data });
        if (when === 'after') this.partition();
      }
    };
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  send(data: string): void {
    if (this.partitioned) return;
    const when = this.line.check(this.frame('out', data));
    if (when === 'before') return this.partition();
    this.socket.send(data);
    if (when === 'after') this.partition();
  }

  close(code?: number, reason?: string): void {
    // A partitioned socket cannot say goodbye: the close frame would never arrive.
    if (this.partitioned) return;
    this.socket.close(code, reason);
  }

  partition(): void {
    if (this.partitioned || this.socket.readyState !== WebSocket.OPEN) return;
    this.partitioned = true;
    this.line.cut(this.name, this.closed);
  }

  private frame(dir: 'in' | 'out', data: unknown): Frame {
    let message: {
      id?: unknown;
      method?: unknown;
      params?: { callId?: unknown };
      result?: { callId?: unknown };
    };
    try {
      message = JSON.parse(String(data)) as typeof message;
    } catch {
      return { dir };
    }
    const callId = message.params?.callId ?? message.result?.callId;
    const about = typeof callId === 'string' ? { callId } : {};
    if (typeof message.method === 'string') {
      if (dir === 'out' && message.id !== undefined) this.requests.set(message.id, message.method);
      return { dir, method: message.method, ...about };
    }
    const replyTo = dir === 'in' ? this.requests.get(message.id) : undefined;
    if (replyTo) this.requests.delete(message.id);
    return { dir, replyTo, ...about };
  }
}

function parse(data: unknown): unknown {
  try {
    return JSON.parse(String(data));
  } catch {
    return undefined;
  }
}
