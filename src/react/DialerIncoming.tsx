'use client';
import type { CallSnapshot } from '../core/index.js';
import type { DialerLabels } from './dialerLabels.js';

export interface DialerIncomingProps {
  call: CallSnapshot;
  labels: DialerLabels;
  onAccept: (callId: string) => void;
  onDecline: (callId: string) => void;
}

/** Who is calling, with Accept and Decline buttons. */
export function DialerIncoming({ call, labels, onAccept, onDecline }: DialerIncomingProps) {
  return (
    <div
      className="relaycall-dialer__incoming"
      role="group"
      aria-label={labels.ringingIncoming(call.remote)}
    >
      <span className="relaycall-dialer__caller">{call.remote}</span>
      <button
        type="button"
        className="relaycall-dialer__accept"
        aria-label={labels.accept}
        onClick={() => onAccept(call.id)}
      >
        {labels.accept}
      </button>
      <button
        type="button"
        className="relaycall-dialer__decline"
        aria-label={labels.decline}
        onClick={() => onDecline(call.id)}
      >
        {labels.decline}
      </button>
    </div>
  );
}
