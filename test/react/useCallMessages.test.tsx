/**
 * useCallMessages with two real providers on the test Relay, in a mesh room joined without media:
 * jsdom has no WebRTC, so there is no data channel and the messages go through the Relay
 * (`room.message`), which is the path sfu rooms take.
 */
import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import {
  MAX_MESSAGE_BYTES,
  RelayError,
  RelayProvider,
  useCallMessages,
  useRelayClient,
  useRoom,
} from 'relaycall';
import { describe, expect, it } from 'vitest';
import { relayUrl, scopedToken, uniqueResource } from './helpers.js';

const SCOPES = 'calls:dial,calls:receive,rooms:join';

function wrapperFor(resource: string) {
  const fetchToken = scopedToken(resource, SCOPES);
  return ({ children }: { children: ReactNode }) => (
    <RelayProvider url={relayUrl} fetchToken={fetchToken}>
      {children}
    </RelayProvider>
  );
}

/** A participant of `name`: the room, its messages, and the client. */
function renderParticipant(resource: string, name: string) {
  return renderHook(
    () => ({
      room: useRoom(name, { audio: false, video: false }),
      chat: useCallMessages(name),
      relay: useRelayClient(),
    }),
    { wrapper: wrapperFor(resource) },
  );
}

describe('useCallMessages', () => {
  it('lists the messages sent and received in a room, and sends to everyone or to one', async () => {
    const name = uniqueResource('chat');
    const ann = renderParticipant(uniqueResource('ann'), name);
    const ben = renderParticipant(uniqueResource('ben'), name);
    await act(async () => {
      await ann.result.current.room.join();
      await ben.result.current.room.join();
    });
    await waitFor(() => expect(ann.result.current.room.participants).toHaveLength(2));
    expect(ann.result.current.chat.messages).toEqual([]);
    const before = ann.result.current.chat.messages;

    await act(async () => {
      await ann.result.current.chat.send('hello');
    });
    await waitFor(() => expect(ben.result.current.chat.messages).toHaveLength(1));
    const annId = ann.result.current.room.room?.participantId;
    expect(ben.result.current.chat.messages[0]).toMatchObject({
      from: annId,
      body: 'hello',
      to: null,
      local: false,
    });
    expect(ann.result.current.chat.messages).toMatchObject([{ body: 'hello', local: true }]);
    expect(ann.result.current.chat.messages).not.toBe(before);

    const benId = ben.result.current.room.room!.participantId!;
    await act(async () => {
      await ann.result.current.chat.send({ card: 42 }, { to: benId });
    });
    await waitFor(() => expect(ben.result.current.chat.messages).toHaveLength(2));
    expect(ben.result.current.chat.messages[1]).toMatchObject({ body: { card: 42 }, to: benId });

    // The same array while nothing about the messages changes.
    const list = ben.result.current.chat.messages;
    ben.rerender();
    expect(ben.result.current.chat.messages).toBe(list);

    let refused: unknown;
    await act(async () => {
      refused = await ben.result.current.chat
        .send('x'.repeat(MAX_MESSAGE_BYTES))
        .catch((error: unknown) => error);
    });
    expect(refused).toBeInstanceOf(RelayError);
    expect(refused).toMatchObject({ code: 'payload_too_large' });
    ann.unmount();
    ben.unmount();
  });

  it('refuses to send without a call or room', async () => {
    const { result, unmount } = renderHook(() => useCallMessages(null), {
      wrapper: wrapperFor(uniqueResource('solo')),
    });
    expect(result.current.messages).toEqual([]);
    await expect(result.current.send('hi')).rejects.toMatchObject({ code: 'invalid_state' });
    const { result: other } = renderHook(() => useCallMessages('no-such-room'), {
      wrapper: wrapperFor(uniqueResource('solo2')),
    });
    await expect(other.current.send('hi')).rejects.toMatchObject({
      code: 'invalid_state',
      message: expect.stringContaining('no room named'),
    });
    unmount();
  });
});
