'use client';
import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { useStore } from 'zustand';
import {
  createRingtone,
  type RelayClientState,
  type RingtoneOptions,
  type RingtoneState,
} from '../core/index.js';
import { useClientOf } from './RelayContext.js';

export interface UseRingtoneOptions extends Omit<RingtoneOptions, 'tone'> {
  /**
   * Also play a ringback tone while an outgoing call rings (the callee's device rings): true for
   * the generated one, or the URL of a sound. Never for phone and SIP calls, whose network plays
   * its own (early media). Default: false.
   */
  ringback?: boolean | string;
  /** Play at all (e.g. a "silence the ringtone" setting). Default: true. */
  enabled?: boolean;
}

export interface UseRingtoneResult extends RingtoneState {
  /** From a click handler ("Enable sound"): plays now if the browser blocked it (`blocked`). */
  unlock: () => Promise<void>;
}

type Ring = 'ring' | 'ringback' | null;

const STOPPED: RingtoneState = { playing: false, blocked: false };

function ringOf(state: RelayClientState, ringback: boolean): Ring {
  const calls = Object.values(state.calls);
  if (calls.some((c) => c.direction === 'incoming' && c.state === 'ringing')) return 'ring';
  const outgoing = (c: (typeof calls)[number]) =>
    c.direction === 'outgoing' && c.state === 'ringing' && c.gateway === null;
  return ringback && calls.some(outgoing) ? 'ringback' : null;
}

/**
 * Plays a ringtone while an incoming call rings on this client (and, with `ringback`, a
 * ringback tone while an outgoing call rings); stops on answer, reject, hangup and unmount.
 * `blocked` says the browser wants a user gesture first (autoplay policy): the sound then starts
 * on the user's next click or key press, or on `unlock()`.
 */
export function useRingtone(options: UseRingtoneOptions = {}): UseRingtoneResult {
  const client = useClientOf('useRingtone');
  const { ringback = false, enabled = true, src, volume, loop, sinkId } = options;
  const ring = useStore(client.store, (state) =>
    enabled ? ringOf(state, ringback !== false) : null,
  );
  const { Audio, AudioContext, gestureTarget } = options;
  // The environment is read once per mount (it does not change).
  const [ringtone] = useState(() => createRingtone({ Audio, AudioContext, gestureTarget }));
  useEffect(() => () => ringtone.destroy(), [ringtone]);

  useEffect(() => {
    ringtone.update({ volume, loop, sinkId });
  }, [ringtone, volume, loop, sinkId]);

  useEffect(() => {
    if (!ring) return;
    const sound = ring === 'ring' ? src : typeof ringback === 'string' ? ringback : undefined;
    ringtone.update({ src: sound, tone: ring });
    ringtone.start();
    return () => ringtone.stop();
  }, [ringtone, ring, src, ringback]);

  const state = useSyncExternalStore(
    ringtone.store.subscribe,
    ringtone.store.getState,
    () => STOPPED,
  );
  const unlock = useCallback(() => ringtone.unlock(), [ringtone]);
  return { ...state, unlock };
}
