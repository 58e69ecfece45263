'use client';
import { useMemo, useState, type FormEvent, type KeyboardEvent } from 'react';
import { gatewayOf, type CallOptions } from '../core/index.js';
import { DialerActions } from './DialerActions.js';
import { DialerIncoming } from './DialerIncoming.js';
import { DIALER_IN_PROGRESS, dialable, dialerMedia } from './dialTarget.js';
import { DialerKeypad, isDialerKey } from './DialerKeypad.js';
import { DialerScreenShare } from './DialerScreenShare.js';
import { DialerSupervisors } from './DialerSupervisors.js';
import {
  dialerStatusText,
  mergeDialerLabels,
  type DialerKey,
  type DialerLabels,
} from './dialerLabels.js';
import { formatDuration } from './formatDuration.js';
import { useCall } from './useCall.js';
import { useIncomingCall } from './useIncomingCall.js';
import { useOnCallEnded, type EndedCall } from './useOnCallEnded.js';
import { useRelayClient } from './useRelayClient.js';

export interface DialerProps {
  /** The number or resource to call (controlled). Use with `onTargetChange`. */
  target?: string;
  /** The initial number or resource (uncontrolled). */
  defaultTarget?: string;
  onTargetChange?: (target: string) => void;
  /**
   * Media and metadata for placed calls; media for answered ones. Calls to phone numbers and
   * `sip:` addresses are audio only whatever `video` says.
   */
  callOptions?: CallOptions;
  onCallEnded?: (call: EndedCall) => void;
  className?: string;
  /** Texts to translate; unspecified ones keep their English default. */
  labels?: Partial<DialerLabels>;
}

/** A keypad dialer with call, hang-up, DTMF, incoming accept/decline and a live status. */
export function Dialer(props: DialerProps) {
  const { target, defaultTarget = '', onTargetChange, callOptions, className } = props;
  const labels = useMemo(() => mergeDialerLabels(props.labels), [props.labels]);
  const [draft, setDraft] = useState(defaultTarget);
  const value = target ?? draft;
  const typed = dialable(value);
  const { status } = useRelayClient();
  const incoming = useIncomingCall();
  const placing = useMemo(() => dialerMedia(callOptions, gatewayOf(typed)), [callOptions, typed]);
  // The call the Dialer placed, or any call in progress (one answered here or elsewhere).
  const call = useCall(undefined, placing);
  const inProgress = DIALER_IN_PROGRESS.has(call.state);
  // Calls placed while connecting wait for the connection; only a client that gave up cannot.
  const canCall = status !== 'failed' && status !== 'disconnected';
  const dtmf = call.state === 'active';
  useOnCallEnded(call, props.onCallEnded);

  const setValue = (next: string) => {
    if (target === undefined) setDraft(next);
    onTargetChange?.(next);
  };
  const place = (event: FormEvent) => {
    event.preventDefault();
    if (inProgress || typed === '' || !canCall) return;
    call.start(typed);
  };
  const press = (key: DialerKey) => {
    if (dtmf) call.sendDtmf(key);
    else if (!inProgress) setValue(value + key);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    // During a call, the keyboard's digits send tones like the keypad.
    if (!dtmf || !isDialerKey(event.key) || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    call.sendDtmf(event.key);
  };
  const ringing = incoming.call;
  const accept = (callId: string) => {
    const options = dialerMedia(callOptions, incoming.calls.find((c) => c.id === callId)?.gateway);
    incoming.answer(callId, options).catch(() => undefined); // shown by the call's state
  };
  const text = dialerStatusText(labels, {
    connection: status,
    state: call.state,
    direction: call.direction,
    remote: call.remote,
    remoteHeld: call.remoteHeld,
    endReason: call.endReason,
    incomingFrom: ringing?.remote ?? null,
  });

  return (
    <div
      className={className ? `relaycall-dialer ${className}` : 'relaycall-dialer'}
      data-state={call.state}
      data-connection={status}
      onKeyDown={onKeyDown}
    >
      <form className="relaycall-dialer__form" onSubmit={place}>
        <input
          className="relaycall-dialer__input"
          type="text"
          inputMode="tel"
          autoComplete="off"
          aria-label={labels.target}
          placeholder={labels.placeholder}
          value={value}
          readOnly={inProgress}
          onChange={(event) => setValue(event.target.value)}
        />
        <DialerKeypad labels={labels} disabled={inProgress && !dtmf} onPress={press} />
        <DialerActions
          labels={labels}
          inProgress={inProgress}
          ringing={Boolean(ringing)}
          canCall={canCall && typed !== ''}
          onHangup={call.hangup}
        />
      </form>
      {ringing && (
        <DialerIncoming
          call={ringing}
          labels={labels}
          onAccept={accept}
          onDecline={(callId) => incoming.reject(callId)}
        />
      )}
      <p className="relaycall-dialer__status" role="status" aria-live="polite">
        {text}
      </p>
      {(call.state === 'active' || call.state === 'held') && (
        <span className="relaycall-dialer__timer" role="timer" aria-label={labels.duration}>
          {formatDuration(call.duration)}
        </span>
      )}
      <DialerScreenShare
        callId={
          (dtmf || call.state === 'held') && !gatewayOf(call.remote ?? '') ? call.callId : null
        }
        remote={call.remote ?? ''}
        labels={labels}
        sinkId={call.audioOutputId}
      />
      <DialerSupervisors
        supervisors={inProgress ? call.supervisors : []}
        labels={labels}
        sinkId={call.audioOutputId}
      />
    </div>
  );
}
