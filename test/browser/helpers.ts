/**
 * Shared helpers for the browser tests: a test Relay per file, bounded waits on events (never
 * fixed sleeps), tokens and call snapshots.
 */
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { commands } from 'vitest/browser';
import type { RelayClient, RelayClientState } from 'relaycall/core';

/** A test Relay as `commands.startRelay()` answers it. */
export interface TestRelay {
  id: string;
  url: string;
  /** Its test token endpoint: `GET {tokenUrl}?resource=alice[&scopes=…]` → `{"token": jwt}`. */
  tokenUrl: string;
}

/** What a test file shares with its tests: its Relay, and what to undo after each test. */
export interface FileRelay<R> {
  /** The Relay's handle, filled in before the file's first test. */
  relay: R;
  /** Clients the test connected: destroyed after it. */
  clients: RelayClient[];
  /** Run after the test, the last added first, before the clients are destroyed. */
  cleanups: (() => void)[];
}

/**
 * A Relay for this file's tests: `start` (a plain test Relay by default) before the first,
 * `stop` after the last. After each test, `cleanups` run, `clients` are destroyed and the page
 * is emptied. Call it at the top of the file.
 */
export function relayPerFile(): FileRelay<TestRelay>;
export function relayPerFile<R extends { id: string }>(
  start: () => Promise<R>,
  stop: (id: string) => Promise<unknown>,
): FileRelay<R>;
export function relayPerFile(
  start: () => Promise<{ id: string }> = () => commands.startRelay(),
  stop: (id: string) => Promise<unknown> = (id) => commands.stopRelay(id),
): FileRelay<{ id: string }> {
  const file: FileRelay<{ id: string }> = { relay: { id: '' }, clients: [], cleanups: [] };
  // Janus and sipp take a while to start on a loaded machine.
  beforeAll(async () => {
    Object.assign(file.relay, await start());
  }, 60_000);
  afterAll(async () => {
    if (file.relay.id) await stop(file.relay.id);
  });
  afterEach(() => {
    for (const cleanup of file.cleanups.splice(0).reverse()) cleanup();
    for (const client of file.clients.splice(0)) client.destroy();
    document.body.replaceChildren();
  });
  return file;
}

/**
 * A `render(ui)` for this file's tests: renders `ui` with React into a new element of the page,
 * and returns that element. What it rendered is unmounted after each test (the last first),
 * before `relayPerFile()`'s cleanups when called after it (hooks registered later run first).
 */
export function renderPerTest(): (ui: ReactNode) => HTMLElement {
  const roots: Root[] = [];
  afterEach(() => {
    for (const root of roots.splice(0).reverse()) actSync(() => root.unmount());
  });
  return (ui) => {
    const host = document.createElement('div');
    document.body.append(host);
    const root = createRoot(host);
    roots.push(root);
    actSync(() => root.render(ui));
    return host;
  };
}

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
 * A "screen" for the screen-share tests: a canvas (320 × 180 unless told) redrawn every
 * animation frame, captured at 30 fps, with a tone as the tab's audio if `tone`. Its stop
 * (drawing, tone) goes onto `stops`.
 */
export function canvasScreen(
  stops: (() => void)[],
  { tone = false, width = 320, height = 180 } = {},
): MediaStream {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  let frame = 0;
  let handle = 0;
  const draw = () => {
    frame += 1;
    context.fillStyle = `hsl(${frame % 360} 80% 50%)`;
    context.fillRect(0, 0, canvas.width, canvas.height);
    handle = requestAnimationFrame(draw);
  };
  draw();
  const stream = canvas.captureStream(30);
  const audio = tone ? new AudioContext() : null;
  if (audio) {
    const oscillator = audio.createOscillator();
    const sink = audio.createMediaStreamDestination();
    oscillator.connect(sink);
    oscillator.start();
    for (const track of sink.stream.getAudioTracks()) stream.addTrack(track);
  }
  stops.push(() => {
    cancelAnimationFrame(handle);
    void audio?.close();
  });
  return stream;
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

/**
 * A JWT for `resource` from the test Relay's token endpoint, as an app's back end hands one out;
 * with `scopes` (comma-separated), else the endpoint's default ones.
 */
export async function fetchTestToken(
  tokenUrl: string,
  resource: string,
  scopes?: string,
): Promise<string> {
  const query = new URLSearchParams({ resource, ...(scopes === undefined ? {} : { scopes }) });
  const response = await fetch(`${tokenUrl}?${query}`);
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** The call ringing in on a client, if any. */
export const ringingCall = (state: RelayClientState) =>
  Object.values(state.calls).find((c) => c.direction === 'incoming' && c.state === 'ringing');

/** For a wait's failure: the call `callId` as `client` has it (its streams left out). */
export const describeCall = (client: RelayClient, callId: string) => () =>
  JSON.stringify(client.store.getState().calls[callId] ?? null, (key, value: unknown) =>
    key === 'localStream' || key === 'remoteStream' ? undefined : value,
  );

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
