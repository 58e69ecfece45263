'use client';
import type { DialerLabels } from './dialerLabels.js';

export interface DialerActionsProps {
  labels: DialerLabels;
  /** A call is in progress: Hang up, instead of Call. */
  inProgress: boolean;
  /** A call rings in and none is in progress: Accept and Decline (elsewhere) are the only actions. */
  ringing: boolean;
  /** Call may be pressed (connected or connecting, and something to dial). */
  canCall: boolean;
  onHangup: () => void;
}

/** The Dialer's Call (the form's submit) or Hang up button. */
export function DialerActions({
  labels,
  inProgress,
  ringing,
  canCall,
  onHangup,
}: DialerActionsProps) {
  return (
    <div className="relaycall-dialer__actions">
      {/* Distinct keys: a click that hangs up must not land on a re-typed submit button. */}
      {ringing && !inProgress ? null : inProgress ? (
        <button
          key="hangup"
          type="button"
          className="relaycall-dialer__hangup"
          aria-label={labels.hangUp}
          onClick={onHangup}
        >
          {labels.hangUp}
        </button>
      ) : (
        <button
          key="call"
          type="submit"
          className="relaycall-dialer__call"
          aria-label={labels.call}
          disabled={!canCall}
        >
          {labels.call}
        </button>
      )}
    </div>
  );
}
