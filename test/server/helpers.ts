import { WebSocket } from 'ws';
import { ManualClock } from 'relaycall/testing';
import { createRelayServer, type RelayServer, type RelayServerOptions } from 'relaycall/server';

export { ManualClock };

export const PROJECT = { id: 'acme', token: 'acme-project-token-0123456789' };
export const OTHER_PROJECT = { id: 'globex', token: 'globex-project-token-0123456789' };

export interface TestRelay {
  relay: RelayServer;
  url: string;
  wsUrl: string;
  clock: ManualClock;
  /** POST /jwt for the test project; resolves the pair. */
  token(body?: Record<string, unknown>, project?: typeof PROJECT): Promise<Pair>;
  /** Opens a socket and completes relay.connect as `resource`. */
  connect(
    resource: string,
    options?: { scopes?: string[]; project?: typeof PROJECT },
  ): Promise<TestClient>;
  close(): Promise<void>;
}

export interface Pair {
  jwt_token: string;
  refresh_token: string;
}

/** A real Relay on an ephemeral loopback port, driven by a manual clock. */
export async function startRelay(options: RelayServerOptions = {}): Promise<TestRelay> {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
  const relay = await createRelayServer({
    projects: [PROJECT, OTHER_PROJECT],
    clock,
    ...options,
    // Heartbeats need real round trips, which a manual clock never waits for.
    limits: { heartbeatIntervalMs: 0, ...options.limits },
  });
  const url = await relay.listen({ port: 0 });
  const wsUrl = `${url.replace(/^http/, 'ws')}/api/relay/ws`;
  const clients: TestClient[] = [];
  const testRelay: TestRelay = {
    relay,
    url,
    wsUrl,
    clock,
    async token(body = {}, project = PROJECT) {
      const response = await rest(url, 'POST', body, basic(project));
      if (response.status !== 201) throw new Error(`token: ${response.status} ${response.text}`);
      return response.json as Pair;
    },
    async connect(resource, { scopes, project = PROJECT } = {}) {
      const pair = await testRelay.token({ resource, ...(scopes ? { scopes } : {}) }, project);
      const client = await TestClient.open(wsUrl);
      clients.push(client);
      await client.call('relay.connect', { project: project.id, token: pair.jwt_token });
      return client;
    },
    async close() {
      for (const client of clients) client.ws.terminate();
      await relay.close();
    },
  };
  return testRelay;
}

export function basic(project: { id: string; token: string }): string {
  return `Basic ${Buffer.from(`${project.id}:${project.token}`).toString('base64')}`;
}

export interface RestResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function rest(
  url: string,
  method: string,
  body?: unknown,
  authorization?: string,
  headers: Record<string, string> = {},
): Promise<RestResponse> {
  const response = await fetch(`${url}/api/relay/rest/jwt`, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

interface Message {
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown> & { seq?: number };
  result?: unknown;
  error?: { code: number; message: string; data?: { code: string } };
}

/** A JSON-RPC error answered by the Relay. */
export class RpcFailure extends Error {
  constructor(
    readonly rpcCode: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A raw signaling client: real socket, JSON-RPC calls and a queue of notifications. */
export class TestClient {
  readonly notifications: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  lastSeq = 0;
  private nextId = 1;
  private readonly pending = new Map<string | number, (message: Message) => void>();
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    ws.on('message', (data) => {
      // One frame carries one message, or a turn's messages as a JSON-RPC batch.
      const parsed = JSON.parse(data.toString()) as Message | Message[];
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) this.receive(message);
    });
  }

  private receive(message: Message): void {
    if (message.id !== undefined && message.id !== null && this.pending.has(message.id)) {
      this.pending.get(message.id)?.(message);
      this.pending.delete(message.id);
    } else {
      if (typeof message.params?.seq === 'number') this.lastSeq = message.params.seq;
      this.notifications.push(message);
    }
    this.wake();
  }

  static open(
    url: string,
    options?: ConstructorParameters<typeof WebSocket>[2],
  ): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestClient(ws)));
      ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends a request and resolves its result; rejects with RpcFailure on an error reply. */
  async call(method: string, params?: unknown): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const reply = new Promise<Message>((resolve) => this.pending.set(id, resolve));
    this.send({ jsonrpc: '2.0', id, method, params });
    const message = await Promise.race([
      reply,
      this.closed.then(({ code }) => {
        throw new Error(`socket closed (${code}) before the reply to ${method}`);
      }),
    ]);
    if (message.error) {
      throw new RpcFailure(message.error.code, message.error.data?.code, message.error.message);
    }
    return message.result as Record<string, unknown>;
  }

  /** Resolves (and removes) the first queued notification matching `method` (and `match`). */
  async next(method: string, match: (params: Record<string, unknown>) => boolean = () => true) {
    for (;;) {
      const index = this.notifications.findIndex(
        (message) => message.method === method && match(message.params ?? {}),
      );
      if (index >= 0)
        return this.notifications.splice(index, 1)[0]?.params as Record<string, unknown>;
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed while waiting for ${method}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves the next reply with id null (errors to unparseable requests). */
  async nextRaw(predicate: (message: Message) => boolean): Promise<Message> {
    for (;;) {
      const index = this.notifications.findIndex(predicate);
      if (index >= 0) return this.notifications.splice(index, 1)[0] as Message;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Waits for the server to have processed everything sent so far (a ping round trip). */
  async settle(): Promise<void> {
    await this.call('relay.ping');
  }

  close(code = 1000): Promise<{ code: number; reason: string }> {
    this.ws.close(code);
    return this.closed;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** Opens a raw socket and connects with an explicit token. */
export async function connectWith(
  wsUrl: string,
  params: Record<string, unknown>,
): Promise<{ client: TestClient; result: Record<string, unknown> }> {
  const client = await TestClient.open(wsUrl);
  const result = await client.call('relay.connect', params);
  return { client, result };
}

/** `caller` calls `callee` (the resource `to`), which answers: resolves with the call id. */
export async function activeCall(
  caller: TestClient,
  callee: TestClient,
  to: string,
): Promise<string> {
  const { callId } = (await caller.call('call.invite', { to })) as { callId: string };
  await callee.next('call.incoming', (p) => p.callId === callId);
  await callee.call('call.answer', { callId });
  await caller.next('call.answered', (p) => p.callId === callId);
  return callId;
}

/** Polls `probe` until it returns true; fails after `timeoutMs`, saying what it waited for. */
export async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The RpcFailure a request was refused with; fails when it was not refused. */
export async function refusal(promise: Promise<unknown>): Promise<RpcFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcFailure) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}
