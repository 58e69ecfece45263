/** A room of another node that sessions of this node are in. */
interface ForeignRoom {
  owner: string;
  /** This node's sessions in it, with their participant ids. */
  members: Map<string, string>;
}

/**
 * The rooms of this node's sessions that other nodes hold (a room lives on one node): which
 * node to send their requests to, and which of this node's sessions are in them, as whom.
 */
export class ForeignRooms {
  private readonly rooms = new Map<string, ForeignRoom>();

  ownerOf(roomId: string): string | undefined {
    return this.rooms.get(roomId)?.owner;
  }

  /** The participant id of one of this node's sessions in a foreign room. */
  participantOf(roomId: string, sessionId: string): string | undefined {
    return this.rooms.get(roomId)?.members.get(sessionId);
  }

  add(roomId: string, owner: string, sessionId: string, participantId: string): void {
    const room = this.rooms.get(roomId) ?? { owner, members: new Map<string, string>() };
    room.members.set(sessionId, participantId);
    this.rooms.set(roomId, room);
  }

  forget(roomId: string, sessionId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.members.delete(sessionId);
    if (room.members.size === 0) this.rooms.delete(roomId);
  }

  /** Forgets every room `owner` holds (it died); returns them with their members here. */
  dropOwner(owner: string): { roomId: string; sessions: string[] }[] {
    const dropped: { roomId: string; sessions: string[] }[] = [];
    for (const [roomId, room] of this.rooms) {
      if (room.owner !== owner) continue;
      this.rooms.delete(roomId);
      dropped.push({ roomId, sessions: [...room.members.keys()] });
    }
    return dropped;
  }

  owners(): Set<string> {
    return new Set([...this.rooms.values()].map((room) => room.owner));
  }
}
