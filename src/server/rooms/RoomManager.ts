import {
  ServerEvents,
  type EventParams,
  type RelayLimits,
  type RoomInviteParams,
  type RoomJoinParams,
  type RoomJoinResult,
  type RoomModerateParams,
  type RoomMuteParams,
  type RoomSignalParams,
  type RoomUpdateParams,
  SFU_PEER,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { authorize, can } from '../signaling/authorize.js';
import type { Leg, LegDirectory } from './Leg.js';
import { isParticipantId, newParticipantId } from './participantId.js';
import { copy, type Member, type Room } from './Room.js';
import { RoomEngine } from './RoomEngine.js';
import * as errors from './roomErrors.js';
import { NamedRoomKind } from './namedRoomKind.js';
import type { RoomStats } from './RoomRegistry.js';
import type { SfuMedia } from './SfuMedia.js';

export type { RoomStats } from './RoomRegistry.js';

/**
 * Multi-party mesh rooms of this node: join by name, leave, invite (ring), decline, signal
 * between participants, mute flags, and moderation (mute, remove, end). It checks requests;
 * the node's RoomEngine (shared with 1:1 calls) moves participants, and NamedRoomKind says
 * what rooms tell of it.
 *
 * Who is told what: every participant present (joined or away) hears of every change, except
 * a participant of its own change made by its own request (join, leave, update), which its
 * reply confirms; the session ending a room gets no `room.ended`. A ringing participant is
 * announced with `room.joined` carrying state `ringing`, and again with `room.joined` (state
 * `joined`) when it arrives: clients upsert participants by id. Sessions rung into a room
 * are not in it: besides `room.invited` they are told only what ends their invitation:
 * `room.joined` about it (another session of their resource joined), `room.left` about it
 * (declined, unanswered, removed, gone) or `room.ended`.
 */
export class RoomManager {
  private readonly engine: RoomEngine;
  private readonly kind: NamedRoomKind;

  constructor(
    private readonly directory: LegDirectory,
    private readonly limits: RelayLimits,
    clock: Clock,
    /** Called when a leg's resume buffer overflowed; must defer ending it (not re-enter). */
    onOverflow: (leg: Leg) => void,
    /** The node's membership engine, shared with calls; a room-only one when not given. */
    engine?: RoomEngine,
    /** The SFU carrying `sfu` rooms' media (a Relay started with --janus); none: mesh only. */
    private readonly sfu?: SfuMedia,
  ) {
    this.engine = engine ?? new RoomEngine(directory, limits, clock, onOverflow);
    this.kind = new NamedRoomKind(this.engine.tell, () => this.engine.clock.now(), sfu);
    this.engine.register(this.kind);
    sfu?.connect({
      signal: (room, to, from, signal) => {
        const target = room.member(to);
        this.engine.tell.leg(target?.legId ?? null, ServerEvents.roomSignal, {
          roomId: room.id,
          from,
          signal,
        });
      },
      talking: (room, participantId, talking) => {
        if (!room.member(participantId)) return;
        const params = { roomId: room.id, from: null, participantId, talking };
        this.engine.tell.present(room, ServerEvents.roomTalking, params);
      },
      lost: (room) => {
        if (this.room(room.id) === room) this.engine.close(room, 'disconnected', null, null);
      },
    });
  }

  /** Told when a room of this node ends (a cluster lets another node hold that name next). */
  get onRoomGone(): ((projectId: string, name: string) => void) | undefined {
    return this.kind.onRoomGone;
  }

  set onRoomGone(listener: ((projectId: string, name: string) => void) | undefined) {
    this.kind.onRoomGone = listener;
  }

  /** Rooms on this node (calls are not counted). */
  get size(): number {
    return this.engine.registry.count('room');
  }

  /** Whether a room of that name lives on this node. */
  holdsName(projectId: string, name: string): boolean {
    return this.engine.registry.named(projectId, name) !== undefined;
  }

  /** Whether the room lives on this node. */
  owns(roomId: string): boolean {
    return this.room(roomId) !== undefined;
  }

  stats(): RoomStats {
    return this.engine.registry.stats();
  }

  /** The rooms a leg is a participant of, as `room.join` would answer it now. */
  roomsOf(leg: Leg): RoomJoinResult[] {
    const results: RoomJoinResult[] = [];
    for (const roomId of leg.rooms) {
      const room = this.room(roomId);
      const member = room?.memberOf(leg.id);
      if (room && member) results.push(this.result(room, member));
    }
    return results;
  }

  /**
   * Joins a room by name, creating it on the first join. A leg already in it gets its
   * participant again (nothing is announced); a leg whose resource is being rung takes the
   * ringing participant (and its id, which the others know; `participantId` is then ignored).
   */
  join(leg: Leg, params: RoomJoinParams): RoomJoinResult {
    authorize(leg.scopes, 'joinRooms');
    const found = this.engine.registry.named(leg.projectId, params.name);
    const already = found?.memberOf(leg.id);
    if (found && already) return this.result(found, already);
    if (found?.removed.has(leg.resource)) throw errors.removedFromRoom();
    if (leg.rooms.size >= this.limits.maxRoomsPerSession) {
      throw errors.tooManyRoomsPerSession(this.limits.maxRoomsPerSession);
    }
    const invited = found?.ringingFor(leg.resource);
    if (found && !invited) this.outgrowMesh(found);
    const media = found?.media ?? params.media ?? 'mesh';
    if (media === 'sfu' && !this.sfu) throw errors.sfuNotConfigured();
    if (media === 'sfu' && !this.sfu?.available) throw errors.sfuUnavailable();
    if (found && !invited && found.size >= this.maxParticipants(found)) {
      throw errors.roomFull(this.maxParticipants(found), 'Try again when someone leaves.');
    }
    const room = found ?? this.engine.registry.create(leg.projectId, params.name);
    room.media = media;
    const rung = invited ? this.engine.attach(room, invited, leg) : [];
    const member = invited ?? this.engine.enter(room, leg, this.freeId(room, params));
    const { participant } = member;
    participant.moderator = can(leg.scopes, 'moderateRooms');
    participant.audioMuted = params.audioMuted ?? false;
    participant.videoMuted = params.videoMuted ?? false;
    if (params.metadata !== undefined) participant.metadata = params.metadata;
    const joined = { roomId: room.id, from: participant.id, participant: copy(participant) };
    this.engine.tell.present(room, ServerEvents.roomJoined, joined, member);
    // The other sessions rung for it stop ringing: one of their resource took the invitation.
    for (const legId of rung) this.engine.tell.leg(legId, ServerEvents.roomJoined, joined);
    return this.result(room, member);
  }

  /** Leaves a room; the room ends when nobody is left in it (ringing invitees do not count). */
  leave(leg: Leg, roomId: string): void {
    const { room, member } = this.present(leg, roomId, 'leave it');
    this.engine.depart(room, member, 'left', member.participant.id, leg.id);
  }

  /**
   * Rings every attached session of `to` (in the project, with `rooms:join`, not in the room
   * already) with `room.invited`, as one ringing participant, until one of them joins or
   * declines, or `ringTimeoutMs` passes (`no-answer`).
   */
  invite(leg: Leg, params: RoomInviteParams): void {
    authorize(leg.scopes, 'dial');
    const { room, member: inviter } = this.present(leg, params.roomId, 'invite to it');
    if (room.removed.has(params.to)) throw errors.removedInvitee(params.to);
    if (room.ringingFor(params.to)) throw errors.alreadyRinging(params.to);
    if (room.size >= this.maxParticipants(room)) {
      throw errors.roomFull(this.maxParticipants(room), 'Invite when someone leaves.');
    }
    const rung = this.directory
      .ofResource(leg.projectId, params.to)
      .filter((l) => l.attached && can(l.scopes, 'joinRooms') && !l.rooms.has(room.id));
    if (rung.length === 0) throw errors.nobodyToRing(params.to);
    const member = this.engine.ring(room, params.to, rung);
    const from = inviter.participant.id;
    const participant = copy(member.participant);
    this.engine.tell.present(room, ServerEvents.roomJoined, { roomId: room.id, from, participant });
    const invited: EventParams<'room.invited'> = {
      roomId: room.id,
      from,
      name: room.name,
      by: leg.resource,
    };
    if (params.metadata !== undefined) invited.metadata = params.metadata;
    for (const target of rung) this.engine.tell.send(target, ServerEvents.roomInvited, invited);
  }

  /** A rung session declines: the invitation ends (`declined`) on every session it rang. */
  decline(leg: Leg, roomId: string): void {
    const room = this.room(roomId);
    const member = room?.ringingOn(leg.id);
    if (!room || !member) {
      throw room?.memberOf(leg.id) ? errors.inRoomNotInvited() : errors.noInvitation();
    }
    this.engine.unring(room, member, leg.id);
    this.engine.depart(room, member, 'declined', member.participant.id, leg.id);
  }

  /**
   * Forwards a WebRTC signal to another participant, unless its leg is not keeping up: then the
   * sender is refused (it may send it again shortly) instead of the reader being buried by it.
   */
  signal(leg: Leg, params: RoomSignalParams): void {
    const { room, member } = this.present(leg, params.roomId, 'signal in it');
    if (room.media === 'sfu' && this.sfu) {
      // The SFU answers: signals are about this participant's upload or downloads. It enforces
      // supervisors' modes: a monitoring one uploads nothing, a whispering one reaches its agent.
      if (params.to === SFU_PEER && member.assist?.mode === 'monitor') {
        throw errors.monitorSendsNothing();
      }
      if (params.to !== SFU_PEER && !hears(member, this.target(room, params.to, 'signal'))) {
        throw errors.notHeard(params.to);
      }
      this.sfu.signal(room, member, params.to, params.signal);
      return;
    }
    const target = this.target(room, params.to, 'signal');
    if (target === member) throw errors.signalToSelf();
    const receiver = target.legId === null ? undefined : this.directory.get(target.legId);
    if (!receiver) return;
    if (!receiver.acceptsSignal()) throw errors.peerBacklogged();
    const from = member.participant.id;
    this.engine.tell.send(receiver, ServerEvents.roomSignal, {
      roomId: room.id,
      from,
      signal: params.signal,
    });
  }

  /** Changes this participant's mute flags; the others get `room.updated` when they changed. */
  update(leg: Leg, params: RoomUpdateParams): void {
    const { room, member } = this.present(leg, params.roomId, 'update it');
    const { participant } = member;
    const audioMuted = params.audioMuted ?? participant.audioMuted;
    const videoMuted = params.videoMuted ?? participant.videoMuted;
    if (audioMuted === participant.audioMuted && videoMuted === participant.videoMuted) return;
    if (room.media === 'sfu' && participant.audioMuted !== audioMuted) {
      this.sfu?.muted(room, member, 'audio', audioMuted);
    }
    if (room.media === 'sfu' && participant.videoMuted !== videoMuted) {
      this.sfu?.muted(room, member, 'video', videoMuted);
    }
    participant.audioMuted = audioMuted;
    participant.videoMuted = videoMuted;
    const updated = { roomId: room.id, from: participant.id, participant: copy(participant) };
    this.engine.tell.present(room, ServerEvents.roomUpdated, updated, member);
  }

  /**
   * A moderator mutes a participant: it gets `room.muted`, and everyone present (the moderator
   * and the target too) `room.updated` when its flag changed.
   */
  mute(leg: Leg, params: RoomMuteParams): void {
    const { room, member: moderator } = this.moderator(leg, params.roomId, 'mute its participants');
    const target = this.target(room, params.participantId, 'mute');
    const from = moderator.participant.id;
    this.engine.tell.leg(target.legId, ServerEvents.roomMuted, {
      roomId: room.id,
      from,
      kind: params.kind,
    });
    const flag = params.kind === 'audio' ? 'audioMuted' : 'videoMuted';
    if (target.participant[flag]) return;
    target.participant[flag] = true;
    // Enforced in an SFU: the muted media stops there, whatever the client does.
    if (room.media === 'sfu') this.sfu?.muted(room, target, params.kind, true);
    const participant = copy(target.participant);
    this.engine.tell.present(room, ServerEvents.roomUpdated, {
      roomId: room.id,
      from,
      participant,
    });
  }

  /**
   * A moderator removes a participant (a ringing one too): it leaves with `removed`, which it is
   * told as well, and its resource may neither join nor be invited again while the room lives.
   * Other participants of the same resource stay (each is removed on its own).
   */
  remove(leg: Leg, params: RoomModerateParams): void {
    const { room, member: moderator } = this.moderator(
      leg,
      params.roomId,
      'remove its participants',
    );
    const target = room.member(params.participantId);
    if (!target) throw errors.noParticipant(params.participantId);
    if (target === moderator) throw errors.removeSelf();
    room.removed.add(target.participant.resource);
    const targetLeg = target.legId;
    const from = moderator.participant.id;
    this.engine.depart(room, target, 'removed', from, leg.id);
    // Told after the others, as they are; it is no longer among those present.
    const participant = copy(target.participant);
    this.engine.tell.leg(targetLeg, ServerEvents.roomLeft, {
      roomId: room.id,
      from,
      participant,
      reason: 'removed',
    });
  }

  /** A moderator ends the room for everyone in it and everyone rung into it. */
  end(leg: Leg, roomId: string): void {
    const { room, member } = this.moderator(leg, roomId, 'end it');
    this.engine.close(room, 'ended', member.participant.id, leg.id);
  }

  /** The leg's socket dropped: its participants are `away` until it resumes or ends. */
  detached(leg: Leg): void {
    this.engine.detached(leg, 'room');
  }

  /** The leg resumed: its participants are `joined` again. */
  resumed(leg: Leg): void {
    this.engine.resumed(leg, 'room');
  }

  /**
   * The leg is gone for good: it leaves its rooms (`disconnected`) and stops being rung; an
   * invitation whose last rung leg went leaves with `disconnected` too. A rung leg that is only
   * detached goes on being rung (it may resume and join).
   */
  ended(leg: Leg): void {
    this.engine.ended(leg, 'room');
  }

  private room(roomId: string): Room | undefined {
    return this.engine.room(roomId, 'room');
  }

  /** A new participant's id: the one asked for when well-formed and free, else a fresh one. */
  private freeId(room: Room, params: RoomJoinParams): string {
    const asked = params.participantId;
    return isParticipantId(asked) && !room.member(asked) ? asked : newParticipantId();
  }

  /** The room and the leg's (joined or away) participant in it, else room_not_found. */
  private present(leg: Leg, roomId: string, toDo: string): { room: Room; member: Member } {
    const room = this.room(roomId);
    const member = room?.memberOf(leg.id);
    if (!room || !member) throw errors.notInRoom(toDo);
    return { room, member };
  }

  /** The moderating leg's participant: it needs `rooms:moderate` and to be in the room. */
  private moderator(leg: Leg, roomId: string, action: string): { room: Room; member: Member } {
    authorize(leg.scopes, 'moderateRooms');
    const room = this.room(roomId);
    if (!room) throw errors.noSuchRoom();
    const member = room.memberOf(leg.id);
    if (!member) throw errors.notModeratorHere(action);
    return { room, member };
  }

  /** A joined or away participant acted on, else invalid_state. */
  private target(room: Room, participantId: string, action: string): Member {
    const target = room.member(participantId);
    if (!target) throw errors.noParticipant(participantId);
    if (target.legId === null) throw errors.stillRinging(participantId, action);
    return target;
  }

  private result(room: Room, member: Member): RoomJoinResult {
    return room.snapshot(member.participant.id, this.maxParticipants(room));
  }

  /**
   * A full mesh room on a Relay whose SFU answers becomes an `sfu` room, so the join goes on:
   * those in it are told (`room.media`) and join it again, setting their media up anew.
   */
  private outgrowMesh(room: Room): void {
    if (room.media !== 'mesh' || room.size < this.limits.maxRoomParticipants) return;
    if (!this.sfu?.available) return;
    room.media = 'sfu';
    this.engine.tell.present(room, ServerEvents.roomMedia, {
      roomId: room.id,
      from: null,
      media: 'sfu',
    });
  }

  private maxParticipants(room: Room): number {
    return room.media === 'sfu' ? this.limits.maxSfuParticipants : this.limits.maxRoomParticipants;
  }
}

/** Whether `listener` may receive `source`'s media: a supervisor's only as its mode says. */
function hears(listener: Member, source: Member): boolean {
  const assist = source.assist;
  if (!assist || assist.mode === 'barge') return true;
  return assist.mode === 'whisper' && assist.agent === listener.participant.id;
}
