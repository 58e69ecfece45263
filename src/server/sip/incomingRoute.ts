import type { RelayLimits } from '../../protocol/index.js';
import { can } from '../signaling/authorize.js';
import type { Session } from '../signaling/Session.js';
import type { SessionRouter } from '../signaling/SessionRouter.js';
import type { IncomingSipCall } from './SipGateway.js';
import type { ResolvedTrunk } from './SipOptions.js';

/** Whom a call from a trunk rings, or the SIP status that refuses it. */
export type IncomingRoute =
  { trunk: ResolvedTrunk; sessions: Session[] } | { refuse: 404 | 480 | 486 | 488 };

/**
 * Routes a call from a trunk: the dialled number's resource (the trunk's `routes`), rung on
 * every connected session that may receive calls and has room for one more. Refused 404 when the
 * number routes nowhere, 488 without SDP (nothing to offer the browser), 480 when no session of
 * the resource is connected, 486 when every one is busy.
 */
export function incomingRoute(
  incoming: IncomingSipCall,
  trunks: ReadonlyMap<string, ResolvedTrunk>,
  router: SessionRouter,
  limits: RelayLimits,
): IncomingRoute {
  const trunk = trunks.get(incoming.project);
  const number = incoming.to ?? trunk?.numbers[0];
  const resource = number === undefined ? undefined : trunk?.routes[number];
  if (!trunk || resource === undefined) return { refuse: 404 };
  if (incoming.offer === undefined) return { refuse: 488 };
  const receivers = router
    .ofResource(incoming.project, resource)
    .filter((s) => s.link !== null && can(s.scopes, 'receive'));
  if (receivers.length === 0) return { refuse: 480 };
  const sessions = receivers.filter((s) => s.calls.size < limits.maxCallsPerSession);
  if (sessions.length === 0) return { refuse: 486 };
  return { trunk, sessions };
}
