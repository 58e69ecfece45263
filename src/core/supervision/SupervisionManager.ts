import type { StoreApi } from 'zustand/vanilla';
import type { LazyRooms } from '../rooms/LazyRooms.js';
import {
  ServerEvents,
  type AssistedEvent,
  type CallsUpdatedEvent,
  type IceServer,
} from '../../protocol/index.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { GatewayPeerOptions } from '../peer/createGatewayPeer.js';
import type { Peer } from '../peer/createPeer.js';
import type { WaitWording } from '../connection/waitForConnection.js';
import type { CallSnapshot, ClientClock, RelayClientState } from '../types.js';
import { ASSIST_WORDING, LIST_WORDING } from './assistErrors.js';
import { Assists } from './Assists.js';
import { CallList } from './CallList.js';
import { PartySupervisors } from './PartySupervisors.js';
import { SignalTeller } from './SignalTeller.js';

export interface SupervisionDeps {
  store: StoreApi<RelayClientState>;
  clock: ClientClock;
  mediaDevices: MediaDevices | undefined;
  request: RequestFn;
  /** Resolves once connected; rejects with `not_connected`, worded per `wording`. */
  whenConnected(wording: WaitWording): Promise<void>;
  isConnected: () => boolean;
  iceServers: () => IceServer[];
  /** A plain RTCPeerConnection peer (createGatewayPeer, with the client's ICE policy). */
  createPeer: (options: GatewayPeerOptions) => Promise<Peer>;
  AudioContext: typeof AudioContext | undefined;
  /** This client's id of the call the Relay knows as `serverId`, if it is one of ours. */
  callIdOf: (serverId: string) => string | undefined;
  updateCall: (callId: string, patch: Partial<CallSnapshot>) => void;
  /** The client's room machinery, for the rooms a supervisor assists. */
  rooms: LazyRooms;
}

const isAssisted = (p: Record<string, unknown>): boolean =>
  typeof p.callId === 'string' &&
  typeof p.participantId === 'string' &&
  Array.isArray(p.supervisors);

/**
 * Supervision, loaded on first use (see LazySupervision): the supervisor's assists, the
 * party's side of being supervised, and the watched call list.
 */
export class SupervisionManager {
  private readonly teller: SignalTeller;
  /** The supervisor's side: `client.assist`, `client.stopAssist`. */
  readonly assists: Assists;
  private readonly party: PartySupervisors;
  /** The watched call list: `client.listCalls`, `client.watchCalls`. */
  readonly list: CallList;

  constructor(deps: SupervisionDeps) {
    const { store, request } = deps;
    this.teller = new SignalTeller(request, deps.clock);
    const links = { iceServers: deps.iceServers, createPeer: deps.createPeer };
    this.assists = new Assists({
      ...links,
      store,
      request,
      clock: deps.clock,
      mediaDevices: deps.mediaDevices,
      whenConnected: () => deps.whenConnected(ASSIST_WORDING),
      teller: this.teller,
      rooms: deps.rooms,
    });
    this.party = new PartySupervisors({
      ...links,
      store,
      teller: this.teller,
      callIdOf: deps.callIdOf,
      updateCall: deps.updateCall,
      AudioContext: deps.AudioContext,
    });
    this.list = new CallList({
      store,
      request,
      whenConnected: () => deps.whenConnected(LIST_WORDING),
      isConnected: deps.isConnected,
    });
  }

  onNotification(method: string, params: Record<string, unknown>): void {
    const callId = typeof params.callId === 'string' ? params.callId : '';
    if (method === ServerEvents.assisted && isAssisted(params)) {
      const event = params as unknown as AssistedEvent;
      if (!this.assists.onAssisted(event)) this.party.onAssisted(event);
    } else if (method === ServerEvents.signal && typeof params.from === 'string') {
      if (!this.assists.onSignal(callId, params.from, params.signal))
        this.party.onSignal(callId, params.from, params.signal);
    } else if (method === ServerEvents.ended) {
      this.assists.onEnded(callId);
    } else if (method === ServerEvents.callsUpdated) {
      this.list.onUpdated(params as unknown as CallsUpdatedEvent);
    }
  }

  /** The client connected: resumed, lost requests go again; fresh, the call list is watched. */
  connected(resumed: boolean): void {
    if (resumed) {
      this.teller.resend();
      this.assists.resumed();
    }
    this.list.connected(resumed);
  }

  /** The Relay started a fresh session: the old one's assists and supervisors are gone. */
  sessionLost(): void {
    this.teller.clear();
    this.assists.sessionLost();
    this.party.sessionLost();
  }

  /** The client disconnects: leave every assisted call. */
  endAll(): void {
    this.assists.endAll();
  }

  destroy(): void {
    this.endAll();
    this.party.destroy();
  }
}
