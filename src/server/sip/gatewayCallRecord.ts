import type { CallRecord } from '../../protocol/index.js';
import type { GatewayCall } from './GatewayCall.js';

/**
 * A gateway call as calls.list shows it: the browser party and the far end (caller first),
 * then its supervisors and the audit of their assists.
 */
export function gatewayCallRecord(
  call: GatewayCall,
  supervisors: { participants: CallRecord['participants']; audit: CallRecord['assists'] },
): CallRecord {
  const active = call.state === 'active';
  const far = {
    id: call.farId,
    resource:
      call.direction === 'outgoing' && call.gateway === 'pstn' ? numberOf(call.uri) : call.uri,
    state: active ? ('joined' as const) : ('ringing' as const),
    role: call.direction === 'outgoing' ? ('callee' as const) : ('caller' as const),
  };
  const browsers = call.session ? [call.session] : [...call.rung];
  const party = browsers.slice(0, 1).map((session) => ({
    id: call.partyId,
    resource: session.resource,
    state: call.session
      ? session.link === null
        ? ('away' as const)
        : ('joined' as const)
      : ('ringing' as const),
    role: call.direction === 'outgoing' ? ('caller' as const) : ('callee' as const),
  }));
  const ordered = call.direction === 'outgoing' ? [...party, far] : [far, ...party];
  const record: CallRecord = {
    id: call.id,
    kind: 'call',
    media: 'sip',
    gateway: call.gateway,
    state: active ? 'active' : 'ringing',
    startedAt: call.startedAt,
    participants: [...ordered, ...supervisors.participants],
    assists: supervisors.audit,
  };
  if (call.answeredAt !== undefined) record.answeredAt = call.answeredAt;
  return record;
}

/** The number of a `sip:+15551234567@trunk` URI. */
function numberOf(uri: string): string {
  return uri.slice(4, uri.indexOf('@'));
}
