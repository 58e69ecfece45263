import { readFileSync } from 'node:fs';
import { ALL_SCOPES, RelayError, isScope, type Scope } from '../protocol/index.js';
import type { ProjectCredentials } from './RelayServer.js';
import { checkMetricsOptions, type MetricsOptions } from './metrics/metricsEndpoint.js';
import { checkTurnOptions, type TurnOptions } from './turnCredentials.js';
import { checkJanusOptions, type JanusOptions } from './janus/JanusOptions.js';
import { checkSipOptions, type SipOptions } from './sip/SipOptions.js';

/**
 * The `relaycall` command line's flags and variables, each read and checked here: a mistake is
 * a UsageError (exit status 2) that says what the flag expects.
 */
export class UsageError extends Error {}

/** Runs a check whose RelayError is a mistake in the command line (exit status 2). */
export function asUsage<T>(check: () => T, prefix = ''): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RelayError) throw new UsageError(`${prefix}${error.message}`);
    throw error;
  }
}

export function parseLogFormat(value: string): 'text' | 'json' {
  if (value !== 'text' && value !== 'json') {
    throw new UsageError(`--log-format must be "text" or "json", not "${value}".`);
  }
  return value;
}

/** --metrics, with RELAYCALL_METRICS_TOKEN as its bearer token; never echoes the token. */
export function parseMetrics(
  enabled: boolean,
  token: string | undefined,
): MetricsOptions | undefined {
  if (!enabled) {
    if (token !== undefined) {
      throw new UsageError(
        'RELAYCALL_METRICS_TOKEN is set but --metrics is not: add --metrics to serve /metrics ' +
          'with that token, or unset the variable.',
      );
    }
    return undefined;
  }
  const metrics = token === undefined ? true : { bearerToken: token };
  asUsage(() => checkMetricsOptions(metrics), 'RELAYCALL_METRICS_TOKEN: ');
  return metrics;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, not "${value}".`);
  }
  return port;
}

export function parseUrl(value: string): string {
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UsageError(
      `--url must be the Relay's http:// or https:// URL, like http://127.0.0.1:8080, ` +
        `not "${value}".`,
    );
  }
  return value;
}

export function parseProject(value: string): ProjectCredentials {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw new UsageError(`A project is given as ID:TOKEN, not "${value}".`);
  }
  return { id: value.slice(0, colon), token: value.slice(colon + 1) };
}

export function parseProjects(value: string | undefined): ProjectCredentials[] {
  if (!value?.trim()) return [];
  return value.split(',').map((entry) => parseProject(entry.trim()));
}

export function parseScopes(value: string): Scope[] {
  const scopes = value
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  const unknown = scopes.find((scope) => !isScope(scope));
  if (unknown !== undefined) {
    throw new UsageError(`Unknown scope "${unknown}". Known scopes: ${ALL_SCOPES.join(', ')}.`);
  }
  return scopes as Scope[];
}

export function parseIceServers(value: string | undefined) {
  if (value === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed as { urls: string | string[] }[];
  } catch {
    // Reported below.
  }
  throw new UsageError(
    '--ice-servers must be a JSON array like [{"urls":"turn:turn.example.com"}].',
  );
}

/** --turn-url (repeatable or comma-separated) and the shared secret; never echoes the secret. */
export function parseTurn(values: string[], secret: string | undefined): TurnOptions | undefined {
  const urls = values.flatMap((value) => value.split(',')).map((url) => url.trim());
  if (urls.length === 0) {
    if (secret !== undefined) {
      throw new UsageError(
        'A TURN secret is set (--turn-secret or RELAYCALL_TURN_SECRET) but no --turn-url: ' +
          'add the TURN server URL, e.g. --turn-url "turn:turn.example.com:3478?transport=udp".',
      );
    }
    return undefined;
  }
  if (secret === undefined) {
    throw new UsageError(
      "--turn-url needs the TURN shared secret (coturn's static-auth-secret): set " +
        'RELAYCALL_TURN_SECRET, or pass --turn-secret.',
    );
  }
  return asUsage(() => checkTurnOptions({ urls, secret }));
}

/** An --allowed-origin: `scheme://host[:port]`, as browsers send it in the Origin header. */
export function parseOrigin(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.origin !== value.replace(/\/$/, '')) {
    throw new UsageError(
      `--allowed-origin takes an origin such as https://app.example.com (scheme, host and port ` +
        `only, as browsers send it), not "${value}".`,
    );
  }
  return url.origin;
}

/** The --sip-trunks file, checked now so that a mistake is a usage error, not a crash. */
export function readSipTrunks(
  path: string | undefined,
  withJanus: boolean,
): SipOptions | undefined {
  if (path === undefined) return undefined;
  if (!withJanus) {
    throw new UsageError(
      '--sip-trunks needs --janus: SIP calls go through the SIP plugin of that Janus.',
    );
  }
  let trunks: unknown;
  try {
    trunks = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `--sip-trunks ${path}: ${(error as Error).message}. Give a JSON file of trunks by project id.`,
    );
  }
  const options = { trunks } as SipOptions;
  asUsage(() => checkSipOptions(options), `--sip-trunks ${path}: `);
  return options;
}

export function parseJanus(
  url: string | undefined,
  secret: string | undefined,
): JanusOptions | undefined {
  if (url === undefined) {
    if (secret !== undefined) {
      throw new UsageError(
        'A Janus secret is set (--janus-secret or RELAYCALL_JANUS_SECRET) but no --janus: add ' +
          "the URL of Janus's WebSocket API, e.g. --janus ws://127.0.0.1:8188.",
      );
    }
    return undefined;
  }
  if (secret === undefined) {
    throw new UsageError(
      '--janus needs the token secret of Janus (token_auth_secret in janus.jcfg): set ' +
        'RELAYCALL_JANUS_SECRET, or pass --janus-secret.',
    );
  }
  return asUsage(() => checkJanusOptions({ url, secret }));
}
