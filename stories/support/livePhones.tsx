/**
 * Two live phones in one page, for the **Live** stories: alice's and bob's side by side, and the
 * call between them that a play function places.
 */
import type { ReactNode } from 'react';
import { within, type UserEventObject } from 'storybook/test';
import type { LiveLoaded } from './live.js';
import { CALL_TIMEOUT, dialerIn, expectReady, expectStatus } from './play.js';

/** A phone story's args. */
export interface PhoneArgs {
  /** Who this tab is: the resource its token is issued for (others call this name). */
  resource: string;
  /** Who the Dialer calls when you press Call. */
  callee: string;
}

/** A Live story's render: `phone` as alice calling bob, beside `phone` as bob calling alice. */
export function livePhones(phone: (args: PhoneArgs) => ReactNode) {
  return (_args: unknown, { loaded }: { loaded: unknown }) => {
    const { names } = loaded as LiveLoaded;
    return (
      <div className="story-phones">
        {phone({ resource: names.alice, callee: names.bob })}
        {phone({ resource: names.bob, callee: names.alice })}
      </div>
    );
  };
}

/** One side of a live call: its phone (the region named "Phone of …") and the Dialer in it. */
export interface LiveSide {
  phone: HTMLElement;
  dialer: HTMLElement;
}

/**
 * Once both phones in `root` are connected, presses Call in `caller`'s and Accept in
 * `callee`'s; resolves with both sides, caller first, once both say they are in the call.
 */
export async function callBetween(
  root: HTMLElement,
  user: Pick<UserEventObject, 'click'>,
  caller: string,
  callee: string,
): Promise<[LiveSide, LiveSide]> {
  const side = async (resource: string): Promise<LiveSide> => {
    // A phone is named once its client knows its resource (connected): on a loaded machine
    // that takes longer than findBy's default second.
    const phone = await within(root).findByRole(
      'region',
      { name: `Phone of ${resource}` },
      { timeout: CALL_TIMEOUT },
    );
    return { phone, dialer: dialerIn(phone) };
  };
  const from = await side(caller);
  const to = await side(callee);
  await expectReady(from.dialer);
  await expectReady(to.dialer);
  await user.click(within(from.dialer).getByRole('button', { name: 'Call' }));
  await expectStatus(to.dialer, `Incoming call from ${caller}`);
  await user.click(within(to.dialer).getByRole('button', { name: 'Accept' }));
  await expectStatus(from.dialer, `In call with ${callee}`);
  await expectStatus(to.dialer, `In call with ${caller}`);
  return [from, to];
}
