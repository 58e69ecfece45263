/** Shared helpers for the browser tests: bounded waits on events, never fixed sleeps. */
import { act } from 'react';
import type { RelayClientState } from 'relaycall/core';

/** Rejects with `label` if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the first value passed to a listener registered through `subscribe`. */
export function first<T = void>(
  subscribe: (listener: (value: T) => void) => () => void,
  label: string,
  ms = 5000,
): Promise<T> {
  let unsubscribe: (() => void) | undefined;
  const promise = new Promise<T>((resolve) => {
    unsubscribe = subscribe(resolve);
  });
  return within(promise, ms, label).finally(() => unsubscribe?.());
}

/** Resolves once `predicate` holds, checking after each `event` on `target`. */
export function until(
  target: EventTarget,
  event: string,
  predicate: () => boolean,
  label: string,
  ms = 5000,
): Promise<void> {
  if (predicate()) return Promise.resolve();
  let listener: (() => void) | undefined;
  const promise = new Promise<void>((resolve) => {
    listener = () => {
      if (predicate()) resolve();
    };
    target.addEventListener(event, listener);
  });
  return within(promise, ms, label).finally(() => {
    if (listener) target.removeEventListener(event, listener);
  });
}

/** Plays `stream` in a muted `<video>` attached to the page; returns it. */
export async function playInVideo(stream: MediaStream): Promise<HTMLVideoElement> {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = stream;
  document.body.append(video);
  await within(video.play(), 5000, 'video.play()');
  return video;
}

/**
 * Waits until `count` new frames were presented in `video` and returns the last frame's metadata.
 * requestVideoFrameCallback only fires for frames that really reached the compositor.
 */
export function framesPresented(
  video: HTMLVideoElement,
  count: number,
  label: string,
  ms = 5000,
): Promise<VideoFrameCallbackMetadata> {
  const promise = new Promise<VideoFrameCallbackMetadata>((resolve) => {
    let seen = 0;
    const onFrame: VideoFrameRequestCallback = (_now, metadata) => {
      seen += 1;
      if (seen >= count) resolve(metadata);
      else video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
  return within(promise, ms, label);
}

/** Resolves once `check()` holds, checked every animation frame (for state shown in the DOM). */
export function untilTrue(check: () => boolean, label: string, ms = 8000): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const tick = () => (check() ? resolve() : requestAnimationFrame(tick));
      tick();
    }),
    ms,
    label,
  );
}

/** A JWT for `resource` from the test Relay's token endpoint, as an app's back end hands one out. */
export async function fetchTestToken(tokenUrl: string, resource: string): Promise<string> {
  const response = await fetch(`${tokenUrl}?resource=${resource}`);
  return ((await response.json()) as { token: string }).token;
}

/** The call ringing in on a client, if any. */
export const ringingCall = (state: RelayClientState) =>
  Object.values(state.calls).find((c) => c.direction === 'incoming' && c.state === 'ringing');

type ActScope = { IS_REACT_ACT_ENVIRONMENT?: boolean };

/**
 * React's act() for a synchronous render, click or unmount. React wants
 * IS_REACT_ACT_ENVIRONMENT while act runs, and only then: the rest of a browser test's updates
 * come from the network on their own (awaited as conditions), where the flag would make React
 * warn that they are not wrapped in act.
 */
export function actSync(callback: () => void): void {
  const scope = globalThis as ActScope;
  scope.IS_REACT_ACT_ENVIRONMENT = true;
  try {
    void act(callback);
  } finally {
    scope.IS_REACT_ACT_ENVIRONMENT = false;
  }
}

/** {@link actSync} for an asynchronous callback. */
export async function actAsync(callback: () => Promise<unknown> | unknown): Promise<void> {
  const scope = globalThis as ActScope;
  scope.IS_REACT_ACT_ENVIRONMENT = true;
  try {
    await act(async () => {
      await callback();
    });
  } finally {
    scope.IS_REACT_ACT_ENVIRONMENT = false;
  }
}
