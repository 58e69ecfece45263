import {
  ErrorCodes,
  RelayRpcError,
  RpcErrorCodes,
  Scopes,
  gatewayOf,
  gatewayTargetProblem,
  type Gateway,
  type Scope,
} from '../../protocol/index.js';
import type { Session } from '../signaling/Session.js';
import type { SipGateway } from './SipGateway.js';
import { sipHost, type ResolvedTrunk } from './SipOptions.js';

export function rpc(
  rpcCode: number,
  code: (typeof ErrorCodes)[keyof typeof ErrorCodes],
  message: string,
): RelayRpcError {
  return new RelayRpcError(rpcCode, code, message);
}

const SCOPE_OF: Record<Gateway, { scope: Scope; doing: string }> = {
  sip: { scope: Scopes.sip, doing: 'call SIP addresses' },
  pstn: { scope: Scopes.pstn, doing: 'call phone numbers' },
};

/** Where a call (or a transfer) to a number or `sip:` URI goes: its trunk and its SIP URI. */
export interface GatewayTarget {
  gateway: Gateway;
  trunk: ResolvedTrunk;
  /** `sip:+1555…@<trunk domain>` for a number, the URI itself for a `sip:` address. */
  uri: string;
}

/**
 * Checks that `session` may reach `to` through the trunk of `project` (its scope, the target's
 * form, the trunk's sipDomains, the gateway being up), throwing the wire error that says what to
 * do; `what` names the action in the sipDomains refusal.
 */
export function gatewayTarget(
  session: Session,
  to: string,
  project: string,
  trunks: ReadonlyMap<string, ResolvedTrunk>,
  gateway: SipGateway | undefined,
  what: 'SIP calls' | 'Transfers',
): GatewayTarget {
  const kind = gatewayOf(to);
  const problem = kind ? gatewayTargetProblem(to) : 'must be a phone number or a sip: URI';
  if (kind) {
    const { scope, doing } = SCOPE_OF[kind];
    if (!session.scopes.includes(scope)) {
      throw rpc(
        RpcErrorCodes.forbidden,
        ErrorCodes.forbidden,
        `This token lacks the "${scope}" scope. Issue the token with that scope to ${doing}.`,
      );
    }
  }
  if (!kind || problem) {
    throw rpc(
      RpcErrorCodes.invalidParams,
      ErrorCodes.invalidParams,
      `Invalid params: "to" ${problem}.`,
    );
  }
  const trunk = trunkOf(project, trunks, gateway);
  if (
    kind === 'sip' &&
    !trunk.sipDomains.includes('*') &&
    !trunk.sipDomains.includes(sipHost(to))
  ) {
    throw rpc(
      RpcErrorCodes.forbidden,
      ErrorCodes.forbidden,
      `${what} to ${sipHost(to)} are not allowed for this project. Add the host to its ` +
        "trunk's sipDomains (docs/DEPLOY.md#sip).",
    );
  }
  return { gateway: kind, trunk, uri: kind === 'pstn' ? `sip:${to}@${trunk.domain}` : to };
}

/** The project's trunk, while the gateway is up; else the wire error saying what to do. */
function trunkOf(
  project: string,
  trunks: ReadonlyMap<string, ResolvedTrunk>,
  gateway: SipGateway | undefined,
): ResolvedTrunk {
  const trunk = trunks.get(project);
  if (!trunk || !gateway) {
    throw rpc(
      RpcErrorCodes.gatewayUnavailable,
      ErrorCodes.gatewayUnavailable,
      'This project has no SIP trunk on this Relay: configure one to call numbers and SIP ' +
        'addresses (docs/DEPLOY.md#sip).',
    );
  }
  if (!gateway.available) {
    throw rpc(
      RpcErrorCodes.gatewayUnavailable,
      ErrorCodes.gatewayUnavailable,
      "The Relay's media gateway (Janus) is not reachable now. Try again in a moment.",
    );
  }
  return trunk;
}
