/** Shared helpers for the jsdom tests: real tokens from the test Relay, a socket counter, probes. */
import { render } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import {
  RelayProvider,
  useRelayClient,
  useToken,
  type RelayClient,
  type RelayClientState,
  type RelayProviderProps,
} from 'relaycall';
import { expect, inject, vi, type Mock } from 'vitest';
import type { StoreApi } from 'zustand/vanilla';

export const relayUrl = inject('relayUrl');
export const tokenUrl = inject('tokenUrl');

/** A resource name no other test uses (test files share one Relay). */
export function uniqueResource(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Gets a JWT the way an app does: from its back end (here the test token endpoint). */
export async function getToken(resource: string, expiresInMinutes?: number): Promise<string> {
  const query = new URLSearchParams({ resource });
  if (expiresInMinutes !== undefined) query.set('expires_in', String(expiresInMinutes));
  const response = await fetch(`${tokenUrl}?${query}`);
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** A fetchToken for RelayProvider whose tokens carry `scopes` (comma-separated). */
export function scopedToken(resource: string, scopes: string): () => Promise<string> {
  return async () => {
    const query = new URLSearchParams({ resource, scopes });
    const response = await fetch(`${tokenUrl}?${query}`);
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
    return ((await response.json()) as { token: string }).token;
  };
}

/** A fetchToken for RelayProvider that records each call and each token it returned. */
export function tokenFetcher(resource: string, expiresInMinutes?: number) {
  const tokens: string[] = [];
  const calledAt: number[] = [];
  const fetchToken = vi.fn(async () => {
    calledAt.push(Date.now());
    const token = await getToken(resource, expiresInMinutes);
    tokens.push(token);
    return token;
  });
  return { fetchToken, tokens, calledAt };
}

/**
 * Counts the WebSockets the page opens, by wrapping jsdom's real WebSocket (the
 * sockets still go to the real Relay), and the requests sent on them that still wait for
 * their reply (`unanswered()`; a socket that closed waits for nothing).
 */
export function countSockets(): { sockets: WebSocket[]; unanswered: () => number } {
  const sockets: WebSocket[] = [];
  const waiting = new Map<WebSocket, Set<unknown>>();
  const Base = globalThis.WebSocket;
  class CountingWebSocket extends Base {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      const ids = new Set<unknown>();
      waiting.set(this, ids);
      this.addEventListener('message', (event) => {
        // A turn's messages may come as one JSON-RPC batch.
        for (const message of [parse(event.data)].flat()) {
          if (message?.id !== undefined) ids.delete(message.id);
        }
      });
      this.addEventListener('close', () => ids.clear());
    }

    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      const message = parse(data);
      if (!Array.isArray(message) && message?.id !== undefined && message.method !== undefined)
        waiting.get(this)?.add(message.id);
      super.send(data);
    }
  }
  type Rpc = { id?: unknown; method?: unknown } | undefined;
  function parse(data: unknown): Rpc | Rpc[] {
    try {
      return JSON.parse(String(data)) as Rpc | Rpc[];
    } catch {
      return undefined;
    }
  }
  vi.stubGlobal('WebSocket', CountingWebSocket);
  const unanswered = () => [...waiting.values()].reduce((sum, ids) => sum + ids.size, 0);
  return { sockets, unanswered };
}

/**
 * Fake timers and Date that move only when the test moves them (no shouldAdvanceTime): timers
 * then count fake time alone, and how long the real traffic takes (the token endpoint, the
 * Relay's replies, on a machine as loaded as it gets) cannot make one fire early. The Relay's
 * clock stays real.
 */
export const STILL_TIMERS: Parameters<typeof vi.useFakeTimers>[0] = {
  toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
};

// Captured before any test fakes timers.
const realSetTimeout = globalThis.setTimeout;
const realNow = performance.now.bind(performance);

/**
 * With STILL_TIMERS: waits in real time until `assertion` passes while fake time stands still.
 * Between tries only the fake timers already due run (react-query's zero-delay notifications),
 * so real I/O comes in but nothing scheduled for later can fire, however slow the machine.
 * Bounded (real time) for a condition that never comes.
 */
export async function waitStill(assertion: () => void, timeoutMs = 15_000): Promise<void> {
  const deadline = realNow() + timeoutMs;
  // As RTL's waitFor does: updates while waiting are not the test's own, so not in act().
  const global = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
  const actEnvironment = global.IS_REACT_ACT_ENVIRONMENT;
  global.IS_REACT_ACT_ENVIRONMENT = false;
  try {
    for (;;) {
      if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(0);
      try {
        assertion();
        return;
      } catch (error) {
        if (realNow() > deadline) throw error;
      }
      await new Promise((resolve) => realSetTimeout(resolve, 5));
    }
  } finally {
    global.IS_REACT_ACT_ENVIRONMENT = actEnvironment;
  }
}

/**
 * With STILL_TIMERS: moves fake time forward `ms`, a second at a time, and after each second
 * waits (fake time still) until every request on the counted sockets has its reply. A
 * keep-alive ping (every 5 s, given up after 4) or a re-authentication is thus answered within
 * its fake time, however slow the machine: no timeout the Relay could not have met.
 */
export async function advanceStill(ms: number, unanswered: () => number): Promise<void> {
  for (let left = ms; left > 0; left -= 1000) {
    await vi.advanceTimersByTimeAsync(Math.min(1000, left));
    await waitStill(() => expect(unanswered(), 'requests waiting for the Relay').toBe(0));
  }
}

/** Shows the provider's connection and token state as text, and hands out the client. */
export function Probe({ onClient }: { onClient?: (client: RelayClient) => void }) {
  const { client, status, resource, error } = useRelayClient();
  const token = useToken();
  onClient?.(client);
  return (
    <dl>
      <dt>status</dt>
      <dd data-testid="status">{status}</dd>
      <dt>resource</dt>
      <dd data-testid="resource">{resource ?? ''}</dd>
      <dt>client error</dt>
      <dd data-testid="client-error">{error?.code ?? ''}</dd>
      <dt>token status</dt>
      <dd data-testid="token-status">{token.status}</dd>
      <dt>token error</dt>
      <dd data-testid="token-error">{token.error?.message ?? ''}</dd>
      <dt>token</dt>
      <dd data-testid="token">{token.token ?? ''}</dd>
    </dl>
  );
}

/** Renders `ui` inside a RelayProvider connected to the test Relay. */
export function renderWithRelay(
  ui: ReactNode,
  props: Omit<RelayProviderProps, 'url' | 'children'> & { strict?: boolean },
) {
  const { strict = false, ...providerProps } = props;
  const tree = (
    <RelayProvider url={relayUrl} {...providerProps}>
      {ui}
    </RelayProvider>
  );
  return render(strict ? <StrictMode>{tree}</StrictMode> : tree);
}

/**
 * The client's store with its setter, for tests that put snapshots jsdom cannot produce (media,
 * peers) into it. The client's public store type may be read-only; the zustand store is not.
 */
export function writableStore(client: RelayClient): StoreApi<RelayClientState> {
  return client.store as unknown as StoreApi<RelayClientState>;
}

/**
 * Replaces the client's `method` with a mock for the rest of the test (the client is the test's
 * own, destroyed with its provider): for methods that would need media jsdom does not have.
 */
export function mockClientMethod<K extends ClientMethod>(
  client: RelayClient,
  method: K,
  implementation: RelayClient[K],
): Mock<RelayClient[K]> {
  const mock = vi.fn(implementation);
  Object.assign(client, { [method]: mock });
  return mock;
}

type ClientMethod = {
  [K in keyof RelayClient]: RelayClient[K] extends (...args: never[]) => unknown ? K : never;
}[keyof RelayClient];
