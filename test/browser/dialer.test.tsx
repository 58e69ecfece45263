/**
 * The Dialer under real (trusted) clicks in Chromium. A trusted click runs the button's default
 * action after React has re-rendered (React flushes in a microtask, which runs between the
 * listeners and the default action), so what the button became matters; synthetic clicks from
 * script (jsdom, testing-library) do not show that.
 */
import { createRoot, type Root } from 'react-dom/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commands, userEvent } from 'vitest/browser';
import {
  createRelayClient,
  Dialer,
  RelayProvider,
  useRelayClient,
  type RelayClient,
} from 'relaycall';
import { fetchTestToken, untilTrue } from './helpers.js';

let relay: { id: string; url: string; tokenUrl: string };
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  relay = await commands.startRelay();
});
afterAll(() => commands.stopRelay(relay.id));
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  document.body.replaceChildren();
});

const token = (resource: string) => fetchTestToken(relay.tokenUrl, resource);

/** A plain core client that answers whatever rings. */
async function autoAnswering(resource: string): Promise<RelayClient> {
  const client = createRelayClient({ url: relay.url });
  cleanups.push(() => client.destroy());
  await client.connect(await token(resource));
  client.store.subscribe((state) => {
    for (const call of Object.values(state.calls)) {
      if (call.direction === 'incoming' && call.state === 'ringing') void client.answer(call.id);
    }
  });
  return client;
}

const until = untilTrue;

/** Hands out the provider's client. */
function ClientOut({ onClient }: { onClient: (client: RelayClient) => void }) {
  onClient(useRelayClient().client);
  return null;
}

describe('Dialer in Chromium', () => {
  it('a real click on Hang up ends the call and does not place a new one', async () => {
    const bob = await autoAnswering('bob-dialer');
    let alice: RelayClient | undefined;
    const host = document.createElement('div');
    document.body.append(host);
    const root: Root = createRoot(host);
    cleanups.push(() => root.unmount());
    root.render(
      <RelayProvider url={relay.url} fetchToken={() => token('alice-dialer')}>
        <Dialer defaultTarget="bob-dialer" />
        <ClientOut onClient={(client) => (alice = client)} />
      </RelayProvider>,
    );
    await until(() => host.querySelector('.relaycall-dialer') !== null, 'Dialer rendered');
    const dialer = host.querySelector<HTMLElement>('.relaycall-dialer')!;
    await until(() => dialer.dataset.connection === 'connected', 'alice connected');

    await userEvent.click(host.querySelector('.relaycall-dialer__call')!);
    await until(() => dialer.dataset.state === 'active', 'call active');
    await userEvent.click(host.querySelector('.relaycall-dialer__hangup')!);
    await until(() => dialer.dataset.state === 'ended', 'call ended');

    // A redial would have been placed at once, by the same click: alice has one call, ended.
    const calls = Object.values(alice!.store.getState().calls);
    expect(calls.map((call) => [call.state, call.endReason])).toEqual([['ended', 'hangup']]);
    expect(dialer.querySelector('[role="status"]')?.textContent).toBe('Call ended');
    await until(
      () => Object.values(bob.store.getState().calls).every((call) => call.state === 'ended'),
      'bob sees the end',
    );
  });
});
