import type { IceServer } from '../../protocol/index.js';
import { IceRestarter, type IceRestartOptions } from '../peer/IceRestarter.js';
import type { ClientClock } from '../types.js';

export interface SfuLegOptions {
  iceServers: IceServer[];
  iceTransportPolicy: RTCIceTransportPolicy;
  /** Restarts ICE once connected (IceRestarter); `false`: the first ICE failure ends it. */
  iceRestart: IceRestartOptions | false;
  clock: ClientClock;
  RTCPeerConnection: typeof RTCPeerConnection;
  /** For the media received; none: the stream the browser made. */
  MediaStream: typeof MediaStream | undefined;
}

/** What a leg tells its session; nothing once it is closed. */
export interface SfuLegEvents {
  /** A local ICE candidate (null: gathering done), for the media server. */
  candidate(candidate: RTCIceCandidateInit | null): void;
  connected(): void;
  /** It is over by itself: a failure, or ICE restarts that did not reconnect. Closed already. */
  failed(): void;
  /** The media path is down and ICE restarts (true), or it is back (false). */
  reconnecting(reconnecting: boolean): void;
  /** Media received: a new stream of every track so far. */
  stream(stream: MediaStream): void;
  /** An ICE restart is due: an upload offers anew, a download asks the server to. */
  restart(): void;
}

const isUp = (state: RTCIceConnectionState) => state === 'connected' || state === 'completed';

/**
 * One RTCPeerConnection with the media server (an upload, or a download of a participant's
 * camera or share): candidates wait for the remote description, signals seen are remembered
 * (a resume may deliver one twice), and once connected an IceRestarter restores the media path
 * after a network change or an ICE failure on this same connection.
 */
export class SfuLeg {
  readonly pc: RTCPeerConnection;
  /** Signals applied, as JSON: one sent again after a resume arrives twice. */
  readonly seen = new Set<string>();
  private described = false;
  private readonly queued: (RTCIceCandidateInit | null)[] = [];
  private wasConnected = false;
  /** Local ICE candidates gathered: none at the end of gathering means it can never connect. */
  private gathered = 0;
  private tracks: MediaStreamTrack[] = [];
  private readonly restarter: IceRestarter | null;
  private isClosed = false;

  constructor(
    private readonly options: SfuLegOptions,
    private readonly events: SfuLegEvents,
  ) {
    const pc = new options.RTCPeerConnection({
      iceServers: [...options.iceServers],
      iceTransportPolicy: options.iceTransportPolicy,
    });
    this.pc = pc;
    this.restarter =
      options.iceRestart === false
        ? null
        : new IceRestarter(
            {
              clock: options.clock,
              iceState: () => pc.iceConnectionState,
              restart: () => !this.isClosed && events.restart(),
              giveUp: () => this.fail(),
              reconnecting: (on) => !this.isClosed && events.reconnecting(on),
            },
            options.iceRestart,
          );
    pc.addEventListener('icecandidate', (event) => {
      if (this.isClosed) return;
      const candidate = event.candidate ? candidateInit(event.candidate) : null;
      if (candidate) this.gathered += 1;
      events.candidate(candidate);
      // Every ICE server refused (expired TURN credentials, say): it would never connect, and
      // browsers leave such a connection 'new' instead of 'failed'.
      if (!candidate && this.gathered === 0) this.fail();
    });
    pc.addEventListener('iceconnectionstatechange', () => {
      if (!this.isClosed) this.restarter?.iceStateChanged();
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.isClosed) return;
      const state = pc.connectionState;
      if (state === 'connected' && !this.wasConnected) {
        this.wasConnected = true;
        events.connected();
      } else if (state === 'failed') {
        // An ICE failure once connected is the restarter's to handle (a DTLS one is not).
        if (this.restarter?.active && !isUp(pc.iceConnectionState)) return;
        this.fail();
      } else if (state === 'closed') {
        this.fail();
      }
    });
    pc.addEventListener('track', (event) => {
      if (this.isClosed) return;
      this.tracks = [...this.tracks.filter((track) => track !== event.track), event.track];
      const Stream = options.MediaStream;
      // A new stream object for each track, so that the app sees the change.
      const stream = typeof Stream === 'function' ? new Stream(this.tracks) : event.streams[0];
      if (stream) events.stream(stream);
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Creates this upload's offer (again, with new ICE credentials, for a restart). */
  async offer(iceRestart: boolean): Promise<string> {
    const offer = await this.pc.createOffer(iceRestart ? { iceRestart: true } : {});
    await this.pc.setLocalDescription(offer);
    return offer.sdp ?? '';
  }

  /** The server's answer to this upload's offer. */
  async answered(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.setDescribed();
  }

  /** Answers the server's offer (a download's first, or its ICE restart's); the answer's SDP. */
  async answer(sdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    this.setDescribed();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return answer.sdp ?? '';
  }

  /** A candidate of the server (null: it gathered them all); held until described. */
  addCandidate(raw: unknown): void {
    const candidate = asCandidate(raw);
    if (!this.described) {
      this.queued.push(candidate);
      return;
    }
    // A candidate the browser cannot use is skipped; the others may still connect.
    this.pc.addIceCandidate(candidate ?? undefined).catch(() => undefined);
  }

  /** Closes it (no event). */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.restarter?.stop();
    try {
      this.pc.close();
    } catch {
      // closed already
    }
  }

  private setDescribed(): void {
    this.described = true;
    for (const candidate of this.queued.splice(0)) this.addCandidate(candidate);
  }

  private fail(): void {
    if (this.isClosed) return;
    this.close();
    this.events.failed();
  }
}

export function asCandidate(raw: unknown): RTCIceCandidateInit | null {
  return typeof raw === 'object' && raw !== null ? raw : null;
}

function candidateInit(candidate: RTCIceCandidate): RTCIceCandidateInit {
  if (typeof candidate.toJSON === 'function') return candidate.toJSON();
  const { sdpMid, sdpMLineIndex, usernameFragment } = candidate;
  return { candidate: candidate.candidate, sdpMid, sdpMLineIndex, usernameFragment };
}
