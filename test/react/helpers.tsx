/** Shared helpers for the jsdom tests: real tokens from the test Relay, a socket counter, probes. */
import { render } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import {
  RelayProvider,
  useRelayClient,
  useToken,
  type RelayClient,
  type RelayProviderProps,
} from 'relaycall';
import { inject, vi } from 'vitest';

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
 * sockets still go to the real Relay).
 */
export function countSockets(): { sockets: WebSocket[] } {
  const sockets: WebSocket[] = [];
  const Base = globalThis.WebSocket;
  class CountingWebSocket extends Base {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  vi.stubGlobal('WebSocket', CountingWebSocket);
  return { sockets };
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
