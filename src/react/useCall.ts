'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import type {
  CallDirection,
  CallEndReason,
  CallOptions,
  CallSnapshot,
  CallState,
  SupervisorSnapshot,
} from '../core/index.js';
import { ErrorCodes, RelayError } from '../protocol/index.js';
import { shownCallId } from './shownCallId.js';
import { useCallControls, type CallControls } from './useCallControls.js';
import { useCallDuration } from './useCallDuration.js';
import { useClientOf } from './RelayContext.js';

export interface UseCallOptions extends CallOptions {
  /** Bind to this existing call (e.g. an incoming one from useIncomingCall) instead of placing one. */
  callId?: string;
}

/** `idle` before `start()` (or when the bound call is gone), then the call's state. */
export type UseCallState = 'idle' | CallState;

export interface UseCallResult extends CallControls {
  state: UseCallState;
  /** The call's id: local to this client (the Relay's own id for it is not exposed). */
  callId: string | null;
  /** `outgoing` for a call placed with start(), `incoming` for an answered one; null when idle. */
  direction: CallDirection | null;
  /** The other party's resource. */
  remote: string | null;
  /**
   * Places a call to `to` (default: the hook's target) and returns its id; what follows
   * (ringing, unavailable, media denied…) shows in `state`, `endReason` and `error`. While the
   * hook shows a call in progress it places nothing and returns that call's id (a double click
   * rings once). Before the client is connected the call waits in `dialing` and goes once it is.
   * Returns null when the call could not even be placed (see `error`).
   */
  start: (to?: string) => string | null;
  /** Hangs up, cancels or declines the call. */
  hangup: () => void;
  /** Removes the call from the client (hanging it up first if needed); the hook shows `idle`. */
  dismiss: () => void;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  audioMuted: boolean;
  videoMuted: boolean;
  held: boolean;
  remoteAudioMuted: boolean;
  remoteVideoMuted: boolean;
  remoteHeld: boolean;
  /** False while the other side's connection to the Relay is gone (it may come back). */
  peerConnected: boolean;
  /** True while the media path is down and being restored (show "Reconnecting…"). */
  reconnecting: boolean;
  /** DTMF tones the other side sent during this call, in order. */
  remoteDtmf: string;
  /** Audio output chosen with `setAudioOutput`; give it to `<VideoTile sinkId>`. Null: default. */
  audioOutputId: string | null;
  endReason: CallEndReason | null;
  error: RelayError | null;
  /** Whole seconds the call has been active (ticks once a second, only while in progress). */
  duration: number;
  /** Who supervises the call; play the `stream` of those this side `heard`s. */
  supervisors: SupervisorSnapshot[];
}

interface Placement {
  to: string;
  id: string | null;
  error: RelayError | null;
}

const NO_SUPERVISORS: SupervisorSnapshot[] = [];

const REASONS: Partial<Record<string, CallEndReason>> = {
  [ErrorCodes.unavailable]: 'unavailable',
  [ErrorCodes.busy]: 'busy',
  [ErrorCodes.forbidden]: 'forbidden',
};

function asRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  return new RelayError(ErrorCodes.callFailed, 'The call could not be placed.', { cause: error });
}

/**
 * One call. Shows, in this order: the call `options.callId` names; the call this hook placed
 * while it is in progress; the latest call in progress with `target` (any call in progress when
 * there is no target), whoever placed or answered it; then the last call it showed, once ended.
 * So a component that remounts mid-call shows the call again, and calls never belong to a
 * component: they live in the provider's client until hung up (see also `useCalls`).
 * Re-renders only when that call's snapshot changes (and once a second while active).
 */
export function useCall(target?: string, options?: UseCallOptions): UseCallResult {
  const client = useClientOf('useCall');
  const [placement, setPlacement] = useState<Placement | null>(null);
  const latest = useRef({ target, options });
  const placedId = useRef<string | null>(null);
  const lastShown = useRef<string | null>(null);
  useEffect(() => {
    latest.current = { target, options };
  }, [target, options]);

  const bound = options?.callId;
  const callId = useStore(client.store, (state) =>
    shownCallId(state, { bound, own: placedId.current, target, lastShown: lastShown.current }),
  );
  const call: CallSnapshot | null = useStore(client.store, (state) =>
    callId === null ? null : (state.calls[callId] ?? null),
  );
  useEffect(() => {
    if (callId !== null) lastShown.current = callId;
  }, [callId]);
  // Nobody can show this hook's own call once it ended and the hook is gone: let it go.
  useEffect(
    () => () => {
      const own = placedId.current ? client.store.getState().calls[placedId.current] : undefined;
      if (own?.state === 'ended') client.dismiss(own.id);
    },
    [client],
  );
  const duration = useCallDuration(call);
  const controls = useCallControls(client, callId);

  const start = useCallback(
    (to?: string): string | null => {
      const state = client.store.getState();
      const shownId = shownCallId(state, {
        bound: latest.current.options?.callId,
        own: placedId.current,
        target: latest.current.target,
        lastShown: lastShown.current,
      });
      const shown = shownId === null ? undefined : state.calls[shownId];
      if (shown && shown.state !== 'ended') return shown.id;
      const callee = to ?? latest.current.target ?? '';
      const { metadata, audio, video, localStream } = latest.current.options ?? {};
      const callOptions: CallOptions = { metadata, audio, video, localStream };
      // This hook showed its previous call: drop it from the store once ended.
      const old = placedId.current ? state.calls[placedId.current] : undefined;
      if (old?.state === 'ended') client.dismiss(old.id);
      try {
        if (!callee) {
          throw new RelayError(ErrorCodes.invalidParams, 'Nobody to call: pass useCall(target).');
        }
        const id = client.call(callee, callOptions);
        placedId.current = id;
        setPlacement({ to: callee, id, error: null });
        return id;
      } catch (error) {
        placedId.current = null;
        setPlacement({ to: callee, id: null, error: asRelayError(error) });
        return null;
      }
    },
    [client],
  );
  const hangup = useCallback(() => {
    if (callId !== null) client.hangup(callId);
  }, [client, callId]);
  const dismiss = useCallback(() => {
    if (callId !== null) client.dismiss(callId);
    if (placedId.current === callId) placedId.current = null;
    lastShown.current = null;
    setPlacement(null);
  }, [client, callId]);

  // A placement that failed at once shows as ended, until a call is shown instead.
  const failed = call === null ? (placement?.error ?? null) : null;
  return {
    ...controls,
    state: call?.state ?? (failed ? 'ended' : 'idle'),
    callId,
    direction: call?.direction ?? (failed ? 'outgoing' : null),
    remote: call?.remote ?? (failed ? (placement?.to ?? null) : null),
    start,
    hangup,
    dismiss,
    localStream: call?.localStream ?? null,
    remoteStream: call?.remoteStream ?? null,
    audioMuted: call?.audioMuted ?? false,
    videoMuted: call?.videoMuted ?? false,
    held: call?.held ?? false,
    remoteAudioMuted: call?.remoteAudioMuted ?? false,
    remoteVideoMuted: call?.remoteVideoMuted ?? false,
    remoteHeld: call?.remoteHeld ?? false,
    peerConnected: call?.peerConnected ?? true,
    reconnecting: call?.reconnecting ?? false,
    remoteDtmf: call?.remoteDtmf ?? '',
    audioOutputId: call?.audioOutputId ?? null,
    endReason: call?.endReason ?? (failed ? (REASONS[failed.code] ?? 'failed') : null),
    error: call?.error ?? failed,
    duration,
    supervisors: call?.supervisors ?? NO_SUPERVISORS,
  };
}
