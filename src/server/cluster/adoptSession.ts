import type { Clock } from '../clock.js';
import type { Adopted, HandedOver } from './ClusterHost.js';
import type { ForeignCalls } from './ForeignCalls.js';
import type { NodeBus } from './NodeBus.js';
import type { Presence } from './Presence.js';
import type { SessionRecords } from './SessionRecords.js';

/** What resuming here a session another node held needs of the cluster. */
export interface AdoptionContext {
  nodeId: string;
  records: SessionRecords;
  presence: Presence;
  bus: NodeBus;
  foreign: ForeignCalls;
  clock: Clock;
  /** How long after its node was last seen alive a session of a dead node may resume, in ms. */
  deadAfterMs: number;
  timeoutMs: number;
}

/**
 * A session this node does not hold, from its record: its node hands it over (or has
 * died, and its calls with it). Undefined when there is no such session to resume.
 */
export async function adoptSession(
  ctx: AdoptionContext,
  sessionId: string,
  projectId: string,
  resource: string,
): Promise<Adopted | undefined> {
  const { records, presence, bus, foreign, nodeId } = ctx;
  const found = await records.load(sessionId);
  if (!found || found.projectId !== projectId || found.resource !== resource) return undefined;
  if (found.node === nodeId) return { record: found, calls: [] };
  if (!(await presence.alive(found.node))) {
    // Its node died: resumable for the grace period after it was last seen alive.
    const seen = await presence.lastSeen(found.node);
    if (ctx.clock.now() - seen > ctx.deadAfterMs) return undefined;
    return { record: found, calls: [] };
  }
  const handed = await new Promise<HandedOver | undefined | 'silent'>((resolve) =>
    bus.request(found.node, { type: 'handover', sessionId }, ctx.timeoutMs, (error, result) =>
      resolve(error ? 'silent' : (result as HandedOver | undefined)),
    ),
  );
  // Listed as alive but silent: it died within the presence lag. Its calls went with it.
  if (handed === 'silent') return { record: found, calls: [] };
  if (!handed) return undefined;
  // Read again: the old node's last journal writes went to Redis before its answer.
  const record = await records.load(sessionId);
  if (!record) return undefined;
  const calls = [
    ...handed.owned.map((callId) => ({ callId, owner: found.node })),
    // Calls this node owns need no forwarding: the session is local now.
    ...handed.foreign.filter((call) => call.owner !== nodeId),
  ];
  for (const { callId, owner } of calls) foreign.add(callId, owner, sessionId);
  const rooms = handed.rooms ?? [];
  // Third nodes owning its calls or rooms now reach it here.
  for (const owner of new Set([...calls, ...rooms].map((c) => c.owner))) {
    if (owner === found.node || owner === nodeId) continue;
    bus.send(owner, { type: 'moved', sessionId, node: nodeId });
  }
  return { record, calls, rooms };
}
