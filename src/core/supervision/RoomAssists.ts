import type { StoreApi } from 'zustand/vanilla';
import {
  ErrorCodes,
  RelayError,
  type AssistMode,
  type RoomJoinResult,
} from '../../protocol/index.js';
import type { LazyRooms } from '../rooms/LazyRooms.js';
import type { RelayClientState, RoomSnapshot } from '../types.js';
import type { AssistParty, AssistSnapshot } from './supervisionTypes.js';

/** What RoomAssists needs of the supervisor's assists (see Assists). */
export interface RoomAssistHost {
  store: StoreApi<RelayClientState>;
  /** The client's room machinery (a room it assists is joined through it). */
  rooms: LazyRooms;
  /** Updates the snapshot of the assist of `callId` (nothing once it ended). */
  patch(callId: string, patch: Partial<AssistSnapshot>): void;
  /** The room went (left, ended, removed): the assist of `callId` ends with `error`. */
  ended(callId: string, error: RelayError | null): void;
}

/** What the supervisor has to send in a room, as the assist stands. */
export interface RoomSending {
  mode: AssistMode;
  /** The microphone, when the mode needs it (whisper, barge); null for monitor. */
  stream: MediaStream | null;
}

/**
 * The supervisor's side of assisting a room (`call.assist` answered with `room`): this client
 * becomes a participant of the room through the room machinery (`store.rooms[name]`, its own
 * participant carrying `assist`), which carries the media like any room's but sends only as
 * the mode lets it. The assist's snapshot follows the room: its parties are the room's
 * participants that are not supervisors, and it ends when the room is left.
 */
export class RoomAssists {
  /** Room name by assisted room id (the assist's `callId`). */
  private readonly names = new Map<string, string>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly host: RoomAssistHost) {}

  /**
   * Loads the room code before `call.assist` goes, so that what the Relay tells of the room
   * right after its answer (the parties' offers) finds it there. A failure shows later.
   */
  preload(): Promise<void> {
    return this.host.rooms.preload().catch(() => undefined) ?? Promise.resolve();
  }

  isRoom(callId: string): boolean {
    return this.names.has(callId);
  }

  /**
   * The Relay answered with the room (a join, or a mode change): this client is in it, sending
   * as `sending` says. Rejects when the room code cannot be had.
   */
  async assisted(callId: string, room: RoomJoinResult, sending: RoomSending): Promise<void> {
    const rooms = this.host.rooms;
    if (!rooms) {
      throw new RelayError(
        ErrorCodes.internal,
        'This client has no room support, so it cannot assist a room. Use a RelayClient from relaycall/core.',
      );
    }
    const own = room.participants.find((p) => p.id === room.participantId);
    const mode = own?.assist ?? sending.mode;
    const agent = mode === 'whisper' ? (own?.agent ?? null) : null;
    const mic = sending.stream?.getAudioTracks()[0] ?? null;
    this.names.set(callId, room.name);
    // Loaded already (preload): carried out at once, before anything else the Relay says.
    await rooms.use((manager) =>
      manager.assist(room, { mode, agent, mic: mode === 'monitor' ? null : mic }, sending.stream),
    );
    this.host.patch(callId, { mode, agent, participantId: room.participantId });
    this.unsubscribe ??= this.host.store.subscribe(() => this.sync());
    this.sync();
  }

  /** Leaves the room of an assist (`room.leave`), and forgets it. */
  leave(callId: string): void {
    const name = this.forget(callId);
    if (name === undefined) return;
    this.host.rooms.ifUsed((manager) => {
      manager.leaveRoom(name);
      manager.dismissRoom(name);
    });
  }

  /** The session holding the assist is gone: the Relay made it leave the room already. */
  gone(callId: string, error: RelayError | null): void {
    const name = this.forget(callId);
    if (name === undefined) return;
    this.host.rooms.ifUsed((manager) => manager.assistEnded(name, error));
  }

  private forget(callId: string): string | undefined {
    const name = this.names.get(callId);
    this.names.delete(callId);
    if (this.names.size === 0) {
      this.unsubscribe?.();
      this.unsubscribe = null;
    }
    return name;
  }

  /** Every assisted room into its assist: the parties and their media; left, the assist ends. */
  private sync(): void {
    const { rooms, assists } = this.host.store.getState();
    for (const [callId, name] of [...this.names]) {
      const room = rooms[name];
      if (!room || room.state === 'left' || (room.id !== null && room.id !== callId)) {
        this.forget(callId);
        this.host.ended(callId, room?.error ?? null);
        continue;
      }
      const current = assists[callId];
      const parties = partiesOf(room);
      if (current && !sameParties(current.parties, parties)) this.host.patch(callId, { parties });
    }
  }
}

/** The room's participants a supervisor assists: those in it that are not supervisors. */
function partiesOf(room: RoomSnapshot): AssistParty[] {
  return Object.values(room.participants)
    .filter((p) => !p.isLocal && !p.assist && p.state !== 'ringing')
    .map((p) => ({
      participantId: p.id,
      resource: p.resource,
      stream: p.stream,
      connected: p.connected,
    }));
}

function sameParties(a: AssistParty[], b: AssistParty[]): boolean {
  return (
    a.length === b.length &&
    a.every((p, i) => {
      const q = b[i]!;
      return (
        p.participantId === q.participantId &&
        p.resource === q.resource &&
        p.stream === q.stream &&
        p.connected === q.connected
      );
    })
  );
}
