/**
 * Supervision: listing a project's ongoing calls and rooms (scope `calls:list`) and assisting
 * one of them (scope `calls:assist`): listening in, whispering to one participant, or barging
 * in as a full party. See docs/PROTOCOL.md#supervision.
 */
import type { Gateway } from './gateway.js';
import type { CallIdParams } from './messages.js';
import type { ParticipantState, RoomJoinResult, RoomMedia } from './rooms.js';

/**
 * How a supervisor assists a call:
 * - `monitor`: receives every participant's media, sends nothing;
 * - `whisper`: receives everyone, and its audio reaches only the `agent` participant;
 * - `barge`: a full party: everyone hears it, it hears everyone.
 */
export type AssistMode = 'monitor' | 'whisper' | 'barge';

export const ASSIST_MODES: readonly AssistMode[] = ['monitor', 'whisper', 'barge'];

export function isAssistMode(value: unknown): value is AssistMode {
  return typeof value === 'string' && (ASSIST_MODES as readonly string[]).includes(value);
}

/** `call.assist` params. `callId` is a call's id or a room's id, as `calls.list` shows them. */
export interface AssistParams extends CallIdParams {
  mode: AssistMode;
  /**
   * Whisper only: the participant who hears the supervisor, by participant id or resource.
   * Optional when one participant is a browser and the other a phone or SIP leg (the browser is
   * the agent); otherwise required.
   */
  agent?: string;
}

/** One other participant of an assisted call, as `call.assist` answers it. */
export interface CallParty {
  participantId: string;
  resource: string;
}

export interface AssistResult {
  callId: string;
  /** The supervisor's own participant id in the call (signals to it use this id). */
  participantId: string;
  /** Everyone in the call the supervisor connects to (the supervisor offers to each). */
  parties: CallParty[];
  /**
   * Rooms: the room as `room.join` answers it (the supervisor is then one of its participants,
   * told of its changes with the `room.*` events, and signals with `room.signal`).
   */
  room?: RoomJoinResult;
}

/** A supervisor of a call, as `call.assisted` tells everyone in it. */
export interface Supervisor {
  participantId: string;
  /** Resource of the supervisor's token. */
  resource: string;
  mode: AssistMode;
  /** Whisper: participant id of the one participant who hears the supervisor. */
  agent?: string;
  /** When the supervisor took this mode, ms since the epoch (server clock). */
  since: number;
}

/**
 * `call.assisted`: who supervises the call now (sent to its parties and supervisors whenever a
 * supervisor arrives, changes mode or leaves; an empty list when the last one left).
 */
export interface AssistedEvent {
  seq: number;
  callId: string;
  /** The receiving session's own participant id in the call. */
  participantId: string;
  supervisors: Supervisor[];
}

/** One entry of a call's assist audit: a supervisor took a mode. */
export interface AssistAudit {
  /** Resource of the supervisor. */
  by: string;
  participantId: string;
  mode: AssistMode;
  /** ms since the epoch. */
  at: number;
  /** When the supervisor left the mode (changed mode or left), ms since the epoch. */
  until?: number;
}

/** Where a listed call is: ringing until answered, then active. */
export type CallRecordState = 'ringing' | 'active';

/** How a listed call carries media: browser to browser (`p2p`), a room's way, or SIP. */
export type CallRecordMedia = 'p2p' | RoomMedia | 'sip';

export interface CallRecordParticipant {
  id: string;
  /** Resource; for the far end of a SIP call its number or SIP URI. */
  resource: string;
  state: ParticipantState;
  role: 'caller' | 'callee' | 'participant' | 'supervisor';
  /** Supervisors: their mode. */
  assist?: AssistMode;
}

/** An ongoing call or room, as `calls.list`, `calls.updated` and the REST API describe it. */
export interface CallRecord {
  /** Call id or room id: what `call.assist` takes. */
  id: string;
  kind: 'call' | 'room';
  media: CallRecordMedia;
  /** Rooms: the room's name. */
  name?: string;
  /** SIP calls: the kind of far end. */
  gateway?: Gateway;
  state: CallRecordState;
  /** ms since the epoch. */
  startedAt: number;
  /** When answered (calls), ms since the epoch. */
  answeredAt?: number;
  participants: CallRecordParticipant[];
  /** Every assist, oldest first (kept while the call lives). */
  assists: AssistAudit[];
}

/** Filters of `calls.list`, `calls.watch` and `GET /api/relay/rest/calls`. */
export interface CallsFilter {
  /** Only calls one of whose participants is this resource. */
  resource?: string;
  state?: CallRecordState;
}

export interface CallsListResult {
  calls: CallRecord[];
  /** True when more calls matched than `maxListedCalls`: narrow the filter. */
  truncated: boolean;
}

/**
 * `calls.updated`: a watched call changed (`ended: false`, the record as it is now) or ended
 * (`ended: true`, its last record).
 */
export interface CallsUpdatedEvent {
  seq: number;
  call: CallRecord;
  ended: boolean;
}

/** Path of the REST listing of ongoing calls (GET, project credentials). */
export const CALLS_PATH = '/api/relay/rest/calls';
