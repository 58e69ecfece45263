/**
 * The room hooks and RoomGrid. jsdom has no media or WebRTC, so the rooms are snapshots put into
 * a real client's store (the provider is connected to the test Relay, whose traffic makes the
 * unrelated store changes), and the room methods that would acquire media are mocks.
 */
import { act, render, renderHook, screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { StrictMode, useState, type ReactNode } from 'react';
import {
  MissingProviderError,
  RelayProvider,
  RoomGrid,
  RoomProvider,
  useParticipant,
  useParticipants,
  useRelayClient,
  useRoom,
  useRoomInvites,
  type ParticipantSnapshot,
  type RelayClient,
  type RelayClientState,
  type RoomSnapshot,
} from 'relaycall';
import { describe, expect, it, vi } from 'vitest';
import { participantSnapshot as participant, roomSnapshot as room } from '../snapshots.js';
import {
  mockClientMethod,
  relayUrl,
  tokenFetcher,
  uniqueResource,
  writableStore,
} from './helpers.js';

const STANDUP = room('standup', [
  participant('p3', { resource: 'carol', state: 'away' }),
  participant('p1', { resource: 'alice', isLocal: true, moderator: true }),
  participant('p2', { resource: 'bob', metadata: { name: 'Bob Example' }, audioMuted: true }),
  participant('p4', { resource: 'dave', state: 'ringing', connected: false }),
]);

interface Setup {
  client: () => RelayClient;
  store: () => ReturnType<typeof writableStore>;
  /** `children` in the provider. */
  tree: (children: ReactNode) => ReactNode;
  wrapper: (props: { children: ReactNode }) => ReactNode;
}

/**
 * A provider on the test Relay whose client's store holds `seed` before anything under it reads
 * the store (the rooms of a fresh client replaced by the test's own).
 */
function setup(seed: Partial<RelayClientState> = {}): Setup {
  const { fetchToken } = tokenFetcher(uniqueResource('alice'));
  let seeded: RelayClient | null = null;
  function Seed() {
    const { client } = useRelayClient();
    useState(() => {
      seeded = client;
      writableStore(client).setState({ rooms: {}, roomInvites: {}, ...seed });
    });
    return null;
  }
  const client = () => {
    if (!seeded) throw new Error('not rendered yet');
    return seeded;
  };
  const tree = (children: ReactNode) => (
    <RelayProvider url={relayUrl} fetchToken={fetchToken}>
      <Seed />
      {children}
    </RelayProvider>
  );
  return {
    client,
    store: () => writableStore(client()),
    tree,
    wrapper: ({ children }) => tree(children),
  };
}

/** Puts `snapshot` into the store as the room of its name. */
const putRoom = (s: Setup, snapshot: RoomSnapshot) =>
  act(() =>
    s.store().setState((state) => ({ rooms: { ...state.rooms, [snapshot.name]: snapshot } })),
  );

function JoinButton({ name }: { name: string }) {
  const { state, join } = useRoom(name, { audio: false });
  return (
    <button type="button" onClick={() => void join()}>
      Join ({state})
    </button>
  );
}

describe('useRoom', () => {
  it('joins once on a double click while the client shows the join, and again once left', async () => {
    const s = setup();
    render(<JoinButton name="standup" />, { wrapper: s.wrapper });
    const joinRoom = mockClientMethod(s.client(), 'joinRoom', async (name) => {
      const joining = room(name, [], { state: 'joining', id: null });
      // As the client does: the room shows `joining` at once.
      s.store().setState((state) => ({ rooms: { ...state.rooms, [name]: joining } }));
      return joining;
    });
    const user = userEvent.setup();
    await user.dblClick(screen.getByRole('button', { name: 'Join (idle)' }));
    expect(joinRoom).toHaveBeenCalledTimes(1);
    expect(joinRoom).toHaveBeenCalledWith('standup', { audio: false });
    screen.getByRole('button', { name: 'Join (joining)' });

    putRoom(s, STANDUP);
    await user.click(screen.getByRole('button', { name: 'Join (joined)' }));
    expect(joinRoom).toHaveBeenCalledTimes(1);

    putRoom(s, { ...STANDUP, state: 'left', leftReason: 'removed' });
    await user.click(screen.getByRole('button', { name: 'Join (left)' }));
    expect(joinRoom).toHaveBeenCalledTimes(2);
  });

  it('joins once when the client shows the join only later', async () => {
    const s = setup();
    const { result } = renderHook(() => useRoom('standup'), { wrapper: s.wrapper });
    let finish: (snapshot: RoomSnapshot) => void = () => undefined;
    const joinRoom = mockClientMethod(
      s.client(),
      'joinRoom',
      () => new Promise<RoomSnapshot>((resolve) => (finish = resolve)),
    );
    const first = result.current.join({ metadata: { name: 'Alice' } });
    const second = result.current.join();
    expect(joinRoom).toHaveBeenCalledTimes(1);
    expect(joinRoom).toHaveBeenCalledWith('standup', { metadata: { name: 'Alice' } });
    expect(second).toBe(first);
    putRoom(s, STANDUP);
    finish(STANDUP);
    await expect(first).resolves.toBe(STANDUP);
  });

  it('joins nothing for a join another component started, and resolves once it is joined', async () => {
    const s = setup();
    const { result } = renderHook(() => ({ a: useRoom('standup'), b: useRoom('standup') }), {
      wrapper: s.wrapper,
    });
    const joinRoom = mockClientMethod(s.client(), 'joinRoom', (name) => {
      putRoom(s, room(name, [], { state: 'joining', id: null }));
      return new Promise<RoomSnapshot>(() => undefined);
    });
    void result.current.a.join();
    let joined: RoomSnapshot | null = null;
    void result.current.b.join().then((snapshot) => (joined = snapshot));
    expect(joinRoom).toHaveBeenCalledTimes(1);
    expect(result.current.b.state).toBe('joining');
    putRoom(s, STANDUP);
    await waitFor(() => expect(joined).toBe(STANDUP));
  });

  it('shows the room: state, you first then join order, active speaker, moderator, controls', async () => {
    const s = setup({
      rooms: { standup: { ...STANDUP, activeSpeakerId: 'p2', audioMuted: true } },
    });
    const { result } = renderHook(() => useRoom('standup'), { wrapper: s.wrapper });
    expect(result.current).toMatchObject({
      name: 'standup',
      state: 'joined',
      activeSpeakerId: 'p2',
      audioMuted: true,
      isModerator: true,
      error: null,
    });
    expect(result.current.participants.map((p) => p.id)).toEqual(['p1', 'p3', 'p2', 'p4']);

    const client = s.client();
    const setRoomAudioMuted = mockClientMethod(client, 'setRoomAudioMuted', () => undefined);
    const inviteToRoom = mockClientMethod(client, 'inviteToRoom', async () => undefined);
    const dismissRoom = mockClientMethod(client, 'dismissRoom', () => undefined);
    act(() => result.current.toggleAudio());
    expect(setRoomAudioMuted).toHaveBeenCalledWith('standup', false);
    await act(() => result.current.invite('erin', { name: 'Erin' }));
    expect(inviteToRoom).toHaveBeenCalledWith('standup', 'erin', { name: 'Erin' });
    const setRoomQuality = mockClientMethod(client, 'setRoomQuality', () => undefined);
    act(() => result.current.setQuality('p2', 'low'));
    expect(setRoomQuality).toHaveBeenCalledWith('standup', 'p2', 'low');
    act(() => result.current.dismiss());
    expect(dismissRoom).toHaveBeenCalledWith('standup');
  });

  it('joins an sfu room when asked to create one', async () => {
    const s = setup();
    const { result } = renderHook(() => useRoom('townhall', { media: 'sfu', audio: false }), {
      wrapper: s.wrapper,
    });
    const joinRoom = mockClientMethod(s.client(), 'joinRoom', async (name) => {
      const joined = room(name, [], { media: 'sfu' });
      putRoom(s, joined);
      return joined;
    });
    await act(() => result.current.join());
    expect(joinRoom).toHaveBeenCalledWith('townhall', { media: 'sfu', audio: false });
    expect(result.current.room?.media).toBe('sfu');
  });

  it('autoJoin joins once under StrictMode; unmounting leaves only with leaveOnUnmount', async () => {
    const s = setup();
    const joinRoom = vi.fn(async (name: string) => room(name, [], { state: 'joining' }));
    const leaveRoom = vi.fn();
    function Room({ name, leave }: { name: string; leave: boolean }) {
      const { client } = useRelayClient();
      Object.assign(client, { joinRoom, leaveRoom });
      useRoom(name, { autoJoin: true, leaveOnUnmount: leave });
      return null;
    }
    // StrictMode around the tree itself: RTL's `wrapper` would not double-invoke the effects.
    const rooms = (names: string[]) =>
      render(
        <StrictMode>
          {s.tree(names.map((name) => <Room key={name} name={name} leave={name === 'left'} />))}
        </StrictMode>,
      );
    // Zero-delay timers run only when the test says so (the deferred leave is one).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const view = rooms(['kept', 'left']);
    expect(joinRoom.mock.calls.map(([name]) => name)).toEqual(['kept', 'left']);
    // StrictMode's simulated unmount and remount stays in the room.
    act(() => vi.advanceTimersByTime(1));
    expect(leaveRoom).not.toHaveBeenCalled();

    view.unmount();
    act(() => vi.advanceTimersByTime(1));
    expect(leaveRoom).toHaveBeenCalledTimes(1);
    expect(leaveRoom).toHaveBeenCalledWith('left');
  });
});

describe('useParticipants and useParticipant', () => {
  it('keep their identity across unrelated store changes', async () => {
    const s = setup({ rooms: { standup: STANDUP } });
    let renders = 0;
    const { result } = renderHook(
      () => {
        renders += 1;
        return { all: useParticipants('standup'), bob: useParticipant('p2', 'standup') };
      },
      { wrapper: s.wrapper },
    );
    const first = result.current;
    expect(first.all.map((p) => p.resource)).toEqual(['alice', 'carol', 'bob', 'dave']);
    expect(first.bob).toBe(STANDUP.participants.p2);

    // The provider connects (status, session, scopes, expiry); another room comes and changes;
    // this room's own fields change but none of its participants.
    await waitFor(() => expect(s.store().getState().status).toBe('connected'));
    putRoom(s, room('other', [participant('x1', { isLocal: true })]));
    putRoom(s, room('other', [participant('x1', { isLocal: true, audioMuted: true })]));
    putRoom(s, { ...STANDUP, activeSpeakerId: 'p2', audioMuted: true });
    expect(result.current.all).toBe(first.all);
    expect(result.current.bob).toBe(first.bob);
    expect(renders).toBe(1);

    // Carol comes back: a new array, and bob is still the same snapshot.
    const carol = { ...STANDUP.participants.p3!, state: 'joined' as const };
    putRoom(s, { ...STANDUP, participants: { ...STANDUP.participants, p3: carol } });
    expect(result.current.all).not.toBe(first.all);
    expect(result.current.all[1]).toBe(carol);
    expect(result.current.bob).toBe(first.bob);
    expect(renders).toBe(2);
  });

  it('take the room from <RoomProvider>, and say how to name one without it', () => {
    const s = setup({ rooms: { standup: STANDUP } });
    const inRoom = ({ children }: { children: ReactNode }) =>
      s.wrapper({ children: <RoomProvider name="standup">{children}</RoomProvider> });
    const { result } = renderHook(() => useParticipant('p1'), { wrapper: inRoom });
    expect(result.current).toMatchObject({ resource: 'alice', isLocal: true });

    vi.spyOn(console, 'error').mockImplementation(() => undefined); // React reports the throw
    expect(() => renderHook(() => useParticipants(), { wrapper: s.wrapper })).toThrow(
      "useParticipants needs a room: pass the room's name, or render it inside <RoomProvider name={…}> or <RoomGrid name={…}>.",
    );
  });
});

describe('RoomGrid', () => {
  it('shows a tile per participant: you first, the active speaker, muted, away and ringing', () => {
    const s = setup({ rooms: { standup: { ...STANDUP, activeSpeakerId: 'p2' } } });
    render(<RoomGrid name="standup" />, { wrapper: s.wrapper });
    const grid = screen.getByRole('list', { name: 'Room standup' });
    const cells = within(grid).getAllByRole('listitem');
    expect(cells.map((cell) => cell.querySelector('figcaption')?.textContent)).toEqual([
      'alice (you)',
      'carol',
      'Bob Example',
      'dave',
    ]);
    const tile = (index: number) => cells[index]!.querySelector('.relaycall-room__tile')!;
    expect(tile(0)).toHaveAttribute('data-local');
    expect(tile(0).querySelector('.relaycall-video')).toHaveAttribute('data-mirrored');
    expect(cells[0]!.querySelector('video')!.muted).toBe(true);
    expect(tile(2)).toHaveClass('relaycall-room__tile--active-speaker');
    expect(grid.querySelectorAll('.relaycall-room__tile--active-speaker')).toHaveLength(1);
    expect(within(cells[2]!).getByRole('img', { name: 'Microphone muted' })).toBeInTheDocument();
    expect(tile(1)).toHaveAttribute('data-state', 'away');
    expect(cells[1]).toHaveTextContent('Reconnecting…');
    expect(tile(3)).toHaveAttribute('data-state', 'ringing');
    expect(cells[3]).toHaveTextContent('Ringing…');
    expect(within(cells[3]!).getByText('D')).toBeInTheDocument(); // dave's initial
  });

  it('renders custom tiles and labels, and names the room for its children', () => {
    const s = setup({ rooms: { standup: { ...STANDUP, activeSpeakerId: 'p1' } } });
    function Count() {
      return <p data-testid="count">{useParticipants().length}</p>;
    }
    render(
      <RoomGrid
        name="standup"
        labels={{ room: (name) => `Salle ${name}`, ringing: 'Ça sonne…' }}
        renderTile={(p, tile) => (
          <span data-testid="tile">
            {tile.name}
            {tile.activeSpeaker ? ' *' : ''}
          </span>
        )}
      >
        <Count />
      </RoomGrid>,
      { wrapper: s.wrapper },
    );
    const grid = screen.getByRole('list', { name: 'Salle standup' });
    expect(
      within(grid)
        .getAllByTestId('tile')
        .map((t) => t.textContent),
    ).toEqual(['alice *', 'carol', 'Bob Example', 'dave']);
    expect(screen.getByTestId('count')).toHaveTextContent('4');
  });

  it('shows supervisors as a line instead of a tile, and plays only those you hear', async () => {
    const play = vi.spyOn(HTMLMediaElement.prototype, 'play').mockResolvedValue(undefined);
    const voice = { getTracks: () => [] } as unknown as MediaStream;
    const sup = (patch: Partial<ParticipantSnapshot>) =>
      participant('s1', { resource: 'sup', assist: 'monitor', ...patch });
    const desk = (supervisor: ParticipantSnapshot) =>
      room('desk', [
        participant('p1', { resource: 'alice', isLocal: true }),
        participant('p2', { resource: 'bob' }),
        supervisor,
      ]);
    const s = setup({ rooms: { desk: desk(sup({})) } });
    render(<RoomGrid name="desk" />, { wrapper: s.wrapper });
    const grid = screen.getByRole('list', { name: 'Room desk' });
    expect(within(grid).getAllByRole('listitem')).toHaveLength(2);
    expect(screen.getByText('Supervisor listening')).toHaveAttribute('data-mode', 'monitor');
    expect(document.querySelectorAll('audio')).toHaveLength(0);

    // Whispering to someone else: listening, as far as alice knows (the client gives no stream).
    act(() =>
      s.store().setState({ rooms: { desk: desk(sup({ assist: 'whisper', agent: 'p2' })) } }),
    );
    expect(screen.getByText('Supervisor listening')).toBeInTheDocument();
    expect(document.querySelectorAll('audio')).toHaveLength(0);

    const toAlice = sup({ assist: 'whisper', agent: 'p1', stream: voice });
    act(() => s.store().setState({ rooms: { desk: desk(toAlice) } }));
    expect(screen.getByText('Supervisor whispering to you')).toBeInTheDocument();
    expect(document.querySelectorAll('audio')).toHaveLength(1);
    expect(document.querySelector('audio')!.srcObject).toBe(voice);
    await waitFor(() => expect(play).toHaveBeenCalled());

    const barging = sup({ assist: 'barge', stream: voice });
    act(() => s.store().setState({ rooms: { desk: desk(barging) } }));
    expect(screen.getByText('Supervisor joined the room')).toBeInTheDocument();
    expect(within(grid).getAllByRole('listitem')).toHaveLength(2);
  });
});

describe('useRoomInvites', () => {
  it('lists invitations; accept joins the room by name, decline declines it', async () => {
    const invite = { roomId: 'r-9', name: 'retro', by: 'bob', metadata: { topic: 'Q3' } };
    const s = setup({ roomInvites: { [invite.roomId]: invite } });
    const { result } = renderHook(() => useRoomInvites(), { wrapper: s.wrapper });
    expect(result.current.invites).toEqual([invite]);
    const joined = room('retro', [participant('p1', { isLocal: true })]);
    const joinRoom = mockClientMethod(s.client(), 'joinRoom', async () => joined);
    const declineRoom = mockClientMethod(s.client(), 'declineRoom', () => undefined);
    await expect(result.current.accept(invite, { video: false })).resolves.toBe(joined);
    expect(joinRoom).toHaveBeenCalledWith('retro', { video: false });
    act(() => result.current.decline(invite));
    expect(declineRoom).toHaveBeenCalledWith('r-9');
  });
});

describe('outside <RelayProvider>', () => {
  const hooks: Record<string, () => unknown> = {
    useRoom: () => useRoom('standup'),
    useParticipants: () => useParticipants('standup'),
    useParticipant: () => useParticipant('p1', 'standup'),
    useRoomInvites: () => useRoomInvites(),
  };
  it.each(Object.entries(hooks))('%s throws a MissingProviderError', (name, hook) => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(() => renderHook(hook)).toThrow(MissingProviderError);
    expect(() => renderHook(hook)).toThrow(`${name} must be used inside <RelayProvider>`);
  });

  it('RoomGrid, built on the hooks, says the same', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(() => render(<RoomGrid name="standup" />)).toThrow(
      /must be used inside <RelayProvider>/,
    );
  });
});
