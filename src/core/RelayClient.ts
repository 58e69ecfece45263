import { createStore, type StoreApi } from 'zustand/vanilla';
import {
  defaultClock,
  initialState,
  sessionState,
  type RelayClientOptions,
} from './clientOptions.js';
import { CloseCodes, ErrorCodes, PROTOCOL_VERSION, RelayError } from '../protocol/index.js';
import type { CallManager } from './calls/CallManager.js';
import { ClientFeatures } from './ClientFeatures.js';
import { createClientParts } from './createClientParts.js';
import {
  TERMINAL_ERRORS,
  closeError,
  endsSession,
  projectOf,
  toRelayError,
} from './connection/connectionErrors.js';
import { KeepAlive } from './connection/KeepAlive.js';
import { PageEvents } from './connection/PageEvents.js';
import { RpcConnection, notConnected, type RequestFn } from './connection/RpcConnection.js';
import { TokenExpiry } from './connection/TokenExpiry.js';
import { waitForConnection, type WaitWording } from './connection/waitForConnection.js';
import { createDeviceManager } from './media/createDeviceManager.js';
import type { TrackProcessor } from './media/TrackProcessor.js';
import type { LazyMessaging } from './messages/LazyMessaging.js';
import type { LazyRooms } from './rooms/LazyRooms.js';
import type { LazyStats } from './stats/LazyStats.js';
import type { LazySupervision } from './supervision/LazySupervision.js';
import type {
  CallOptions,
  ClientClock,
  DeviceManager,
  MediaOptions,
  ReadonlyStore,
  RelayClient,
  RelayClientState,
  ScreenShareOptions,
  TokenExpiringEvent,
  WebSocketFactory,
} from './types.js';

/** Creates a framework-free Relay client. Touches no browser global until used. */
export function createRelayClient(options: RelayClientOptions): RelayClient {
  return new Client(options);
}

class Client extends ClientFeatures implements RelayClient {
  /** The store, read-only for apps (see `state` for the writable one). */
  readonly store: ReadonlyStore<RelayClientState>;
  readonly devices: DeviceManager;
  private readonly state: StoreApi<RelayClientState>;
  private readonly clock: ClientClock;
  private readonly calls: CallManager;
  protected readonly rooms: LazyRooms;
  protected readonly supervision: LazySupervision;
  protected readonly stats: LazyStats;
  protected readonly messages: LazyMessaging;
  private readonly keepAlive: KeepAlive;
  private readonly page: PageEvents;
  private readonly expiry: TokenExpiry;
  private token: string | null = null;
  private conn: RpcConnection | null = null;
  private opening: Promise<void> | null = null;
  /** The app wants a connection (between connect() and disconnect()). */
  private wanted = false;
  private sessionId: string | null = null;
  private lastSeq = 0;
  private attempt = 0;
  private reconnectTimer: unknown;
  /** The page was hidden (pagehide): calls ended and the socket closed until it shows again. */
  private suspended = false;

  constructor(private readonly options: RelayClientOptions) {
    super();
    this.clock = options.clock ?? defaultClock;
    const nav = globalThis.navigator as Navigator | undefined;
    const mediaDevices = options.mediaDevices ?? nav?.mediaDevices;
    this.store = this.state = createStore<RelayClientState>()(() => initialState(options));
    this.devices = createDeviceManager(mediaDevices, options.permissions ?? nav?.permissions);
    const request: RequestFn = (method, params) =>
      this.conn ? this.conn.request(method, params) : Promise.reject(notConnected());
    ({
      calls: this.calls,
      rooms: this.rooms,
      supervision: this.supervision,
      stats: this.stats,
      messages: this.messages,
    } = createClientParts(options, {
      state: this.state,
      clock: this.clock,
      mediaDevices,
      request,
      iceServers: () => this.iceServers(),
      isConnected: () => this.isConnected(),
      whenConnected: (wording) => this.whenConnected(wording),
    }));
    this.keepAlive = new KeepAlive({
      clock: this.clock,
      intervalMs: options.pingIntervalMs ?? 5_000,
      timeoutMs: options.pingTimeoutMs ?? 4_000,
      current: () => this.conn,
      lastSeq: () => this.lastSeq,
      onDead: () => this.lost(1006),
    });
    this.expiry = new TokenExpiry(this.state, this.clock, options.tokenRefreshMarginMs);
    this.page = new PageEvents({
      online: () => {
        if (this.state.getState().status === 'reconnecting') this.reopen();
      },
      pagehide: () => this.suspend(),
      restored: () => {
        if (!this.suspended || !this.wanted) return;
        this.suspended = false;
        this.reopen();
      },
    });
  }

  connect(token: string): Promise<void> {
    this.token = token;
    this.wanted = true;
    this.suspended = false;
    this.page.listen(this.options.hangUpOnPageHide ?? true);
    if (this.conn) return this.updateToken(token);
    return this.open();
  }

  async updateToken(token: string): Promise<void> {
    this.token = token;
    if (!this.wanted) return;
    const conn = this.conn;
    if (!conn) {
      // Waiting to reconnect, or stopped on an expired or refused token: go now.
      if (this.state.getState().status !== 'connecting') await this.open();
      return;
    }
    const sent = this.clock.now();
    const result = await conn.request('relay.reauthenticate', { token });
    // TURN credentials minted for the fresher token: later calls use them.
    this.state.setState(sessionState(result, sent, this.clock.now(), this.options));
  }

  onTokenExpiring(listener: (event: TokenExpiringEvent) => void): () => void {
    return this.expiry.listen(listener);
  }

  disconnect(): void {
    this.wanted = false;
    this.page.stop();
    this.release(CloseCodes.normal, 'client disconnect');
  }

  destroy(): void {
    this.disconnect();
    this.expiry.stop();
    this.calls.dismissAll();
    this.rooms.ifUsed((rooms) => rooms.destroy());
    this.supervision.destroy();
    this.stats.destroy();
    this.devices.destroy();
  }

  call(to: string, options?: CallOptions): string {
    return this.calls.place(to, options ?? {});
  }

  answer(callId: string, options?: MediaOptions): Promise<void> {
    return this.calls.answer(callId, options ?? {});
  }

  reject(callId: string, reason: 'declined' | 'busy' = 'declined'): void {
    this.calls.reject(callId, reason);
  }

  hangup(callId: string): void {
    this.calls.hangup(callId);
  }

  setAudioMuted(callId: string, muted: boolean): void {
    this.calls.setMuted(callId, 'audio', muted);
  }

  setVideoMuted(callId: string, muted: boolean): void {
    this.calls.setMuted(callId, 'video', muted);
  }

  setHeld(callId: string, held: boolean): void {
    this.calls.setHeld(callId, held);
  }

  sendDtmf(callId: string, tones: string): void {
    this.calls.sendDtmf(callId, tones);
  }

  transfer(callId: string, to: string): Promise<void> {
    return this.calls.transfer(callId, to);
  }

  switchDevice(callId: string, kind: 'audioinput' | 'videoinput', deviceId: string) {
    return this.calls.switchDevice(callId, kind, deviceId);
  }

  setAudioOutput(callId: string, deviceId: string): void {
    this.calls.update(callId, { audioOutputId: deviceId });
  }

  dismiss(callId: string): void {
    this.calls.dismiss(callId);
  }

  startScreenShare(callId: string, options?: ScreenShareOptions): Promise<void> {
    return this.calls.startScreenShare(callId, options ?? {});
  }

  stopScreenShare(callId: string): void {
    this.calls.stopScreenShare(callId);
  }

  setTrackProcessor(callId: string, kind: 'audio' | 'video', processor: TrackProcessor | null) {
    return this.calls.setTrackProcessor(callId, kind, processor);
  }

  /** The ICE servers new peers use now (the Relay's, once connected). */
  private iceServers() {
    return this.options.iceServers ?? this.state.getState().iceServers;
  }

  private isConnected(): boolean {
    return this.conn !== null && this.state.getState().status === 'connected';
  }

  /** Resolves once connected; rejects with `not_connected` when the client gives up. */
  private whenConnected(wording?: WaitWording): Promise<void> {
    const waitMs = this.options.noAnswerTimeoutMs ?? 45_000;
    return waitForConnection(this.state, this.clock, () => this.isConnected(), waitMs, wording);
  }

  /** The page is going away (or into the back/forward cache): hang up and let go of the socket. */
  private suspend(): void {
    if (!this.wanted || this.suspended) return;
    this.suspended = true;
    this.opening = null;
    this.release(CloseCodes.goingAway, 'page hidden');
  }

  /**
   * Hangs up every call, leaves every room and lets go of the socket and the session: the
   * client is `disconnected` and may connect again. Each hangup and room.leave goes out on the
   * socket (and the data channel) before the close frame.
   */
  private release(code: number, reason: string): void {
    this.calls.endAll();
    this.supervision.endAll();
    this.rooms.ifUsed((rooms) => rooms.leaveAll());
    this.clock.clearTimeout(this.reconnectTimer);
    this.keepAlive.stop();
    this.conn?.close(code, reason);
    this.conn = null;
    this.sessionId = null;
    this.lastSeq = 0;
    this.keepAlive.reset();
    this.state.setState({ status: 'disconnected', sessionId: null });
  }

  /** Opens again in the background (its failure is published in the store). */
  private reopen(): void {
    void this.open().catch(() => undefined);
  }

  /** Opens a socket and authenticates, resuming the session when there is one. */
  private open(): Promise<void> {
    if (!this.opening) this.opening = this.attemptOpen();
    return this.opening;
  }

  private async attemptOpen(): Promise<void> {
    this.clock.clearTimeout(this.reconnectTimer);
    const token = this.token;
    if (!token) throw new RelayError(ErrorCodes.noToken, 'No token: call connect(token) first.');
    const status = this.state.getState().status;
    this.state.setState({
      status: status === 'connected' || status === 'reconnecting' ? 'reconnecting' : 'connecting',
    });
    let conn: RpcConnection | undefined;
    try {
      conn = await RpcConnection.open({
        url: this.options.url,
        WebSocket: this.options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketFactory),
        clock: this.clock,
        requestTimeoutMs: this.options.requestTimeoutMs ?? 10_000,
        onNotification: (method, params) => this.onNotification(method, params),
        onClose: (code) => this.lost(code),
      });
      if (!this.wanted || this.suspended) {
        throw new RelayError(ErrorCodes.closed, 'Disconnected while connecting.');
      }
      const sent = this.clock.now();
      const result = await conn.request('relay.connect', {
        project: this.options.project ?? projectOf(token),
        token,
        protocol: PROTOCOL_VERSION,
        ...(this.sessionId ? { sessionId: this.sessionId, lastSeq: this.lastSeq } : {}),
      });
      if (!this.wanted || this.suspended) {
        throw new RelayError(ErrorCodes.closed, 'Disconnected while connecting.');
      }
      this.conn = conn;
      // Cleared before anything is published, so an observer may open again at once.
      this.opening = null;
      if (!result.resumed) {
        this.lastSeq = 0;
        this.keepAlive.reset();
        this.calls.sessionLost();
        this.supervision.sessionLost();
      }
      this.sessionId = result.sessionId;
      this.attempt = 0;
      this.state.setState({
        ...sessionState(result, sent, this.clock.now(), this.options),
        status: 'connected',
        error: null,
        sessionId: result.sessionId,
        resource: result.resource,
      });
      this.keepAlive.start();
      // Requests lost with the previous socket go again (the replay follows this reply); on a
      // fresh session, rooms are joined again.
      if (result.resumed) this.calls.resumed();
      this.rooms.ifUsed((rooms) => rooms.connected(result.resumed));
      this.supervision.connected(result.resumed);
    } catch (error) {
      this.opening = null;
      conn?.close();
      this.failed(toRelayError(error));
      throw toRelayError(error);
    }
  }

  private onNotification(method: string, params: Record<string, unknown>): void {
    const seq = params.seq;
    if (typeof seq === 'number') {
      // Replays after a resume repeat what was already processed.
      if (seq <= this.lastSeq) return;
      this.lastSeq = seq;
    }
    const handled =
      this.messages.onNotification(method, params) ||
      this.rooms.onNotification(method, params) ||
      this.supervision.onNotification(method, params);
    if (!handled) this.calls.onNotification(method, params);
    this.keepAlive.processed();
  }

  /** The socket closed or died under us. */
  private lost(code: number): void {
    this.keepAlive.stop();
    this.conn = null;
    if (!this.wanted || this.suspended) {
      this.state.setState({ status: 'disconnected' });
      return;
    }
    if (endsSession(code)) this.sessionId = null;
    this.failed(closeError(code));
    this.rooms.ifUsed((rooms) => rooms.connectionLost());
  }

  private failed(error: RelayError): void {
    if (!this.wanted || this.suspended) return;
    if (TERMINAL_ERRORS.has(error.code)) {
      this.state.setState({ status: 'failed', error });
      return;
    }
    const ceiling = Math.min(
      this.options.reconnectMaxMs ?? 15_000,
      (this.options.reconnectBaseMs ?? 500) * 2 ** this.attempt,
    );
    this.attempt += 1;
    this.clock.clearTimeout(this.reconnectTimer);
    const delay = (this.options.random ?? Math.random)() * ceiling;
    this.reconnectTimer = this.clock.setTimeout(() => this.reopen(), delay);
    // Published after the retry is scheduled, so observers see a consistent client.
    this.state.setState({ status: 'reconnecting', error });
  }
}
