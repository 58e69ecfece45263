/**
 * What an app builds around `<RoomGrid>`, only from the public hooks: who you are, the room's
 * state, the grid, and its controls (join or leave, microphone, camera, invite) inside the grid's
 * room context, so `useRoom()` there needs no name.
 */
import { useState, type FormEvent } from 'react';
import { RoomGrid, useRelayClient, useRoom, type RoomGridProps } from 'relaycall';

/** The room's controls; inside `<RoomGrid>` (or `<RoomProvider>`), so the room has no name here. */
function RoomControls() {
  const room = useRoom();
  const [invitee, setInvitee] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const inRoom = room.state === 'joined' || room.state === 'reconnecting';
  const invite = (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    room.invite(invitee).then(
      () => setInvitee(''),
      (error: unknown) => setProblem(error instanceof Error ? error.message : String(error)),
    );
  };
  return (
    <div className="story-call__controls" role="group" aria-label="Room controls">
      {inRoom || room.state === 'joining' ? (
        <button type="button" onClick={room.leave}>
          Leave
        </button>
      ) : (
        <button type="button" onClick={() => void room.join()}>
          Join
        </button>
      )}
      <button
        type="button"
        data-on={room.audioMuted ? '' : undefined}
        disabled={!inRoom}
        onClick={room.toggleAudio}
      >
        {room.audioMuted ? 'Unmute' : 'Mute'}
      </button>
      <button
        type="button"
        data-on={room.videoMuted ? '' : undefined}
        disabled={!inRoom}
        onClick={room.toggleVideo}
      >
        {room.videoMuted ? 'Camera on' : 'Camera off'}
      </button>
      <form className="story-room__invite" onSubmit={invite}>
        <input
          aria-label="Invite who"
          placeholder="resource"
          value={invitee}
          onChange={(event) => setInvitee(event.target.value)}
        />
        <button type="submit" disabled={!inRoom || invitee === ''}>
          Invite
        </button>
      </form>
      {problem && <p role="alert">{problem}</p>}
    </div>
  );
}

export interface RoomViewProps extends Omit<RoomGridProps, 'name' | 'children'> {
  /** The room to show. */
  name: string;
  /** Join on mount (else the Join button does). */
  autoJoin?: boolean;
  /** Shown to the others with you (`metadata.name`). */
  displayName?: string;
}

/** A room as an app shows it: header, grid and controls. Lives inside a RelayProvider. */
export function RoomView({ name, autoJoin = false, displayName, ...grid }: RoomViewProps) {
  const { resource, status } = useRelayClient();
  const room = useRoom(name, {
    autoJoin,
    metadata: displayName ? { name: displayName } : undefined,
  });
  return (
    <section className="story-room" aria-label={`Room view of ${resource ?? '…'}`}>
      <header className="story-room__header">
        <strong>{resource ?? '…'}</strong> <small>{status}</small> in <code>{name}</code>:{' '}
        <span data-testid="room-state">{room.state}</span>
        {room.error && <span role="alert"> ({room.error.message})</span>}
      </header>
      <RoomGrid name={name} {...grid}>
        <RoomControls />
      </RoomGrid>
    </section>
  );
}
