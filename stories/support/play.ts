/** Helpers for play functions: bounded waits on what the user sees, never fixed sleeps. */
import { expect, waitFor, within } from 'storybook/test';

/** Generous enough for a call set up on a loaded 2-core machine; a pass is usually ~1 s. */
export const CALL_TIMEOUT = 15_000;

/** The Dialer's root element (it carries data-state and data-connection). */
export function dialerIn(root: HTMLElement, index = 0): HTMLElement {
  const dialer = root.querySelectorAll<HTMLElement>('.relaycall-dialer')[index];
  if (!dialer) throw new Error('No Dialer in the story');
  return dialer;
}

/** Waits until the Dialer's live region says `text`. */
export async function expectStatus(
  dialer: HTMLElement,
  text: string | RegExp,
  timeout = CALL_TIMEOUT,
): Promise<void> {
  await waitFor(() => expect(within(dialer).getByRole('status')).toHaveTextContent(text), {
    timeout,
  });
}

/** Waits until the Dialer's call is in `state` (its data-state). */
export async function expectState(
  dialer: HTMLElement,
  state: string,
  timeout = CALL_TIMEOUT,
): Promise<void> {
  await waitFor(() => expect(dialer).toHaveAttribute('data-state', state), { timeout });
}

/** Waits until the Dialer is connected to the Relay. */
export async function expectReady(dialer: HTMLElement): Promise<void> {
  await waitFor(() => expect(dialer).toHaveAttribute('data-connection', 'connected'), {
    timeout: CALL_TIMEOUT,
  });
}

/** The panel of a scripted counterpart, to query within. */
export function counterpart(root: HTMLElement, resource: string) {
  return within(within(root).getByRole('complementary', { name: `${resource} (scripted)` }));
}

/** Waits until a counterpart's panel field (connection, call, dtmf, remote) matches. */
export async function expectCounterpart(
  root: HTMLElement,
  resource: string,
  field: 'connection' | 'call' | 'dtmf' | 'remote',
  text: string | RegExp,
  timeout = CALL_TIMEOUT,
): Promise<void> {
  await waitFor(
    () => expect(counterpart(root, resource).getByTestId(field)).toHaveTextContent(text),
    { timeout },
  );
}

/**
 * Waits until `video` shows live frames: a size, and a playback time that advances (so frames
 * keep arriving, not one frozen picture).
 */
export async function expectLiveVideo(video: HTMLVideoElement, timeout = CALL_TIMEOUT) {
  await waitFor(
    () => {
      expect(video.videoWidth).toBeGreaterThan(0);
      expect(video.paused).toBe(false);
      expect(video.currentTime).toBeGreaterThan(0);
    },
    { timeout },
  );
  const before = video.currentTime;
  await waitFor(() => expect(video.currentTime).toBeGreaterThan(before), { timeout: 5000 });
}
