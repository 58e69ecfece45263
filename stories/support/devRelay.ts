/**
 * The development Relay the stories call through. `npm start` runs Storybook with the
 * `relaycall()` Vite plugin (relaycall/vite), which mounts a Relay and a dev-only token endpoint
 * on Storybook's own server; the story tests (Vitest browser mode) get the same plugin on
 * Vitest's browser server. Either way the Relay is at the page's origin, and stories use
 * `<RelayProvider url={location.origin} fetchToken={…the endpoint…}>` exactly as an app does.
 */
import type { Scope } from 'relaycall';

/** Where `relaycall()` answers `{"token": jwt}` for `?resource=NAME[&scopes=…]`. */
export const DEV_TOKEN_PATH = '/api/relaycall/dev-token';

/** The Relay's base URL: the server that serves this page. */
export const relayUrl = (): string => location.origin;

/** A `fetchToken` for RelayProvider: asks the dev token endpoint, as an app asks its back end. */
export function devTokens(resource: string, scopes?: Scope[]): () => Promise<{ token: string }> {
  return async () => {
    const query = new URLSearchParams({ resource });
    if (scopes) query.set('scopes', scopes.join(','));
    const response = await fetch(`${DEV_TOKEN_PATH}?${query}`, { cache: 'no-store' });
    if (!response.ok) throw new Error(`The dev token endpoint answered ${response.status}.`);
    return (await response.json()) as { token: string };
  };
}

let probe: Promise<boolean> | undefined;

/**
 * Whether this page's server runs the dev Relay (`npm start`, the story tests), as opposed to a
 * static Storybook (`npm run build-storybook`), whose server has no token endpoint.
 */
export function hasDevRelay(): Promise<boolean> {
  probe ??= devTokens('storybook-probe')()
    .then((body) => typeof body.token === 'string')
    .catch(() => false);
  return probe;
}

/** `base` with a random suffix, so stories (and parallel story tests) never ring each other. */
export function uniqueName(base: string, suffix = randomSuffix()): string {
  return `${base}-${suffix}`;
}

export function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 7);
}

/**
 * An address where no Relay listens: the last TCP port on loopback (browsers refuse the
 * well-known "discard" ports outright, which would not look like a Relay that went away).
 */
export const NO_RELAY_URL = 'http://127.0.0.1:65535';
