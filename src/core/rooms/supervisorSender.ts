import type { AssistMode } from '../../protocol/index.js';
import type { Peer } from '../peer/createPeer.js';

/** What this client sends as a supervisor of a room (`call.assist`), by mode. */
export interface SupervisorSending {
  mode: AssistMode;
  /** Whisper: the participant id of the one who hears the supervisor; null in other modes. */
  agent: string | null;
  /** The microphone, once a mode needed it (whisper, barge); null otherwise. */
  mic: MediaStreamTrack | null;
}

/**
 * A supervisor's audio in a mesh room: every peer negotiates an audio sender (on a silent
 * placeholder, replaced by nothing before any media flows), and the mode decides which ones
 * carry the microphone: none (monitor), the agent's (whisper), all (barge). Changing mode swaps
 * tracks without renegotiating. Never a camera.
 */
export class SupervisorSender {
  private readonly senders = new Map<string, RTCRtpSender>();
  private readonly placeholder: { stream: MediaStream; close(): void } | null;

  constructor(private sending: SupervisorSending) {
    this.placeholder = silentStream();
  }

  /** What the peers are made with: an audio track, so that audio is negotiated both ways. */
  get stream(): MediaStream | undefined {
    return this.placeholder?.stream;
  }

  /** A new peer with `participantId`: it sends only what the mode lets it, from the start. */
  attach(participantId: string, peer: Peer): void {
    const sender = peer.pc.getSenders().find((s) => s.track?.kind === 'audio');
    if (!sender) return;
    this.senders.set(participantId, sender);
    this.apply(participantId, sender);
  }

  detach(participantId: string): void {
    this.senders.delete(participantId);
  }

  set(sending: SupervisorSending): void {
    this.sending = sending;
    for (const [id, sender] of this.senders) this.apply(id, sender);
  }

  destroy(): void {
    this.senders.clear();
    this.placeholder?.close();
  }

  private apply(participantId: string, sender: RTCRtpSender): void {
    const { mode, agent, mic } = this.sending;
    // Heard by everyone (barge) or by its agent (whisper): the Relay's rule, as in roomDraft.
    const heard = mode === 'barge' || (mode === 'whisper' && agent === participantId);
    const track = heard ? mic : null;
    if (sender.track === track) return;
    // A closed connection refuses: nothing to send there any more.
    sender.replaceTrack(track).catch(() => undefined);
  }
}

/** A silent audio track (Web Audio), or null where there is none. */
function silentStream(): { stream: MediaStream; close(): void } | null {
  const AudioContextClass = globalThis.AudioContext as typeof AudioContext | undefined;
  if (typeof AudioContextClass !== 'function') return null;
  try {
    const context = new AudioContextClass();
    const { stream } = context.createMediaStreamDestination();
    for (const track of stream.getTracks()) track.enabled = false;
    return {
      stream,
      close: () => {
        for (const track of stream.getTracks()) track.stop();
        void context.close().catch(() => undefined);
      },
    };
  } catch {
    return null;
  }
}
