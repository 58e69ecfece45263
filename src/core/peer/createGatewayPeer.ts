import { ErrorCodes, RelayError } from '../../protocol/errors.js';
import type { ClientClock } from '../types.js';
import type { CreatePeerOptions, Peer, PeerSignal } from './createPeer.js';
import { createHeldEmitter } from './heldEmitter.js';
import { IceRestarter, type IceRestartOptions } from './IceRestarter.js';
import { replaceSentTrack } from './replaceSentTrack.js';
import { toPeerError } from './peerErrors.js';

type PeerEvents = {
  signal: [PeerSignal];
  connect: [];
  stream: [MediaStream];
  data: [unknown];
  close: [];
  error: [RelayError];
  reconnecting: [boolean];
};

export interface GatewayPeerOptions extends CreatePeerOptions {
  /**
   * Transceivers to negotiate instead of the stream's tracks (a supervisor's link offers audio
   * `sendrecv` and video `recvonly`). Default: the stream's tracks, and audio `recvonly` when it
   * has no audio track.
   */
  transceivers?: { kind: 'audio' | 'video'; direction: RTCRtpTransceiverDirection }[];
  /** Who is at the other end, as the ICE failure names it. Default: the gateway's media server. */
  farEnd?: string;
  /**
   * Once connected, restart ICE on network changes and ICE failures instead of closing (see
   * `IceRestartOptions`): this side always offers the restart (`{type: 'offer', sdp, restart:
   * true}`), which only the gateway's media server answers. Default: `false` (the links between
   * supervisors and parties, browser to browser, do not restart; gateway calls pass the client's).
   */
  iceRestart?: IceRestartOptions | false;
}

const globalClock: ClientClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const isUp = (state: RTCIceConnectionState) => state === 'connected' || state === 'completed';

/** A `call_failed` error whose `cause` carries a simple-peer-like code (see callPeer.ts). */
function failure(code: string, message: string, cause?: unknown): RelayError {
  const error = Object.assign(new Error(message), { code, cause });
  return new RelayError(ErrorCodes.callFailed, `WebRTC failed (${code}): ${message}`, {
    cause: error,
  });
}

/**
 * Creates the peer of a call through the Relay's SIP gateway: a plain RTCPeerConnection (no
 * simple-peer), audio and video per the stream's tracks, no data channel (`send()` is always
 * false, `onData` never fires). Signals are `{type: 'offer' | 'answer', sdp}` and
 * `{type: 'candidate', candidate}` (`candidate: null` once gathering is complete). An answer
 * arriving when the connection is already `stable` (the 200 OK repeating the 183's SDP) is
 * ignored. `connect` fires once ICE is connected, which may be before the call is answered
 * (early media). With `options.iceRestart`, a connected peer restarts ICE as browser calls do
 * (see `restart` below) and reports `reconnecting`. Also the links between a supervisor and the
 * parties of an assisted call (`options.transceivers`, `options.farEnd`). Browser only;
 * `options.RTCPeerConnection` replaces the global one (tests).
 */
export function createGatewayPeer(options: GatewayPeerOptions): Promise<Peer> {
  // Nothing to wait for, but callers get a promise: what the setup throws becomes its rejection.
  return new Promise((resolve) => resolve(openGatewayPeer(options)));
}

/** The work of createGatewayPeer, done at once: the peer, or a throw. */
function openGatewayPeer(options: GatewayPeerOptions): Peer {
  if (!Array.isArray(options.iceServers)) {
    throw new TypeError('createGatewayPeer: iceServers must be an array (use [] for none).');
  }
  const Native = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
  if (typeof Native !== 'function') {
    throw new RelayError(
      ErrorCodes.callFailed,
      'This browser has no WebRTC (RTCPeerConnection). Use a current Chrome, Edge, Firefox or Safari.',
    );
  }
  let pc: RTCPeerConnection;
  try {
    pc = new Native({
      iceServers: [...options.iceServers],
      iceTransportPolicy: options.iceTransportPolicy ?? 'all',
    });
  } catch (error) {
    throw toPeerError(error);
  }

  const events = createHeldEmitter<PeerEvents>();
  const emit = events.emit;
  let destroyed = false;
  let closed = false;
  let connected = false;
  /** Signals are applied one after the other: a candidate waits for its description. */
  let queue: Promise<void> = Promise.resolve();
  const streams = new Set<MediaStream>();
  let trackStream: MediaStream | undefined;
  /** Set below, once signals can be queued (ICE events may come before). */
  let restarter: IceRestarter | null = null;
  /** A connected peer's ICE failure is the restarter's to handle (unless ICE is up: DTLS). */
  const restarting = (ice: RTCIceConnectionState) => (restarter?.active ?? false) && !isUp(ice);
  /** This side's restart offer while its answer has not come. */
  let restartOffer: string | null = null;
  const farEnd = options.farEnd ?? 'the media server of the SIP gateway';

  const close = () => {
    if (closed) return;
    closed = true;
    restarter?.stop();
    // Later, like simple-peer: whoever destroys the peer finishes what it is doing first.
    queueMicrotask(() => emit('close'));
  };
  const fail = (error: RelayError) => {
    if (destroyed) return;
    emit('error', error);
    peer.destroy();
  };

  const local = options.stream?.getTracks() ?? [];
  for (const track of local) pc.addTrack(track, options.stream!);
  for (const { kind, direction } of options.transceivers ?? [])
    pc.addTransceiver(kind, { direction });
  // Without a microphone the call still hears the other side.
  if (!options.transceivers && !local.some((t) => t.kind === 'audio'))
    pc.addTransceiver('audio', { direction: 'recvonly' });

  pc.addEventListener('icecandidate', (event) => {
    const c = event.candidate;
    // An empty candidate ends one generation (Firefox); the null one ends gathering.
    if (c && !c.candidate) return;
    const json = c
      ? typeof c.toJSON === 'function'
        ? c.toJSON()
        : { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }
      : null;
    emit('signal', { type: 'candidate', candidate: json });
  });
  pc.addEventListener('track', (event) => {
    let stream = event.streams[0];
    if (!stream) {
      // No msid in the gateway's SDP: gather its tracks in one stream of our own.
      if (!trackStream && typeof MediaStream !== 'function') return;
      trackStream ??= new MediaStream();
      trackStream.addTrack(event.track);
      stream = trackStream;
    }
    if (streams.has(stream)) return;
    streams.add(stream);
    emit('stream', stream);
  });
  const onState = () => {
    if (destroyed) return;
    restarter?.iceStateChanged();
    const state = pc.connectionState;
    const ice = pc.iceConnectionState;
    // Connected means DTLS is up too (DTMF and media need it); ICE alone only where the
    // browser has no connectionState.
    const up =
      state === undefined ? ice === 'connected' || ice === 'completed' : state === 'connected';
    if (!connected && up) {
      connected = true;
      emit('connect');
    } else if ((state === 'failed' || ice === 'failed') && !restarting(ice)) {
      fail(
        failure(
          'ERR_ICE_CONNECTION_FAILURE',
          `No network path to ${farEnd} was found, or it was lost: a firewall may block UDP; configure a TURN server in the Relay iceServers.`,
        ),
      );
    } else if (state === 'closed' || ice === 'closed') {
      destroyed = true;
      close();
    }
  };
  pc.addEventListener('connectionstatechange', onState);
  pc.addEventListener('iceconnectionstatechange', onState);

  /** Candidates that came before the remote description: added once it is set. */
  const early: RTCIceCandidateInit[] = [];
  // A candidate the browser cannot use must not end the call.
  const addCandidate = (c: RTCIceCandidateInit) => pc.addIceCandidate(c).catch(() => undefined);

  async function apply(data: unknown): Promise<void> {
    const { type, sdp, candidate } = data as { type?: unknown; sdp?: unknown; candidate?: unknown };
    if ((type === 'offer' || type === 'answer') && typeof sdp === 'string') {
      // A copy of the answer (the 200 OK repeating the 183's SDP): the connection has it.
      if (type === 'answer' && pc.signalingState === 'stable') return;
      await pc.setRemoteDescription({ type, sdp });
      if (type === 'answer') restartOffer = null;
      for (const c of early.splice(0)) await addCandidate(c);
      if (type === 'answer') return;
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      emit('signal', { type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp });
    } else if (type === 'candidate') {
      if (candidate === null || candidate === undefined) return; // end of candidates
      if (typeof candidate !== 'object') throw new TypeError('candidate is not an object');
      if (pc.remoteDescription) await addCandidate(candidate);
      else early.push(candidate);
    } else {
      throw new TypeError('not an offer, answer or candidate');
    }
  }

  const enqueue = (step: () => Promise<void>, code: string) => {
    queue = queue
      .then(() => (destroyed ? undefined : step()))
      .catch((error: unknown) => fail(failure(code, String(error), error)));
  };

  /**
   * One restart: a new offer with new ICE credentials, `{type: 'offer', sdp, restart: true}`,
   * which the Relay hands the gateway (a re-INVITE on the SIP side) and whose answer comes back
   * as `{type: 'answer', sdp}`. While an earlier restart's answer has not come (its re-INVITE
   * may be lost with the network), the same offer goes again: whichever answer the gateway
   * gives then fits the offer in place.
   */
  async function restartIce(): Promise<void> {
    if (restartOffer !== null && pc.signalingState === 'have-local-offer') {
      emit('signal', { type: 'offer', sdp: restartOffer, restart: true });
      return;
    }
    if (pc.signalingState !== 'stable') return;
    const offer = await pc.createOffer({ iceRestart: true });
    await pc.setLocalDescription(offer);
    restartOffer = pc.localDescription?.sdp ?? offer.sdp ?? '';
    emit('signal', { type: 'offer', sdp: restartOffer, restart: true });
  }

  if (options.iceRestart) {
    restarter = new IceRestarter(
      {
        clock: options.clock ?? globalClock,
        iceState: () => pc.iceConnectionState,
        restart() {
          // A restart that cannot be offered is not fatal: the next attempt, or giving up, follows.
          queue = queue.then(() => (destroyed ? undefined : restartIce())).catch(() => undefined);
        },
        giveUp() {
          fail(
            failure(
              'ERR_ICE_CONNECTION_FAILURE',
              `The network path to ${farEnd} was lost and ICE restarts did not restore it: check the network connection, then call again.`,
            ),
          );
        },
        reconnecting: (reconnecting) => emit('reconnecting', reconnecting),
      },
      options.iceRestart,
    );
  }

  const peer: Peer = {
    initiator: options.initiator,
    pc,
    get connected() {
      return connected && !destroyed;
    },
    get destroyed() {
      return destroyed;
    },
    get reconnecting() {
      return !destroyed && (restarter?.reconnecting ?? false);
    },
    onSignal: (listener) => events.on('signal', listener),
    onConnect: (listener) => events.on('connect', listener),
    onStream: (listener) => events.on('stream', listener),
    onData: (listener) => events.on('data', listener),
    onReconnecting: (listener) => events.on('reconnecting', listener),
    onClose: (listener) => events.on('close', listener),
    onError: (listener) => events.on('error', listener),
    signal(data) {
      if (destroyed) return;
      if (typeof data !== 'object' || data === null) {
        fail(failure('ERR_SIGNALING', 'Invalid signal: not an object'));
        return;
      }
      enqueue(() => apply(data), 'ERR_SET_REMOTE_DESCRIPTION');
    },
    send: () => false,
    async replaceTrack(old, next, stream) {
      if (destroyed) return;
      await replaceSentTrack(pc, old, next, stream);
    },
    destroy() {
      if (destroyed && closed) return;
      destroyed = true;
      restarter?.stop();
      try {
        pc.close();
      } catch {
        // already closed
      }
      close();
    },
  };

  if (options.initiator) {
    enqueue(async () => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      emit('signal', { type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp });
    }, 'ERR_CREATE_OFFER');
  }
  return peer;
}
