'use client';
import { useMemo } from 'react';
import type { MediaOptions, RelayClient } from '../core/index.js';
import { ErrorCodes, RelayError } from '../protocol/index.js';

/** What can be done to a call that exists in the store. Each acts on the call's latest state. */
export interface CallControls {
  /** Answers the (incoming, ringing) call. Acquires media per `options`. */
  answer: (options?: MediaOptions) => Promise<void>;
  /** Declines the (incoming, ringing) call; `busy` only stops it ringing here. */
  reject: (reason?: 'declined' | 'busy') => void;
  toggleAudio: () => void;
  toggleVideo: () => void;
  hold: () => void;
  unhold: () => void;
  toggleHold: () => void;
  /** Sends DTMF tones (0-9, *, #, A-D, ',' for a pause) on the call's audio. */
  sendDtmf: (tones: string) => void;
  switchMicrophone: (deviceId: string) => Promise<void>;
  switchCamera: (deviceId: string) => Promise<void>;
  /** Where the remote audio plays (where the browser can choose the output). */
  setAudioOutput: (deviceId: string) => void;
  /**
   * Blind transfer (SIP REFER) of the active gateway call to a `sip:` URI or phone number; the
   * call then ends with `transferred`. Rejects with a RelayError (see `RelayClient.transfer`).
   */
  transfer: (to: string) => Promise<void>;
}

function noCall(): RelayError {
  return new RelayError(ErrorCodes.callNotFound, 'There is no call yet: start() or bind a callId.');
}

/** Controls bound to `callId`; they throw (or reject) a `call_not_found` RelayError without one. */
export function useCallControls(client: RelayClient, callId: string | null): CallControls {
  return useMemo(() => {
    const id = (): string => {
      if (callId === null) throw noCall();
      return callId;
    };
    const snapshot = () => client.store.getState().calls[id()];
    return {
      answer: async (options) => client.answer(id(), options),
      reject: (reason) => client.reject(id(), reason),
      toggleAudio: () => client.setAudioMuted(id(), !(snapshot()?.audioMuted ?? false)),
      toggleVideo: () => client.setVideoMuted(id(), !(snapshot()?.videoMuted ?? false)),
      hold: () => client.setHeld(id(), true),
      unhold: () => client.setHeld(id(), false),
      toggleHold: () => client.setHeld(id(), !(snapshot()?.held ?? false)),
      sendDtmf: (tones) => client.sendDtmf(id(), tones),
      switchMicrophone: async (deviceId) => client.switchDevice(id(), 'audioinput', deviceId),
      switchCamera: async (deviceId) => client.switchDevice(id(), 'videoinput', deviceId),
      setAudioOutput: (deviceId) => client.setAudioOutput(id(), deviceId),
      transfer: async (to) => client.transfer(id(), to),
    };
  }, [client, callId]);
}
