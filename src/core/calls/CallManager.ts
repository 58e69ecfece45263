import type { StoreApi } from 'zustand/vanilla';
import {
  ErrorCodes,
  RelayError,
  ServerEvents,
  gatewayOf,
  type EndReason,
  type IceServer,
} from '../../protocol/index.js';
import { lostWithConnection } from '../connection/connectionErrors.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { DisplayMediaFn } from '../media/captureScreen.js';
import type { TrackProcessor } from '../media/TrackProcessor.js';
import type { PeerTextMessage } from '../messages/CallMessaging.js';
import type { createPeer, Peer } from '../peer/createPeer.js';
import type { createGatewayPeer } from '../peer/createGatewayPeer.js';
import type {
  CallEndReason,
  CallOptions,
  CallSnapshot,
  ClientClock,
  MediaOptions,
  RelayClientState,
  ScreenShareOptions,
} from '../types.js';
import { sendCallDtmf, setCallHeld, setCallMuted, switchCallDevice } from './callControls.js';
import { asRelayError, endError, endReasonOf, type PeerMessage } from './callMessages.js';
import { attachPeer, type PeerHost } from './callPeer.js';
import { CallInvites } from './CallInvites.js';
import { CallScreenShares } from './CallScreenShares.js';
import { CallRequests } from './callRequests.js';
import { CallTable, type CallRecord } from './CallTable.js';
import { GatewayCalls, asGateway, dialRefusal, gatewayMedia } from './gatewayCalls.js';

export interface CallManagerDeps {
  store: StoreApi<RelayClientState>;
  clock: ClientClock;
  mediaDevices: MediaDevices | undefined;
  createPeer: typeof createPeer;
  /** Starts loading the peer code (a call is starting). Default: nothing. */
  preloadPeer?: () => void;
  /** The peer of calls through the SIP gateway (no data channel). */
  createGatewayPeer: typeof createGatewayPeer;
  noAnswerTimeoutMs: number;
  /** The ICE servers new peers use now (the Relay's, once connected). */
  iceServers(): IceServer[];
  /**
   * Resolves once the client is connected (at once when it is); rejects with a `not_connected`
   * RelayError when it gives up (disconnected, a token it cannot use, or too long a wait).
   */
  whenConnected: () => Promise<void>;
  /** A signaling request; rejects with `not_connected` (nothing sent) when not connected. */
  request: RequestFn;
  /**
   * Web Audio, to mix a barging supervisor into what a gateway call's far end hears. Default:
   * none (the far end does not hear supervisors).
   */
  AudioContext?: typeof AudioContext | undefined;
  /** Screen capture for `startScreenShare`. Default: none (sharing fails, saying why). */
  getDisplayMedia?: DisplayMediaFn | undefined;
  /** The client's track processor, for calls whose options choose none. Default: none. */
  processTrack?: TrackProcessor | undefined;
  /** An in-call message arrived on a call's data channel. Default: dropped. */
  onMessage?(callId: string, message: PeerTextMessage): void;
}

/** Places, receives and runs calls: signaling through the Relay, media peer to peer. */
export class CallManager {
  private readonly table: CallTable;
  private readonly requests: CallRequests;
  private readonly invites: CallInvites;
  private readonly peerHost: PeerHost;
  private readonly gateways: GatewayCalls;
  private readonly screens: CallScreenShares;

  constructor(private readonly deps: CallManagerDeps) {
    this.table = new CallTable(deps.store, deps.processTrack ?? null);
    this.requests = new CallRequests(deps.request, deps.clock, (r) => this.table.ended(r.id));
    this.screens = new CallScreenShares(this.table, deps.getDisplayMedia);
    this.peerHost = {
      table: this.table,
      clock: deps.clock,
      screens: this.screens,
      signal: (record, signal) => this.relaySignal(record, signal),
      finish: (record, reason, error, options) => this.finish(record, reason, error, options),
      message: (record, message) => deps.onMessage?.(record.id, message),
    };
    this.gateways = new GatewayCalls({
      ...this.peerHost,
      requests: this.requests,
      request: deps.request,
      AudioContext: deps.AudioContext,
      state: () => deps.store.getState(),
      finish: (record, reason, error) => this.finish(record, reason, error, { tellRelay: false }),
    });
    this.invites = new CallInvites({
      ...this.peerHost,
      requests: this.requests,
      request: deps.request,
      whenConnected: deps.whenConnected,
      noAnswerTimeoutMs: deps.noAnswerTimeoutMs,
      finish: (record, reason, error, options) => this.finish(record, reason, error, options),
    });
  }

  /**
   * Places a call. Before the client is connected (the first token loading, a reconnection),
   * the call waits in `dialing` and its invite goes once connected.
   */
  place(to: string, options: CallOptions): string {
    const gateway = gatewayOf(to);
    this.deps.preloadPeer?.();
    const record = this.table.add('outgoing', to, options.metadata, gateway);
    const refusal = dialRefusal(to, this.deps.store.getState());
    // The Relay would refuse it: say so before asking for the camera.
    if (refusal) this.finish(record, refusal.reason, refusal.error, { tellRelay: false });
    else void this.dial(record, to, gatewayMedia(gateway, options));
    return record.id;
  }

  async answer(callId: string, options: MediaOptions): Promise<void> {
    const record = this.table.get(callId);
    const call = this.table.snapshot(callId);
    if (!record || !call || call.direction !== 'incoming' || call.state !== 'ringing') {
      throw new RelayError(
        ErrorCodes.invalidState,
        'Only a ringing incoming call can be answered.',
      );
    }
    this.update(callId, { state: 'connecting' });
    try {
      const media = gatewayMedia(call.gateway, options);
      const stream = await record.media.acquire(this.deps.mediaDevices, media);
      if (this.table.ended(callId)) return;
      this.update(callId, { localStream: stream });
      await this.startPeer(record, false, stream);
      try {
        await this.deps.request('call.answer', { callId: record.serverId! });
      } catch (error) {
        // Answered or not, the resume tells (signals, or call.ended); settled in resumed().
        if (!lostWithConnection(error)) throw error;
        record.answerLost = true;
      }
      for (const signal of record.inbox.splice(0)) record.peer?.signal(signal);
    } catch (error) {
      const relayError = asRelayError(error);
      const reason =
        relayError.code === ErrorCodes.answeredElsewhere ? 'answered-elsewhere' : 'failed';
      this.finish(record, reason, relayError, {
        tellRelay: reason === 'failed' ? 'reject' : false,
      });
      throw relayError;
    }
  }

  reject(callId: string, reason: 'declined' | 'busy'): void {
    const record = this.table.get(callId);
    if (!record || this.table.ended(callId)) return;
    if (record.serverId) {
      this.requests.tell(record, 'call.reject', { callId: record.serverId, reason });
    }
    this.finish(record, 'declined', null, { tellRelay: false });
  }

  hangup(callId: string): void {
    const record = this.table.get(callId);
    const call = this.table.snapshot(callId);
    if (!record || !call || call.state === 'ended') return;
    const reason = call.state === 'active' || call.state === 'held' ? 'hangup' : 'cancelled';
    const declined = call.direction === 'incoming' && call.state === 'ringing';
    this.finish(record, declined ? 'declined' : reason, null, { tellRelay: 'hangup' });
  }

  setMuted(callId: string, kind: 'audio' | 'video', muted: boolean): void {
    setCallMuted(this.table, callId, kind, muted);
  }

  setHeld(callId: string, held: boolean): void {
    if (!this.gateways.setHeld(callId, held)) setCallHeld(this.table, callId, held);
  }

  sendDtmf(callId: string, tones: string): void {
    if (!this.gateways.sendDtmf(callId, tones)) sendCallDtmf(this.table, callId, tones);
  }

  transfer(callId: string, to: string): Promise<void> {
    return this.gateways.transfer(callId, to);
  }

  switchDevice(callId: string, kind: 'audioinput' | 'videoinput', deviceId: string) {
    return switchCallDevice(this.table, this.deps.mediaDevices, callId, kind, deviceId);
  }

  async setTrackProcessor(
    callId: string,
    kind: 'audio' | 'video',
    processor: TrackProcessor | null,
  ): Promise<void> {
    // Loaded on first use: most apps never change a processor mid-call.
    const { setCallTrackProcessor } = await import('./callTrackProcessor.js');
    return setCallTrackProcessor(this.table, callId, kind, processor);
  }

  startScreenShare(callId: string, options: ScreenShareOptions): Promise<void> {
    return this.screens.start(callId, options);
  }

  stopScreenShare(callId: string): void {
    this.screens.stop(callId);
  }

  /**
   * The Relay started a fresh session: calls it no longer routes end, unless media already flows
   * or the Relay never had them (calls waiting to be sent go on).
   */
  sessionLost(): void {
    this.requests.clear();
    this.invites.clear();
    for (const record of this.table.all()) {
      const call = this.table.snapshot(record.id);
      // An outgoing call whose invite never went is not the Relay's: it goes on the new session.
      if (!call || call.state === 'ended' || (!record.serverId && !record.inviteSent)) continue;
      if ((call.state === 'active' || call.state === 'held') && !call.gateway) {
        // Peer to peer from now on: hangup, mute and hold travel on the data channel.
        this.table.unbind(record);
      } else {
        this.finish(record, 'disconnected', endError('disconnected'), { tellRelay: false });
      }
    }
  }

  /**
   * The Relay resumed the session: requests lost with the old socket go again, in order (a
   * signal that did arrive arrives twice; the other side drops the copy), then lost invites and
   * answers (see CallInvites).
   */
  resumed(): void {
    this.requests.resend();
    this.invites.resumed();
  }

  onNotification(method: string, params: Record<string, unknown>): void {
    const serverId = String(params.callId);
    if (method === ServerEvents.incoming) {
      const gateway = asGateway(params.gateway);
      this.deps.preloadPeer?.(); // while it rings
      const record = this.table.add('incoming', String(params.from), params.metadata, gateway);
      this.table.bind(record, serverId);
      this.update(record.id, { state: 'ringing' });
      return;
    }
    if (method === ServerEvents.ringing && !this.table.ofServer(serverId)) {
      this.invites.unknownRinging(serverId);
    }
    const record = this.table.ofServer(serverId);
    if (!record || this.table.ended(record.id)) return;
    if (this.gateways.onEvent(record, method, params)) return;
    if (method === ServerEvents.ringing) {
      if (this.table.snapshot(record.id)?.state === 'dialing')
        this.update(record.id, { state: 'ringing' });
    } else if (method === ServerEvents.answered) {
      this.deps.clock.clearTimeout(record.noAnswerTimer);
      this.update(record.id, { state: 'connecting' });
    } else if (method === ServerEvents.signal) {
      const key = JSON.stringify(params.signal);
      if (record.seen.has(key)) return;
      record.seen.add(key);
      if (record.peer) record.peer.signal(params.signal);
      else record.inbox.push(params.signal);
    } else if (method === ServerEvents.peer) {
      this.update(record.id, { peerConnected: params.connected === true });
    } else if (method === ServerEvents.ended) {
      const reason = params.reason as EndReason;
      if (reason === 'disconnected' && record.peer?.connected) {
        // The other side lost the Relay, not us: media still flows, so the call goes on
        // peer to peer (hangup, mute and hold travel on the data channel).
        this.table.unbind(record);
        return;
      }
      this.finish(record, reason, endError(reason), { tellRelay: false });
    }
  }

  /** Hangs up every live call (disconnect). */
  endAll(): void {
    for (const record of this.table.all()) this.hangup(record.id);
  }

  /** Removes a call from the store, hanging it up first when it is live. */
  dismiss(callId: string): void {
    if (this.table.get(callId) && !this.table.ended(callId)) this.hangup(callId);
    this.table.remove(callId);
  }

  dismissAll(): void {
    for (const id of Object.keys(this.deps.store.getState().calls)) this.dismiss(id);
  }

  update(callId: string, patch: Partial<CallSnapshot>): void {
    this.table.update(callId, patch);
    if (patch.supervisors) this.gateways.supervised(callId);
  }

  /** This client's id of the call the Relay knows as `serverId`, when it is one of ours. */
  localIdOf(serverId: string): string | undefined {
    return this.table.ofServer(serverId)?.id;
  }

  /** How a message reaches the other side: the call's peer, and its Relay id when routed. */
  messageRoute(callId: string): { peer: Peer | null; serverId: string | null } | undefined {
    return this.table.get(callId);
  }

  /** The call's peer connection now (for its stats), or null before its peer or once ended. */
  connectionOf(callId: string): RTCPeerConnection | null {
    return this.table.get(callId)?.peer?.pc ?? null;
  }

  private async dial(record: CallRecord, to: string, options: CallOptions) {
    try {
      // Media while connecting (the preview shows at once), the rest once connected: the peer
      // then has the Relay's ICE servers (TURN credentials), and the token's scopes are known.
      const stream = await record.media.acquire(this.deps.mediaDevices, options);
      if (this.table.ended(record.id)) return;
      this.update(record.id, { localStream: stream });
      await this.deps.whenConnected();
      if (this.table.ended(record.id)) return;
      const refusal = dialRefusal(to, this.deps.store.getState());
      if (refusal) return this.finish(record, refusal.reason, refusal.error, { tellRelay: false });
      // The peer comes first: nobody is rung for a call this browser cannot make.
      await this.startPeer(record, true, stream);
      if (this.table.ended(record.id)) return;
      record.invite = {
        to,
        ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      };
      await this.invites.invite(record);
    } catch (error) {
      const relayError = asRelayError(error);
      this.finish(record, endReasonOf(relayError), relayError, { tellRelay: 'hangup' });
    }
  }

  /** Creates the call's peer with the ICE servers of now (the Relay's, once connected). */
  private async startPeer(record: CallRecord, initiator: boolean, stream: MediaStream) {
    const iceServers = this.deps.iceServers();
    const { createGatewayPeer, createPeer } = this.deps;
    const create = this.table.snapshot(record.id)?.gateway ? createGatewayPeer : createPeer;
    const peer = await create({ initiator, iceServers, stream });
    if (this.table.ended(record.id)) {
      peer.destroy();
      return;
    }
    attachPeer(record, peer, this.peerHost);
  }

  private relaySignal(record: CallRecord, signal: unknown): void {
    this.requests.tell(record, 'call.signal', { callId: record.serverId!, signal });
  }

  private finish(
    record: CallRecord,
    reason: CallEndReason,
    error: RelayError | null,
    { tellRelay }: { tellRelay: 'hangup' | 'reject' | false },
  ): void {
    if (this.table.ended(record.id)) return;
    this.deps.clock.clearTimeout(record.noAnswerTimer);
    if (tellRelay && record.serverId) {
      const method = tellRelay === 'hangup' ? 'call.hangup' : 'call.reject';
      this.requests.tell(record, method, { callId: record.serverId });
    }
    if (reason === 'hangup' || reason === 'cancelled' || reason === 'declined') {
      if (!record.remoteHungUp) record.peer?.send({ t: 'hangup' } satisfies PeerMessage);
    }
    const peer = record.peer;
    record.peer = null;
    peer?.destroy();
    this.screens.release(record);
    record.media.release();
    record.inbox.length = 0;
    record.outbox.length = 0;
    this.update(record.id, {
      state: 'ended',
      endReason: reason,
      error,
      endedAt: this.deps.clock.now(),
      localStream: null,
      remoteStream: null,
      supervisors: [],
      reconnecting: false,
      screenSharing: false,
      screenStream: null,
      remoteScreenSharing: false,
      remoteScreenStream: null,
    });
  }
}
