import type SimplePeer from 'simple-peer';
import { ErrorCodes, RelayError } from '../../protocol/errors.js';
import type { ClientClock } from '../types.js';
import { createHeldEmitter, type Unsubscribe } from './heldEmitter.js';
import type { IceRestarter, IceRestartOptions } from './IceRestarter.js';
import { isRemoteClose, toPeerError } from './peerErrors.js';
import { replaceSentTrack } from './replaceSentTrack.js';

export type { Unsubscribe } from './heldEmitter.js';

/** A signaling message to hand to the other side's `peer.signal()` (plain JSON). */
export type PeerSignal = Record<string, unknown>;

/**
 * One WebRTC connection. Each `onX` adds a listener and returns its remover; events emitted while
 * an event has no listener are held and delivered, in order, to its first listener.
 */
export interface Peer {
  readonly initiator: boolean;
  /** The underlying connection (DTMF via `pc.getSenders()`, `pc.getStats()`). Kept after close. */
  readonly pc: RTCPeerConnection;
  /** True between `connect` and `close`. */
  readonly connected: boolean;
  /** True once `destroy()` was called or the connection closed. */
  readonly destroyed: boolean;
  /**
   * True while a connected peer's media path is down and ICE restarts to restore it. Optional:
   * peers that never restart (test doubles) have none.
   */
  readonly reconnecting?: boolean;
  /** An offer, answer, ICE candidate or renegotiation request to relay to the other side. */
  onSignal(listener: (signal: PeerSignal) => void): Unsubscribe;
  /** The data channel is open: media flows and `send()` works. */
  onConnect(listener: () => void): Unsubscribe;
  /** A remote media stream arrived (once per remote stream). */
  onStream(listener: (stream: MediaStream) => void): Unsubscribe;
  /** A JSON message sent by the other side's `send()` (non-JSON messages are dropped). */
  onData(listener: (message: unknown) => void): Unsubscribe;
  /** `reconnecting` changed: the media path went down (true; ICE restarts) or is back (false). */
  onReconnecting?(listener: (reconnecting: boolean) => void): Unsubscribe;
  /** The connection closed (after `destroy()`, a remote close or an error). Fires once. */
  onClose(listener: () => void): Unsubscribe;
  /** The connection failed: a `call_failed` RelayError (`cause`: simple-peer's). Then `close`. */
  onError(listener: (error: RelayError) => void): Unsubscribe;
  /** Applies a signal from the other side. Ignored once destroyed; bad data ends the peer. */
  signal(data: unknown): void;
  /** Sends `message` as JSON on the data channel; false (nothing sent) when not connected. */
  send(message: object): boolean;
  /**
   * Sends `next` in place of `old` without renegotiation; if `stream` (the local stream `old` was
   * sent with) still holds `old`, swaps them there too. Resolves at once when destroyed; rejects
   * with a RelayError when `old` is not being sent or the browser refuses `next`.
   */
  replaceTrack(old: MediaStreamTrack, next: MediaStreamTrack, stream: MediaStream): Promise<void>;
  /**
   * Also sends `stream`'s tracks (a screen share) as their own stream, renegotiating through
   * `onSignal` (either side may add). Ignored once destroyed or when already sent. Optional:
   * peers without renegotiation (the gateway's) have none.
   */
  addStream?(stream: MediaStream): void;
  /** Stops sending a stream added with `addStream` (renegotiates). Ignored when not sent. */
  removeStream?(stream: MediaStream): void;
  /** Closes the connection now (`close` follows). Safe to call twice. Local tracks keep running. */
  destroy(): void;
}

type PeerEvents = {
  signal: [PeerSignal];
  connect: [];
  stream: [MediaStream];
  data: [unknown];
  close: [];
  error: [RelayError];
  reconnecting: [boolean];
};

export interface CreatePeerOptions {
  /** True on the side that creates the offer (the caller). Only the initiator ever offers. */
  initiator: boolean;
  /**
   * ICE servers from the Relay, passed as `config.iceServers`. Required, no default: `[]` means
   * host candidates only (simple-peer's own default, public STUN, is never used).
   */
  iceServers: RTCIceServer[];
  /**
   * `'relay'` uses TURN relay candidates only (all media through the TURN server); passed as
   * `config.iceTransportPolicy`. Default: `'all'`.
   */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Local media to send. Default: none (receive only, plus the data channel). */
  stream?: MediaStream;
  /** RTCPeerConnection constructor to use (tests). Default: `globalThis.RTCPeerConnection`. */
  RTCPeerConnection?: typeof RTCPeerConnection;
  /**
   * Once connected, restart ICE on network changes and ICE failures instead of closing (see
   * `IceRestartOptions`); `false` closes on the first ICE failure. Default: `{}` (the defaults).
   */
  iceRestart?: IceRestartOptions | false;
  /** Timers of the ICE restarts. Default: the global timers. */
  clock?: ClientClock;
}

type SimplePeerConstructor = typeof SimplePeer;

let loading: Promise<SimplePeerConstructor> | undefined;

/**
 * Loads simple-peer's standalone browser bundle on first use, so importing relaycall never loads
 * it and apps need no `global`/`process`/`buffer` shims: the bundle carries its own.
 */
function loadSimplePeer(): Promise<SimplePeerConstructor> {
  loading ??= import('simple-peer/simplepeer.min.js').then(
    (mod) => {
      // Bundlers hand the UMD's module.exports over as `default`; served as plain ESM it cannot
      // see `module` and sets `globalThis.SimplePeer` instead.
      const namespace = mod as { default?: unknown };
      const candidate = namespace.default ?? (globalThis as { SimplePeer?: unknown }).SimplePeer;
      if (typeof candidate !== 'function') {
        throw new RelayError(ErrorCodes.callFailed, 'simple-peer did not load: no constructor.');
      }
      return candidate as SimplePeerConstructor;
    },
    (error: unknown) => {
      loading = undefined;
      throw new RelayError(
        ErrorCodes.callFailed,
        'Could not load the WebRTC library (simple-peer). Check the network and reload the page.',
        { cause: error },
      );
    },
  );
  return loading;
}

/**
 * Starts loading simple-peer and the ICE restarter, so that the first peer does not wait for
 * them (called when a call starts, while the camera opens). Never rejects: a failed load is
 * reported by the `createPeer` that needs it.
 */
export function preloadPeer(): void {
  loadSimplePeer().catch(() => undefined);
  import('./restartablePeer.js').catch(() => undefined);
}

/** Creates one WebRTC peer (simple-peer, trickle ICE, one JSON data channel). Browser only. */
export async function createPeer(options: CreatePeerOptions): Promise<Peer> {
  if (!Array.isArray(options.iceServers)) {
    // simple-peer would otherwise fall back to public STUN servers.
    throw new TypeError('createPeer: iceServers must be an array (use [] for none).');
  }
  const Native = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
  if (typeof Native !== 'function') {
    throw new RelayError(
      ErrorCodes.callFailed,
      'This browser has no WebRTC (RTCPeerConnection). Use a current Chrome, Edge, Firefox or Safari.',
    );
  }
  // Both before the peer exists, so the restarter sees every ICE state change.
  const [SimplePeerCtor, restartable] = await Promise.all([
    loadSimplePeer(),
    options.iceRestart === false ? null : import('./restartablePeer.js').catch(() => null),
  ]);
  // simple-peer builds these from plain objects; a test double may lack the globals.
  const passThrough = function (init: object) {
    return init;
  } as unknown as typeof RTCSessionDescription & typeof RTCIceCandidate;

  let sp: SimplePeer.Instance;
  try {
    sp = new SimplePeerCtor({
      initiator: options.initiator,
      config: {
        iceServers: [...options.iceServers],
        iceTransportPolicy: options.iceTransportPolicy ?? 'all',
      },
      stream: options.stream,
      trickle: true,
      objectMode: true,
      wrtc: {
        RTCPeerConnection: Native,
        RTCSessionDescription: globalThis.RTCSessionDescription ?? passThrough,
        RTCIceCandidate: globalThis.RTCIceCandidate ?? passThrough,
      },
    });
  } catch (error) {
    throw toPeerError(error);
  }

  const events = createHeldEmitter<PeerEvents>();
  const emit = events.emit;
  let destroyed = false;
  let closed = false;
  /** Set once the connection exists (the close handler may run before: `!pc` below). */
  let restarter: IceRestarter | null = null;

  // Always listening to 'error' keeps simple-peer's stream errors from being thrown uncaught.
  sp.on('error', (error) => {
    if (!isRemoteClose(error)) emit('error', toPeerError(error));
  });
  let requests = 0;
  sp.on('signal', (data) => {
    const signal = data as unknown as PeerSignal;
    // Renegotiation and transceiver requests repeat byte for byte, and the receiving side drops
    // a signal it has seen (a resend after a resume): numbered, each one is new.
    if (signal.renegotiate || signal.transceiverRequest) signal.n = ++requests;
    emit('signal', signal);
  });
  sp.on('connect', () => emit('connect'));
  sp.on('stream', (stream) => emit('stream', stream));
  sp.on('data', (chunk: unknown) => {
    if (typeof chunk !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(chunk);
    } catch {
      return; // a malformed message from the other side must not end the call
    }
    emit('data', message);
  });
  sp.on('close', () => {
    destroyed = true;
    stopIceCompleteTimer();
    restarter?.stop();
    if (closed) return;
    closed = true;
    emit('close');
  });

  const internals = sp as unknown as {
    _pc: RTCPeerConnection | null;
    destroying: boolean;
    _iceCompleteTimer: ReturnType<typeof setTimeout> | null;
  };
  // simple-peer's destroy leaves its 5 s ICE-gathering timer running (and the peer reachable
  // from it): stop it with the peer.
  function stopIceCompleteTimer() {
    clearTimeout(internals._iceCompleteTimer ?? undefined);
    internals._iceCompleteTimer = null;
  }
  const pc = internals._pc;
  if (!pc) {
    sp.destroy();
    throw new RelayError(
      ErrorCodes.callFailed,
      'The browser refused to create a WebRTC connection.',
    );
  }
  const isGone = () => destroyed || sp.destroyed || internals.destroying;
  restarter =
    restartable?.makeRestartable({
      sp,
      pc,
      initiator: options.initiator,
      clock: options.clock,
      options: options.iceRestart || {},
      signal: (data) => emit('signal', data),
      reconnecting: (reconnecting) => emit('reconnecting', reconnecting),
    }) ?? null;

  // Gathering complete without a single local candidate (every TURN server refused, e.g. expired
  // credentials with iceTransportPolicy 'relay'): ICE can never connect, and browsers leave it
  // 'new' instead of 'failed'. End the peer now rather than hang.
  let candidates = 0;
  const refusals: string[] = [];
  pc.addEventListener('icecandidate', (event) => {
    if (event.candidate?.candidate) candidates += 1;
  });
  pc.addEventListener('icecandidateerror', (event) => {
    const { url, errorCode, errorText } = event;
    if (refusals.length < 4) refusals.push(`${url} answered ${errorCode} ${errorText}`.trim());
  });
  const failUngathered = () => {
    if (pc.iceGatheringState !== 'complete' || candidates > 0 || isGone() || sp.connected) return;
    const why = refusals.length > 0 ? ` (${refusals.join('; ')})` : '';
    sp.destroy(
      Object.assign(new Error(`No ICE candidate could be gathered${why}.`), {
        code: 'ERR_ICE_GATHERING',
      }),
    );
  };
  pc.addEventListener('icegatheringstatechange', () => {
    // A task later, so that the candidate errors queued with the state change are counted in.
    if (pc.iceGatheringState === 'complete') setTimeout(failUngathered, 0);
  });

  /** Streams sent with `addStream`. */
  const sent = new Set<MediaStream>();
  const peer: Peer = {
    initiator: options.initiator,
    pc,
    get connected() {
      return !isGone() && sp.connected;
    },
    get destroyed() {
      return isGone();
    },
    get reconnecting() {
      return !isGone() && (restarter?.reconnecting ?? false);
    },
    onSignal: (listener) => events.on('signal', listener),
    onConnect: (listener) => events.on('connect', listener),
    onStream: (listener) => events.on('stream', listener),
    onData: (listener) => events.on('data', listener),
    onReconnecting: (listener) => events.on('reconnecting', listener),
    onClose: (listener) => events.on('close', listener),
    onError: (listener) => events.on('error', listener),
    signal(data) {
      if (isGone()) return;
      try {
        if (typeof data !== 'object' || data === null) throw new TypeError('not an object');
        if (restarter && restartable?.isRestartRequest(data)) {
          if (options.initiator) restarter.requested();
          return;
        }
        sp.signal(data as SimplePeer.SignalData);
      } catch (error) {
        const wrapped = Object.assign(new Error(`Invalid signal: ${String(error)}`), {
          code: 'ERR_SIGNALING',
        });
        sp.destroy(wrapped);
      }
    },
    send(message) {
      if (!peer.connected) return false;
      try {
        sp.send(JSON.stringify(message));
        return true;
      } catch {
        return false; // the channel closed under us; `close` follows
      }
    },
    addStream(stream) {
      if (isGone() || sent.has(stream)) return;
      sent.add(stream);
      sp.addStream(stream);
    },
    removeStream(stream) {
      if (isGone() || !sent.delete(stream)) return;
      try {
        sp.removeStream(stream);
      } catch {
        // a track the browser already dropped: nothing left to stop sending
      }
    },
    async replaceTrack(old, next, stream) {
      if (isGone()) return;
      await replaceSentTrack(pc, old, next, stream);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      sp.destroy();
      stopIceCompleteTimer();
      // simple-peer closes in a microtask; close now so state is final when destroy() returns.
      try {
        pc.close();
      } catch {
        // already closed
      }
    },
  };
  return peer;
}
