import { act, screen, waitFor } from '@testing-library/react';
import { useIncomingCall } from 'relaycall';
import { afterEach, describe, expect, it } from 'vitest';
import { Probe, renderWithRelay, tokenFetcher, uniqueResource } from './helpers.js';
import { connectRawCaller, type RawCaller } from './rawCaller.js';

function IncomingList() {
  const { calls, call, reject } = useIncomingCall();
  return (
    <section>
      <p data-testid="count">{calls.length}</p>
      {call && (
        <>
          <p data-testid="from">{call.remote}</p>
          <p data-testid="metadata">{JSON.stringify(call.metadata)}</p>
          <button onClick={() => reject()}>Decline first</button>
          <button onClick={() => reject(call.id, 'busy')}>Busy</button>
        </>
      )}
    </section>
  );
}

const callers: RawCaller[] = [];
afterEach(() => {
  for (const caller of callers.splice(0)) caller.close();
});

async function setup() {
  const bob = uniqueResource('bob');
  const { fetchToken } = tokenFetcher(bob);
  renderWithRelay(
    <>
      <Probe />
      <IncomingList />
    </>,
    { fetchToken },
  );
  await waitFor(() => expect(screen.getByTestId('status')).toHaveTextContent('connected'));
  const alice = await connectRawCaller(uniqueResource('alice'));
  callers.push(alice);
  return { bob, alice };
}

describe('useIncomingCall', () => {
  it('shows a ringing call placed by another party, with its metadata', async () => {
    const { bob, alice } = await setup();
    expect(screen.getByTestId('count')).toHaveTextContent('0');
    await alice.invite(bob, { displayName: 'Alice' });
    await waitFor(() => expect(screen.getByTestId('count')).toHaveTextContent('1'));
    expect(screen.getByTestId('from')).toHaveTextContent(alice.resource);
    expect(screen.getByTestId('metadata')).toHaveTextContent('{"displayName":"Alice"}');
  });

  it('reject() declines the first ringing call: the caller is told `declined`', async () => {
    const { bob, alice } = await setup();
    const callId = await alice.invite(bob);
    await waitFor(() => expect(screen.getByTestId('count')).toHaveTextContent('1'));
    act(() => screen.getByRole('button', { name: 'Decline first' }).click());
    const ended = await alice.notification('call.ended', callId);
    expect(ended.params.reason).toBe('declined');
    await waitFor(() => expect(screen.getByTestId('count')).toHaveTextContent('0'));
  });

  it("reject(id, 'busy') stops the ringing here; with nobody left, the caller gets `busy`", async () => {
    const { bob, alice } = await setup();
    const callId = await alice.invite(bob);
    await waitFor(() => expect(screen.getByTestId('count')).toHaveTextContent('1'));
    act(() => screen.getByRole('button', { name: 'Busy' }).click());
    expect((await alice.notification('call.ended', callId)).params.reason).toBe('busy');
    await waitFor(() => expect(screen.getByTestId('count')).toHaveTextContent('0'));
  });

  it('drops a call the caller cancels while it rings', async () => {
    const { bob, alice } = await setup();
    const first = await alice.invite(bob);
    await alice.invite(bob);
    await waitFor(() => expect(screen.getByTestId('count')).toHaveTextContent('2'));
    await alice.hangup(first);
    await waitFor(() => expect(screen.getByTestId('count')).toHaveTextContent('1'));
  });
});
