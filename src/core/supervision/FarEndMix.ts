import type { CallRecord, CallTable } from '../calls/CallTable.js';
import { sendTrack } from './linkTracks.js';
import { mixAudio, type AudioMix } from './mixAudio.js';

/**
 * What a gateway call (a phone or SIP far end) sends its far end while supervisors barge: the
 * party's microphone mixed (Web Audio) with every barging supervisor's audio, on the call's own
 * connection (its audio sender, no renegotiation), so the phone customer hears them too. The
 * plain microphone otherwise: without supervisors, with only monitoring or whispering ones (the
 * far end must not hear those), and while the call is on hold.
 *
 * Mute silences the agent's own voice only: a barging supervisor goes on being heard by the far
 * end while the agent is muted, as in contact centres (the supervisor took the call over). A
 * switched microphone is mixed in place of the old one. Without Web Audio, or without a
 * microphone (an audio section the browser only receives on), the far end does not hear the
 * supervisor. Loaded with a gateway call's first barge; kept until the call ends, when the mix
 * and its AudioContext are closed.
 */
export class FarEndMix {
  private mix: AudioMix | null = null;
  /** The sender's track changes, one after the other. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly record: CallRecord,
    private readonly table: CallTable,
    private readonly AudioContextCtor: typeof AudioContext | undefined,
  ) {}

  /**
   * Sends what the call's supervisors, hold and microphone call for now. Resolves once the
   * call's audio sender has it; rejects with the browser's error when it refuses the track (the
   * previous one goes on).
   */
  sync(): Promise<void> {
    const call = this.table.snapshot(this.record.id);
    const pc = this.record.peer?.pc;
    if (!call || call.state === 'ended' || !pc || pc.signalingState === 'closed') {
      this.close();
      return this.queue;
    }
    const mic = call.localStream?.getAudioTracks()[0] ?? null;
    const barging =
      mic && !call.held
        ? call.supervisors.flatMap((s) =>
            s.mode === 'barge' ? (s.stream?.getAudioTracks() ?? []) : [],
          )
        : [];
    let mix = this.mix;
    if (barging.length > 0) {
      if (mix) {
        mix.setMic(mic);
        mix.setOthers(barging);
      } else mix = this.mix = mixAudio(this.AudioContextCtor, mic, barging);
    } else this.mix = null;
    const send = this.mix?.track ?? mic;
    const unmixed = mix === this.mix ? null : mix;
    const step = this.queue.then(async () => {
      try {
        await sendTrack(pc, 'audio', send);
      } finally {
        // Closed once the sender let go of it (or would not take the microphone back).
        unmixed?.close();
      }
    });
    this.queue = step.catch(() => undefined);
    return step;
  }

  /** The call ended: closes the mix and its AudioContext (the connection closes with the call). */
  close(): void {
    this.mix?.close();
    this.mix = null;
  }
}
