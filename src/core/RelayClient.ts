import { createStore, type StoreApi } from 'zustand/vanilla';
import {
  CloseCodes,
  ErrorCodes,
  RelayError,
  type ConnectResult,
  type IceServer,
  type ReauthenticateResult,
} from '../protocol/index.js';
import { CallManager } from './calls/CallManager.js';
import {
  TERMINAL_ERRORS,
  closeError,
  endsSession,
  projectOf,
  toRelayError,
} from './connection/connectionErrors.js';
import { RpcConnection, notConnected } from './connection/RpcConnection.js';
import { waitForConnection } from './connection/waitForConnection.js';
import { createDeviceManager } from './media/createDeviceManager.js';
import { createPeer } from './peer/createPeer.js';
import type {
  CallOptions,
  ClientClock,
  DeviceManager,
  MediaOptions,
  RelayClient,
  RelayClientState,
  WebSocketFactory,
} from './types.js';

export interface RelayClientOptions {
  /** Relay base URL, e.g. `https://relay.example.com` (the socket path is added). */
  url: string;
  /** Project id. Default: the `sub` claim of the first JWT. */
  project?: string;
  /** ICE servers to use instead of the list the Relay hands out. Default: the Relay's list. */
  iceServers?: IceServer[];
  /**
   * Which ICE candidates calls may use: `'all'`, or `'relay'` to send all media through a TURN
   * server (hides the user's IP addresses; needs a TURN server in the ICE servers).
   * Passed to RTCPeerConnection as `iceTransportPolicy`. Default: `'all'`.
   */
  iceTransportPolicy?: 'all' | 'relay';
  /** WebSocket constructor. Default: the global WebSocket. */
  WebSocket?: WebSocketFactory;
  /** Time source and timers. Default: Date.now and the global timers. */
  clock?: ClientClock;
  /** Capture devices. Default: navigator.mediaDevices when present. */
  mediaDevices?: MediaDevices;
  /** Permissions API. Default: navigator.permissions when present. */
  permissions?: Permissions;
  /** Keep-alive ping interval, in ms. Default: 5000. */
  pingIntervalMs?: number;
  /** A ping unanswered this long means the socket is dead, in ms. Default: 4000. */
  pingTimeoutMs?: number;
  /** First reconnect delay, in ms; doubles per attempt, with full jitter. Default: 500. */
  reconnectBaseMs?: number;
  /** Longest reconnect delay, in ms. Default: 15000. */
  reconnectMaxMs?: number;
  /** A request the Relay does not answer fails after this long, in ms. Default: 10000. */
  requestTimeoutMs?: number;
  /**
   * An outgoing call nobody answers ends with `no-answer` after this long, in ms. A call placed
   * while the client is not connected waits for the connection as long, then ends with a
   * `not_connected` error. Default: 45000.
   */
  noAnswerTimeoutMs?: number;
  /**
   * When the page is hidden for good (`pagehide`: the tab closes, the user navigates away, or
   * the page enters the back/forward cache), hang up every call and close the connection, so
   * the other side sees `hangup` at once instead of a call frozen until the Relay notices. A
   * page restored from the back/forward cache reconnects. Default: true.
   */
  hangUpOnPageHide?: boolean;
  /** Random numbers in [0, 1) for the reconnect jitter. Default: Math.random. */
  random?: () => number;
}

/** Notifications between acknowledgements when the Relay sends many (a fraction of resumeBufferMessages). */
const ACK_EVERY = 32;

const defaultClock: ClientClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Creates a framework-free Relay client. Touches no browser global until used. */
export function createRelayClient(options: RelayClientOptions): RelayClient {
  return new Client(options);
}

class Client implements RelayClient {
  readonly store: StoreApi<RelayClientState>;
  readonly devices: DeviceManager;
  private readonly clock: ClientClock;
  private readonly calls: CallManager;
  private token: string | null = null;
  private conn: RpcConnection | null = null;
  private opening: Promise<void> | null = null;
  /** The app wants a connection (between connect() and disconnect()). */
  private wanted = false;
  private sessionId: string | null = null;
  private lastSeq = 0;
  /** The last seq the Relay was told this client processed. */
  private ackedSeq = 0;
  private attempt = 0;
  private reconnectTimer: unknown;
  private pingTimer: unknown;
  /** The page was hidden (pagehide): calls ended and the socket closed until it shows again. */
  private suspended = false;
  private readonly onOnline = () => {
    if (this.store.getState().status === 'reconnecting') void this.open().catch(() => undefined);
  };
  private readonly onPageHide = () => this.suspend();
  private readonly onPageShow = (event: Event) => {
    if ((event as PageTransitionEvent).persisted && this.suspended && this.wanted) {
      this.suspended = false;
      void this.open().catch(() => undefined);
    }
  };

  constructor(private readonly options: RelayClientOptions) {
    this.clock = options.clock ?? defaultClock;
    const nav = globalThis.navigator as Navigator | undefined;
    const mediaDevices = options.mediaDevices ?? nav?.mediaDevices;
    this.store = createStore<RelayClientState>()(() => ({
      status: 'idle',
      error: null,
      sessionId: null,
      resource: null,
      scopes: [],
      expiresAt: null,
      clockOffset: 0,
      iceServers: options.iceServers ?? [],
      calls: {},
    }));
    this.devices = createDeviceManager(mediaDevices, options.permissions ?? nav?.permissions);
    this.calls = new CallManager({
      store: this.store,
      clock: this.clock,
      mediaDevices,
      createPeer: (peerOptions) =>
        createPeer({ ...peerOptions, iceTransportPolicy: options.iceTransportPolicy ?? 'all' }),
      noAnswerTimeoutMs: options.noAnswerTimeoutMs ?? 45_000,
      iceServers: () => this.iceServers(),
      whenConnected: () => this.whenConnected(),
      request: (method, params) => {
        if (!this.conn) return Promise.reject(notConnected());
        return this.conn.request(method, params);
      },
    });
  }

  connect(token: string): Promise<void> {
    this.token = token;
    this.wanted = true;
    this.suspended = false;
    globalThis.addEventListener?.('online', this.onOnline);
    if (this.options.hangUpOnPageHide ?? true) {
      globalThis.addEventListener?.('pagehide', this.onPageHide);
      globalThis.addEventListener?.('pageshow', this.onPageShow);
    }
    if (this.conn) return this.updateToken(token);
    return this.open();
  }

  async updateToken(token: string): Promise<void> {
    this.token = token;
    if (!this.wanted) return;
    const conn = this.conn;
    if (!conn) {
      // Waiting to reconnect, or stopped on an expired or refused token: go now.
      if (this.store.getState().status !== 'connecting') await this.open();
      return;
    }
    const sent = this.clock.now();
    const result = await conn.request<ReauthenticateResult>('relay.reauthenticate', { token });
    this.store.setState({
      expiresAt: result.expiresAt,
      scopes: result.scopes,
      clockOffset: result.serverTime - (sent + this.clock.now()) / 2,
      // TURN credentials minted for the fresher token: later calls use them.
      ...(Array.isArray(result.iceServers) && !this.options.iceServers
        ? { iceServers: result.iceServers }
        : {}),
    });
  }

  disconnect(): void {
    this.wanted = false;
    globalThis.removeEventListener?.('online', this.onOnline);
    globalThis.removeEventListener?.('pagehide', this.onPageHide);
    globalThis.removeEventListener?.('pageshow', this.onPageShow);
    this.release(CloseCodes.normal, 'client disconnect');
  }

  destroy(): void {
    this.disconnect();
    this.calls.dismissAll();
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

  switchDevice(callId: string, kind: 'audioinput' | 'videoinput', deviceId: string) {
    return this.calls.switchDevice(callId, kind, deviceId);
  }

  setAudioOutput(callId: string, deviceId: string): void {
    this.calls.update(callId, { audioOutputId: deviceId });
  }

  dismiss(callId: string): void {
    this.calls.dismiss(callId);
  }

  private iceServers(): IceServer[] {
    return this.options.iceServers ?? this.store.getState().iceServers;
  }

  /** Resolves once connected; rejects with `not_connected` when the client gives up. */
  private whenConnected(): Promise<void> {
    return waitForConnection(
      this.store,
      this.clock,
      () => this.conn !== null && this.store.getState().status === 'connected',
      this.options.noAnswerTimeoutMs ?? 45_000,
    );
  }

  /** The page is going away (or into the back/forward cache): hang up and let go of the socket. */
  private suspend(): void {
    if (!this.wanted || this.suspended) return;
    this.suspended = true;
    this.opening = null;
    this.release(CloseCodes.goingAway, 'page hidden');
  }

  /**
   * Hangs up every call and lets go of the socket and the session: the client is
   * `disconnected` and may connect again. Each hangup goes out on the socket (and the data
   * channel) before the close frame.
   */
  private release(code: number, reason: string): void {
    this.calls.endAll();
    this.clock.clearTimeout(this.reconnectTimer);
    this.stopPing();
    this.conn?.close(code, reason);
    this.conn = null;
    this.sessionId = null;
    this.lastSeq = 0;
    this.ackedSeq = 0;
    this.store.setState({ status: 'disconnected', sessionId: null });
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
    const status = this.store.getState().status;
    this.store.setState({
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
      const result = await conn.request<ConnectResult>('relay.connect', {
        project: this.options.project ?? projectOf(token),
        token,
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
        this.ackedSeq = 0;
        this.calls.sessionLost();
      }
      this.sessionId = result.sessionId;
      this.attempt = 0;
      this.store.setState({
        status: 'connected',
        error: null,
        sessionId: result.sessionId,
        resource: result.resource,
        scopes: result.scopes,
        expiresAt: result.expiresAt,
        clockOffset: result.serverTime - (sent + this.clock.now()) / 2,
        iceServers: this.options.iceServers ?? result.iceServers,
      });
      this.schedulePing();
      // Requests lost with the previous socket go again (the replay follows this reply).
      if (result.resumed) this.calls.resumed();
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
    this.calls.onNotification(method, params);
    // Between pings, a busy session acknowledges every ACK_EVERY notifications, so the Relay
    // can let go of them (it keeps what is unacknowledged for a resume) while they are young.
    if (this.lastSeq - this.ackedSeq >= ACK_EVERY && this.conn) {
      this.ackedSeq = this.lastSeq;
      this.conn.notify('relay.ping', { ack: this.lastSeq });
    }
  }

  /** The socket closed or died under us. */
  private lost(code: number): void {
    this.stopPing();
    this.conn = null;
    if (!this.wanted || this.suspended) {
      this.store.setState({ status: 'disconnected' });
      return;
    }
    if (endsSession(code)) this.sessionId = null;
    this.failed(closeError(code));
  }

  private failed(error: RelayError): void {
    if (!this.wanted || this.suspended) return;
    if (TERMINAL_ERRORS.has(error.code)) {
      this.store.setState({ status: 'failed', error });
      return;
    }
    const ceiling = Math.min(
      this.options.reconnectMaxMs ?? 15_000,
      (this.options.reconnectBaseMs ?? 500) * 2 ** this.attempt,
    );
    this.attempt += 1;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(
      () => void this.open().catch(() => undefined),
      (this.options.random ?? Math.random)() * ceiling,
    );
    // Published after the retry is scheduled, so observers see a consistent client.
    this.store.setState({ status: 'reconnecting', error });
  }

  private schedulePing(): void {
    this.stopPing();
    this.pingTimer = this.clock.setTimeout(() => this.ping(), this.options.pingIntervalMs ?? 5_000);
  }

  private ping(): void {
    const conn = this.conn;
    if (!conn) return;
    const deadline = this.clock.setTimeout(() => {
      // No answer: the socket is silently dead. Drop it and reconnect.
      if (this.conn !== conn) return;
      conn.close(CloseCodes.normal, 'keep-alive timeout');
      this.lost(1006);
    }, this.options.pingTimeoutMs ?? 4_000);
    this.ackedSeq = this.lastSeq;
    conn.request('relay.ping', { ack: this.lastSeq }).then(
      () => {
        this.clock.clearTimeout(deadline);
        if (this.conn === conn) this.schedulePing();
      },
      () => {
        this.clock.clearTimeout(deadline);
        // Refused (rate limit) on a live socket: keep pinging, or keep-alive and acks stop.
        if (this.conn === conn) this.schedulePing();
      },
    );
  }

  private stopPing(): void {
    this.clock.clearTimeout(this.pingTimer);
  }
}
