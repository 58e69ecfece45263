import type { AssistAudit, AssistMode } from '../../protocol/index.js';

/** A supervisor took `mode` at `at`: its previous entry (if still open) closes, a new one opens. */
export function auditAssist(
  audit: AssistAudit[],
  by: string,
  participantId: string,
  mode: AssistMode,
  at: number,
): void {
  const open = audit.findLast((entry) => entry.participantId === participantId);
  if (open && open.until === undefined) open.until = at;
  audit.push({ by, participantId, mode, at });
}

/** The supervisor left: its open entry closes. */
export function auditLeave(audit: AssistAudit[], participantId: string, at: number): void {
  const open = audit.findLast((entry) => entry.participantId === participantId);
  if (open && open.until === undefined) open.until = at;
}
