import type { StoreApi } from 'zustand/vanilla';
import type { Gateway, InviteParams } from '../../protocol/index.js';
import type { Peer } from '../peer/createPeer.js';
import type { CallDirection, CallSnapshot, RelayClientState } from '../types.js';
import { LocalMedia } from '../media/LocalMedia.js';
import type { TrackProcessor } from '../media/TrackProcessor.js';
import type { CallScreen } from './CallScreenShares.js';
import { newCallSnapshot } from './newCallSnapshot.js';

/** What the manager keeps per call beside its snapshot. */
export interface CallRecord {
  id: string;
  serverId: string | null;
  peer: Peer | null;
  media: LocalMedia;
  /** Signals from the other side that arrived before our peer existed. */
  inbox: unknown[];
  /** Our peer's signals produced before the Relay gave the call an id. */
  outbox: unknown[];
  noAnswerTimer: unknown;
  /** The other side said goodbye over the data channel. */
  remoteHungUp: boolean;
  /** Our call.answer went out but its reply was lost with the connection: settled on resume. */
  answerLost: boolean;
  /** The params of an outgoing call's call.invite, once its media and peer are ready. */
  invite: InviteParams | undefined;
  /** Its call.invite went out (the Relay may have it); false while it waits to be sent. */
  inviteSent: boolean;
  /** Signals received, as JSON: a signal re-sent after a drop may arrive twice. */
  seen: Set<string>;
  /** A gateway call a supervisor barged into: what its far end is sent (see FarEndMix). */
  farEnd?: { sync(): Promise<void> };
  /** Its screen shares, both ways (see CallScreenShares), once either side shared. */
  screen?: CallScreen;
}

/** Ended calls kept in the store (oldest removed first). */
const MAX_ENDED_CALLS = 50;

let counter = 0;
const localId = () => `call-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/**
 * The calls of one client: each call's record (peer, media, pending signals) by local id and by
 * the Relay's id, and its snapshot in the client store, kept together.
 */
export class CallTable {
  private readonly records = new Map<string, CallRecord>();
  private readonly byServerId = new Map<string, CallRecord>();

  /** `processTrack`: the client's track processor, for calls whose options choose none. */
  constructor(
    private readonly store: StoreApi<RelayClientState>,
    private readonly processTrack: TrackProcessor | null = null,
  ) {}

  /** A new call in the store (state `dialing`), after letting go of the oldest ended ones. */
  add(
    direction: CallDirection,
    remote: string,
    metadata: unknown,
    gateway: Gateway | null = null,
  ): CallRecord {
    this.pruneEnded();
    const id = localId();
    const record: CallRecord = {
      id,
      serverId: null,
      peer: null,
      media: new LocalMedia({ callId: id }, this.processTrack),
      inbox: [],
      outbox: [],
      noAnswerTimer: undefined,
      remoteHungUp: false,
      answerLost: false,
      seen: new Set(),
      invite: undefined,
      inviteSent: false,
    };
    this.records.set(id, record);
    const calls = this.store.getState().calls;
    this.store.setState({
      calls: { ...calls, [id]: newCallSnapshot(id, direction, remote, metadata, gateway) },
    });
    return record;
  }

  get(callId: string): CallRecord | undefined {
    return this.records.get(callId);
  }

  /** The call the Relay knows as `serverId`. */
  ofServer(serverId: string): CallRecord | undefined {
    return this.byServerId.get(serverId);
  }

  all(): CallRecord[] {
    return [...this.records.values()];
  }

  /** The Relay's id for the call. */
  bind(record: CallRecord, serverId: string): void {
    record.serverId = serverId;
    this.byServerId.set(serverId, record);
  }

  /** The Relay no longer routes the call (it goes on peer to peer, or it is gone). */
  unbind(record: CallRecord): void {
    if (record.serverId) this.byServerId.delete(record.serverId);
    record.serverId = null;
  }

  snapshot(callId: string): CallSnapshot | undefined {
    return this.store.getState().calls[callId];
  }

  ended(callId: string): boolean {
    const state = this.snapshot(callId)?.state;
    return state === undefined || state === 'ended';
  }

  update(callId: string, patch: Partial<CallSnapshot>): void {
    const calls = this.store.getState().calls;
    const call = calls[callId];
    if (!call) return;
    this.store.setState({ calls: { ...calls, [callId]: { ...call, ...patch } } });
  }

  /** Forgets the call: its record and its snapshot. */
  remove(callId: string): void {
    const record = this.records.get(callId);
    this.records.delete(callId);
    if (record?.serverId) this.byServerId.delete(record.serverId);
    const calls = { ...this.store.getState().calls };
    delete calls[callId];
    this.store.setState({ calls });
  }

  /** Ended calls stay in the store for the UI until dismissed, but not without bound. */
  private pruneEnded(): void {
    const ended = Object.values(this.store.getState().calls).filter((c) => c.state === 'ended');
    ended.sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0));
    for (const call of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_CALLS + 1))) {
      this.remove(call.id);
    }
  }
}
