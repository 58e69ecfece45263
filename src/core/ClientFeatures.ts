import type { AssistMode, CallsFilter, CallsListResult, VideoQuality } from '../protocol/index.js';
import type { LazyMessaging } from './messages/LazyMessaging.js';
import type { CallMessage, SendMessageOptions } from './messages/messageTypes.js';
import type { LazyRooms } from './rooms/LazyRooms.js';
import type { LazyStats } from './stats/LazyStats.js';
import type { QualityState, QualityWarningEvent } from './stats/statsTypes.js';
import type { LazySupervision } from './supervision/LazySupervision.js';
import type { AssistOptions, AssistSnapshot } from './supervision/supervisionTypes.js';
import type { ReadonlyStore, RoomJoinOptions, RoomSnapshot, ScreenShareOptions } from './types.js';

/**
 * The client's room and supervision methods, handed to their parts (each loaded on first use).
 * The client (RelayClient.ts) extends it with the connection and the calls.
 */
export abstract class ClientFeatures {
  protected abstract readonly rooms: LazyRooms;
  protected abstract readonly supervision: LazySupervision;
  protected abstract readonly stats: LazyStats;
  protected abstract readonly messages: LazyMessaging;

  sendMessage(id: string, body: unknown, options?: SendMessageOptions): Promise<CallMessage> {
    return this.messages.sendMessage(id, body, options);
  }

  get quality(): ReadonlyStore<QualityState> {
    return this.stats.quality;
  }

  watchCallStats(callId: string): () => void {
    return this.stats.watchCallStats(callId);
  }

  watchRoomStats(name: string): () => void {
    return this.stats.watchRoomStats(name);
  }

  onQualityWarning(listener: (event: QualityWarningEvent) => void): () => void {
    return this.stats.onQualityWarning(listener);
  }

  joinRoom(name: string, options?: RoomJoinOptions): Promise<RoomSnapshot> {
    return this.rooms.joinRoom(name, options ?? {});
  }

  leaveRoom(name: string): void {
    this.rooms.ifUsed((rooms) => rooms.leaveRoom(name));
  }

  inviteToRoom(name: string, to: string, metadata?: unknown): Promise<void> {
    return this.rooms.tell(name, 'room.invite', { to, metadata });
  }

  declineRoom(roomId: string): void {
    this.rooms.run((rooms) => rooms.declineRoom(roomId));
  }

  setRoomAudioMuted(name: string, muted: boolean): void {
    this.rooms.ifUsed((rooms) => rooms.setMuted(name, 'audio', muted));
  }

  setRoomVideoMuted(name: string, muted: boolean): void {
    this.rooms.ifUsed((rooms) => rooms.setMuted(name, 'video', muted));
  }

  muteParticipant(name: string, participantId: string, kind: 'audio' | 'video'): Promise<void> {
    return this.rooms.tell(name, 'room.mute', { participantId, kind });
  }

  removeParticipant(name: string, participantId: string): Promise<void> {
    return this.rooms.tell(name, 'room.remove', { participantId });
  }

  startRoomScreenShare(name: string, options?: ScreenShareOptions): Promise<void> {
    return this.rooms.use((rooms) => rooms.startScreenShare(name, options ?? {}));
  }

  stopRoomScreenShare(name: string): void {
    this.rooms.ifUsed((rooms) => rooms.stopScreenShare(name));
  }

  endRoom(name: string): Promise<void> {
    return this.rooms.tell(name, 'room.end', {});
  }

  dismissRoom(name: string): void {
    this.rooms.ifUsed((rooms) => rooms.dismissRoom(name));
  }

  setRoomQuality(name: string, participantId: string, quality: VideoQuality): void {
    this.rooms.ifUsed((rooms) => rooms.setQuality(name, participantId, quality));
  }

  assist(callId: string, mode: AssistMode, options?: AssistOptions): Promise<AssistSnapshot> {
    return this.supervision.assist(callId, mode, options ?? {});
  }

  stopAssist(callId: string): void {
    this.supervision.stopAssist(callId);
  }

  listCalls(filter?: CallsFilter): Promise<CallsListResult> {
    return this.supervision.listCalls(filter ?? {});
  }

  watchCalls(filter?: CallsFilter): () => void {
    return this.supervision.watchCalls(filter ?? {});
  }

  refreshCallList(): Promise<void> {
    return this.supervision.refreshCallList();
  }
}
