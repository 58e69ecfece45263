/**
 * useCallList against the test Relay: the calls are made by raw clients (jsdom has no media),
 * the list is watched by a provider whose token has calls:list.
 */
import { render, screen, waitFor, within } from '@testing-library/react';
import { RelayProvider, useCallList, type CallsFilter, type RelayClient } from 'relaycall';
import { afterEach, describe, expect, it } from 'vitest';
import { Probe, relayUrl, scopedToken, uniqueResource } from './helpers.js';
import { connectRawCaller, type RawCaller } from './rawCaller.js';

const raws: RawCaller[] = [];
afterEach(() => {
  for (const raw of raws.splice(0)) raw.close();
});

async function raw(name: string): Promise<RawCaller> {
  const client = await connectRawCaller(uniqueResource(name));
  raws.push(client);
  return client;
}

function CallList({ name, filter }: { name: string; filter?: CallsFilter }) {
  const { calls, status, error, truncated } = useCallList(filter);
  return (
    <section aria-label={name} data-status={status} data-truncated={truncated}>
      <p data-testid={`${name}-error`}>{error?.message ?? ''}</p>
      <ul>
        {calls.map((call) => (
          <li key={call.id} data-state={call.state}>
            {call.id} {call.participants.map((p) => p.resource).join(' ')}
          </li>
        ))}
      </ul>
    </section>
  );
}

describe('useCallList', () => {
  it('lists the calls live: a new one rings, is answered, and leaves the list once ended', async () => {
    const customer = await raw('customer');
    const agent = await raw('agent');
    render(
      <RelayProvider url={relayUrl} fetchToken={scopedToken(uniqueResource('sup'), 'calls:list')}>
        <CallList name="all" filter={{ resource: agent.resource }} />
        <CallList name="active" filter={{ resource: agent.resource, state: 'active' }} />
      </RelayProvider>,
    );
    const all = screen.getByRole('region', { name: 'all' });
    const active = screen.getByRole('region', { name: 'active' });
    expect(all).toHaveAttribute('data-status', 'loading');
    await waitFor(() => expect(all).toHaveAttribute('data-status', 'ready'));
    expect(within(all).queryAllByRole('listitem')).toHaveLength(0);

    const callId = await customer.invite(agent.resource);
    const ringing = await within(all).findByText(new RegExp(callId));
    expect(ringing).toHaveAttribute('data-state', 'ringing');
    expect(ringing).toHaveTextContent(customer.resource);
    expect(within(active).queryAllByRole('listitem')).toHaveLength(0);

    await agent.notification('call.incoming', callId);
    await agent.answer(callId);
    await waitFor(() =>
      expect(within(all).getByRole('listitem')).toHaveAttribute('data-state', 'active'),
    );
    // The active-only list sees the call leave `ringing` for `active`.
    await waitFor(() => expect(within(active).getAllByRole('listitem')).toHaveLength(1));

    await customer.hangup(callId);
    await waitFor(() => expect(within(all).queryAllByRole('listitem')).toHaveLength(0));
    expect(within(active).queryAllByRole('listitem')).toHaveLength(0);
  });

  it('orders the calls by start, and unmounting the last list stops watching', async () => {
    const agent = await raw('agent');
    const first = await (await raw('first')).invite(agent.resource);
    const second = await (await raw('second')).invite(agent.resource);
    let client: RelayClient | undefined;
    const fetchToken = scopedToken(uniqueResource('sup'), 'calls:list');
    const view = render(
      <RelayProvider url={relayUrl} fetchToken={fetchToken}>
        <Probe onClient={(c) => (client = c)} />
        <CallList name="calls" filter={{ resource: agent.resource }} />
      </RelayProvider>,
    );
    const list = screen.getByRole('region', { name: 'calls' });
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(2));
    const items = within(list).getAllByRole('listitem');
    expect(items[0]).toHaveTextContent(first);
    expect(items[1]).toHaveTextContent(second);
    expect(client!.store.getState().callList.status).toBe('ready');
    view.rerender(
      <RelayProvider url={relayUrl} fetchToken={fetchToken}>
        <Probe onClient={(c) => (client = c)} />
      </RelayProvider>,
    );
    expect(screen.queryByRole('region')).toBeNull();
    await waitFor(() =>
      expect(client!.store.getState().callList).toMatchObject({ status: 'idle', calls: {} }),
    );
  });

  it('says what the token lacks without calls:list', async () => {
    render(
      <RelayProvider
        url={relayUrl}
        fetchToken={scopedToken(uniqueResource('nobody'), 'calls:dial')}
      >
        <CallList name="calls" />
      </RelayProvider>,
    );
    const list = screen.getByRole('region', { name: 'calls' });
    await waitFor(() => expect(list).toHaveAttribute('data-status', 'error'));
    expect(screen.getByTestId('calls-error')).toHaveTextContent(
      'This token lacks the "calls:list" scope.',
    );
  });
});
