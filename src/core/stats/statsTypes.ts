import type { ReadonlyStore } from '../types.js';

/** A video stream's picture as last measured. */
export interface VideoStats {
  /** In pixels. */
  width: number;
  /** In pixels. */
  height: number;
  /** Frames per second (0 when the frames stopped). */
  frameRate: number;
}

/**
 * How good the connection is, from the MOS estimate (RTT, jitter, loss) and whether media
 * arrives: `excellent` (MOS ≥ 4.0), `good` (≥ 3.6), `fair` (≥ 3.1), `poor` (below), `lost`
 * (nothing arrives while media is expected, or the connection is down).
 */
export type NetworkQualityLevel = 'excellent' | 'good' | 'fair' | 'poor' | 'lost';

/**
 * One sample of a connection's `RTCPeerConnection.getStats()`, over the last sampling interval.
 * Figures a connection cannot measure (no audio received, no RTCP yet) are null.
 */
export interface CallStats {
  /** When it was taken, in ms on the client's clock. */
  at: number;
  /** Round-trip time of the selected ICE candidate pair (else of RTCP), in ms. */
  rttMs: number | null;
  /** Jitter of the media received (audio, else video), in ms. */
  jitterMs: number | null;
  /** Fraction (0-1) of the packets sent to us that were lost over the interval. */
  packetLossIn: number | null;
  /** Fraction (0-1) of our packets the other side reports lost (RTCP). */
  packetLossOut: number | null;
  /** Media received (RTP payload and headers), in bits/s. */
  bitrateIn: number;
  /** Media sent, in bits/s. */
  bitrateOut: number;
  /** The video received, or null when none arrives. */
  videoIn: VideoStats | null;
  /** The video sent (its largest simulcast layer), or null when none is sent. */
  videoOut: VideoStats | null;
  /** RMS level (0-1) of the audio received over the interval, or null. */
  audioLevelIn: number | null;
  /** RMS level (0-1) of the microphone over the interval, or null when no audio is sent. */
  audioLevelOut: number | null;
  /**
   * Mean opinion score estimate of the audio heard (1-4.5), from RTT, jitter and loss in (see
   * `estimateMos`), or null without an RTT.
   */
  mos: number | null;
  /** Null until measured. */
  networkQuality: NetworkQualityLevel | null;
}

/**
 * What a quality warning is about: `high-rtt`, `high-jitter`, `high-packet-loss` (in or out),
 * `low-mos`, `low-bitrate-in` (media stopped arriving while expected: the link is down or
 * starved), `silent-microphone` (audio is sent, unmuted, but its level stays near zero: a dead
 * or wrong microphone).
 */
export type QualityWarningKind =
  | 'high-rtt'
  | 'high-jitter'
  | 'high-packet-loss'
  | 'low-mos'
  | 'low-bitrate-in'
  | 'silent-microphone';

/** A warning raised and not cleared yet. */
export interface QualityWarning {
  kind: QualityWarningKind;
  /** The call it is about, or null for a room's. */
  callId: string | null;
  /** The room it is about (by name), or null for a call's. */
  room: string | null;
  /** In a room: the participant whose connection it is about (`SFU_PEER` for the upload). */
  participantId: string | null;
  /** The figure that raised it (ms, fraction, MOS, bits/s or level: per `kind`). */
  value: number;
  /** The threshold it crossed. */
  threshold: number;
  /** When it was raised, in ms on the client's clock. */
  since: number;
}

/** A warning raised, or cleared once the figure was back under its clear threshold. */
export interface QualityWarningEvent {
  type: 'raised' | 'cleared';
  warning: QualityWarning;
}

/** A metric's hysteresis: raised past `raise`, cleared only back past `clear`. */
export interface QualityThreshold {
  raise: number;
  clear: number;
}

/** The thresholds of each warning. */
export interface QualityThresholds {
  /** RTT in ms, raised above. Default: `{ raise: 400, clear: 300 }`. */
  rttMs: QualityThreshold;
  /** Jitter in ms, raised above. Default: `{ raise: 30, clear: 20 }`. */
  jitterMs: QualityThreshold;
  /** Loss fraction (in or out, the worse), raised above. Default: `{ raise: 0.05, clear: 0.02 }`. */
  packetLoss: QualityThreshold;
  /** MOS, raised below. Default: `{ raise: 3.5, clear: 3.8 }`. */
  mos: QualityThreshold;
  /** Bits/s received while media is expected, raised below. Default: `{ raise: 5000, clear: 10000 }`. */
  bitrateIn: QualityThreshold;
  /** Microphone RMS level (0-1) while sending unmuted, raised below. Default: `{ raise: 0.0005, clear: 0.002 }`. */
  microphoneLevel: QualityThreshold;
}

/** How calls and rooms are sampled and judged (`RelayClientOptions.quality`). */
export interface QualityOptions {
  /** Sampling interval while someone watches, in ms. Default: 1000. */
  intervalMs?: number;
  /** Consecutive samples past `raise` that raise a warning. Default: 3. */
  raiseAfter?: number;
  /** Consecutive samples back past `clear` that clear it. Default: 3. */
  clearAfter?: number;
  /** Per-metric thresholds; those left out keep their defaults. */
  thresholds?: Partial<QualityThresholds>;
}

/** The client's quality store (`client.quality`): samples of what is watched, and warnings. */
export interface QualityState {
  /** The last sample of each watched call, by call id. */
  calls: Record<string, CallStats>;
  /**
   * The last samples of each watched room, by room name, then by participant id (in `sfu`
   * rooms the upload to the media server is `SFU_PEER`).
   */
  rooms: Record<string, Record<string, CallStats>>;
  /** Warnings raised and not cleared, oldest first. */
  warnings: QualityWarning[];
}

/** Call quality, on the client. */
export interface QualityApi {
  /** Samples and warnings of what is watched. Subscribe with selectors. */
  readonly quality: ReadonlyStore<QualityState>;
  /**
   * Samples a call's connection every `intervalMs` (see `QualityOptions`) while watched, and
   * raises its warnings. Returns the unwatch function; sampling stops once nobody watches or the
   * call ends (its sample and warnings then leave the store). Loads the stats code on first use.
   */
  watchCallStats(callId: string): () => void;
  /** Like `watchCallStats`, for each connection of a room (per participant). */
  watchRoomStats(name: string): () => void;
  /** Listens to warnings raised and cleared (of watched calls and rooms). Returns the remover. */
  onQualityWarning(listener: (event: QualityWarningEvent) => void): () => void;
}
