import { ErrorCodes, RelayError, gatewayTargetProblem } from '../../protocol/index.js';

/**
 * A project's SIP trunk: where its phone calls go and come from. Everything here stays on the
 * Relay (credentials never reach a browser). See docs/DEPLOY.md#sip.
 */
export interface SipTrunk {
  /**
   * The trunk's SIP proxy (or Kamailio in front of it), e.g. `sip:sip.example.net` or
   * `sip:10.0.0.5:5060`. Calls to numbers go through it, and the Relay registers there to
   * receive calls when `routes` is set.
   */
  proxy: string;
  /** Domain of the trunk's SIP URIs: +15551234567 is dialled as `sip:+15551234567@domain`. Default: the proxy's host. */
  domain?: string;
  /** Digest user name, when the trunk authenticates. Default: the first of `numbers`. */
  username?: string;
  /** Digest password. Needed to receive calls (the registration) and by trunks that challenge INVITEs. */
  password?: string;
  /**
   * E.164 numbers the project owns. The first is the caller ID of outgoing calls and the
   * identity the Relay registers with. At least one.
   */
  numbers: string[];
  /**
   * Incoming calls: which resource each called number rings, e.g. `{ '+15551230000': 'alice' }`.
   * Calls to other numbers are refused with 404. Default: none (no registration, no incoming
   * calls).
   */
  routes?: Record<string, string>;
  /**
   * Hosts that `sip:` URIs may reach directly, compared without case, e.g. `['pbx.example.com',
   * '10.0.0.7']`; `['*']` allows any host. Default: none (`sip:` calls are refused with
   * `forbidden`): the gateway would otherwise reach any address a token holder names.
   */
  sipDomains?: string[];
  /** How long an incoming call rings before it is refused with 480, in ms. Default 30 000. */
  ringTimeoutMs?: number;
}

/** The SIP gateway: Janus's SIP plugin on the Relay's Janus, and a trunk per project. */
export interface SipOptions {
  /** Trunks by project id. A project without one cannot call numbers or `sip:` URIs. */
  trunks: Record<string, SipTrunk>;
}

/** A trunk with its defaults filled in. */
export interface ResolvedTrunk extends Required<Omit<SipTrunk, 'password'>> {
  password: string | undefined;
  /** `sip:host[:port]` of the proxy, as Janus wants it. */
  proxy: string;
}

const PROXY = /^sip:([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;
export const DEFAULT_SIP_RING_TIMEOUT_MS = 30_000;

function bad(project: string, what: string): RelayError {
  return new RelayError(ErrorCodes.badRequest, `SIP trunk of project "${project}": ${what}`);
}

/** Checks every trunk; throws a `bad_request` RelayError saying what to fix. */
export function checkSipOptions(options: SipOptions): Map<string, ResolvedTrunk> {
  const trunks = new Map<string, ResolvedTrunk>();
  if (typeof options !== 'object' || options === null || typeof options.trunks !== 'object') {
    throw new RelayError(
      ErrorCodes.badRequest,
      'SIP options need `trunks`: an object of trunks by project id (docs/DEPLOY.md#sip).',
    );
  }
  for (const [project, trunk] of Object.entries(options.trunks)) {
    const proxy = typeof trunk.proxy === 'string' ? PROXY.exec(trunk.proxy) : null;
    if (!proxy) {
      throw bad(
        project,
        `proxy ${JSON.stringify(trunk.proxy)} is not a 'sip:host' or 'sip:host:port' URI.`,
      );
    }
    if (!Array.isArray(trunk.numbers) || trunk.numbers.length === 0) {
      throw bad(project, 'give `numbers`, the E.164 numbers it owns (the first is the caller ID).');
    }
    for (const number of trunk.numbers) {
      if (typeof number !== 'string' || !number.startsWith('+') || gatewayTargetProblem(number)) {
        throw bad(
          project,
          `number ${JSON.stringify(number)} must be an E.164 number like "+15551234567".`,
        );
      }
    }
    const routes = trunk.routes ?? {};
    for (const [number, resource] of Object.entries(routes)) {
      if (!trunk.numbers.includes(number)) {
        throw bad(project, `route ${number} is not one of its numbers; add it to \`numbers\`.`);
      }
      if (typeof resource !== 'string' || resource.length === 0) {
        throw bad(project, `route ${number} needs the resource it rings.`);
      }
    }
    if (Object.keys(routes).length > 0 && !trunk.password) {
      throw bad(
        project,
        'receiving calls (`routes`) needs `password`: the Relay registers at the proxy.',
      );
    }
    const ringTimeoutMs = trunk.ringTimeoutMs ?? DEFAULT_SIP_RING_TIMEOUT_MS;
    if (!Number.isFinite(ringTimeoutMs) || ringTimeoutMs <= 0) {
      throw bad(project, 'ringTimeoutMs must be a positive number of ms.');
    }
    trunks.set(project, {
      proxy: trunk.proxy,
      domain: trunk.domain ?? proxy[1]!,
      username: trunk.username ?? trunk.numbers[0]!,
      password: trunk.password,
      numbers: [...trunk.numbers],
      routes: { ...routes },
      sipDomains: (trunk.sipDomains ?? []).map((d) => d.toLowerCase()),
      ringTimeoutMs,
    });
  }
  return trunks;
}

/** The host of a `sip:user@host[:port]` URI, lower case. */
export function sipHost(uri: string): string {
  const at = uri.lastIndexOf('@');
  const hostPort = uri.slice(at + 1);
  const host = hostPort.startsWith('[')
    ? hostPort.slice(0, hostPort.indexOf(']') + 1)
    : hostPort.split(':')[0]!;
  return host.toLowerCase();
}
