import { estimateMos, networkQuality } from './estimateMos.js';
import type { CallStats, VideoStats } from './statsTypes.js';

/** The counters of one `getStats()` report that samples are the differences of. */
export interface StatsReading {
  /** The report's time (`RTCStats.timestamp`, ms): rates use it, not the client's clock. */
  timestamp: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsLostIn: number;
  audioPacketsOut: number;
  /** Received audio: `totalAudioEnergy` and `totalSamplesDuration` (s). */
  energyIn: number;
  durationIn: number;
  /** The microphone (`media-source`): `totalAudioEnergy` and `totalSamplesDuration` (s). */
  energyOut: number;
  durationOut: number;
  rttMs: number | null;
  jitterMs: number | null;
  packetLossOut: number | null;
  videoIn: VideoStats | null;
  videoOut: VideoStats | null;
}

type Entry = Record<string, unknown> & { type: string; id: string };

const num = (value: unknown): number => (typeof value === 'number' && isFinite(value) ? value : 0);
const opt = (value: unknown): number | null =>
  typeof value === 'number' && isFinite(value) ? value : null;

/** The counters of a report (an `RTCStatsReport`, or any iterable of its entries' values). */
export function readStats(report: { forEach(cb: (value: unknown) => void): void }): StatsReading {
  const entries: Entry[] = [];
  report.forEach((value) => entries.push(value as Entry));
  const reading: StatsReading = {
    timestamp: 0,
    bytesIn: 0,
    bytesOut: 0,
    packetsIn: 0,
    packetsLostIn: 0,
    audioPacketsOut: 0,
    energyIn: 0,
    durationIn: 0,
    energyOut: 0,
    durationOut: 0,
    rttMs: null,
    jitterMs: null,
    packetLossOut: null,
    videoIn: null,
    videoOut: null,
  };
  let audioJitter: number | null = null;
  let videoJitter: number | null = null;
  let rtcpRtt: number | null = null;
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  for (const entry of entries) {
    reading.timestamp = Math.max(reading.timestamp, num(entry.timestamp));
    const kind = entry.kind ?? entry.mediaType;
    if (entry.type === 'inbound-rtp') {
      reading.bytesIn += num(entry.bytesReceived) + num(entry.headerBytesReceived);
      reading.packetsIn += num(entry.packetsReceived);
      reading.packetsLostIn += Math.max(0, num(entry.packetsLost));
      const jitter = opt(entry.jitter);
      if (kind === 'audio') {
        reading.energyIn += num(entry.totalAudioEnergy);
        reading.durationIn += num(entry.totalSamplesDuration);
        if (jitter !== null) audioJitter = Math.max(audioJitter ?? 0, jitter * 1000);
      } else if (kind === 'video') {
        if (jitter !== null) videoJitter = Math.max(videoJitter ?? 0, jitter * 1000);
        reading.videoIn = largest(reading.videoIn, videoOf(entry));
      }
    } else if (entry.type === 'outbound-rtp') {
      reading.bytesOut += num(entry.bytesSent) + num(entry.headerBytesSent);
      if (kind === 'audio') reading.audioPacketsOut += num(entry.packetsSent);
      else if (kind === 'video' && entry.active !== false) {
        reading.videoOut = largest(reading.videoOut, videoOf(entry));
      }
    } else if (entry.type === 'media-source' && kind === 'audio') {
      reading.energyOut += num(entry.totalAudioEnergy);
      reading.durationOut += num(entry.totalSamplesDuration);
    } else if (entry.type === 'remote-inbound-rtp') {
      const lost = opt(entry.fractionLost);
      if (lost !== null) reading.packetLossOut = Math.max(reading.packetLossOut ?? 0, lost);
      const rtt = opt(entry.roundTripTime);
      if (rtt !== null) rtcpRtt = Math.max(rtcpRtt ?? 0, rtt * 1000);
    } else if (entry.type === 'transport') {
      const pair = byId.get(String(entry.selectedCandidatePairId));
      const rtt = opt(pair?.currentRoundTripTime);
      if (rtt !== null) reading.rttMs = rtt * 1000;
    }
  }
  if (reading.rttMs === null) {
    // Firefox has no transport entry: the nominated pair carries the RTT.
    const pair = entries.find((e) => e.type === 'candidate-pair' && e.nominated === true);
    const rtt = opt(pair?.currentRoundTripTime);
    reading.rttMs = rtt !== null ? rtt * 1000 : rtcpRtt;
  }
  reading.jitterMs = audioJitter ?? videoJitter;
  return reading;
}

function videoOf(entry: Entry): VideoStats | null {
  const width = num(entry.frameWidth);
  const height = num(entry.frameHeight);
  if (width <= 0 || height <= 0) return null;
  return { width, height, frameRate: num(entry.framesPerSecond) };
}

function largest(a: VideoStats | null, b: VideoStats | null): VideoStats | null {
  if (!a || !b) return a ?? b;
  return b.width * b.height > a.width * a.height ? b : a;
}

/** What the sample is taken in: whether media should arrive, the microphone is on, the link is up. */
export interface SampleContext {
  /** ms on the client's clock. */
  at: number;
  /** The other side sends something (not on hold, not everything muted). */
  expectsMedia: boolean;
  /** A live, enabled microphone track is being sent. */
  microphoneOn: boolean;
  /** The connection is disconnected or failed. */
  down: boolean;
}

/** The sample between two readings of the same connection. */
export function toCallStats(
  previous: StatsReading,
  current: StatsReading,
  context: SampleContext,
): CallStats {
  const seconds = Math.max(0.001, (current.timestamp - previous.timestamp) / 1000);
  const rate = (bytes: number) => Math.max(0, Math.round((bytes * 8) / seconds));
  const packets = current.packetsIn - previous.packetsIn;
  const lost = current.packetsLostIn - previous.packetsLostIn;
  const packetLossIn =
    packets + lost > 0 ? Math.max(0, lost) / (packets + Math.max(0, lost)) : null;
  const sending = current.audioPacketsOut > previous.audioPacketsOut;
  const audioLevelOut =
    context.microphoneOn && sending
      ? level(current.energyOut - previous.energyOut, current.durationOut - previous.durationOut)
      : null;
  const { rttMs, jitterMs } = current;
  const mos = rttMs === null ? null : estimateMos(rttMs, jitterMs ?? 0, packetLossIn ?? 0);
  const nothing = packets <= 0 && context.expectsMedia;
  return {
    at: context.at,
    rttMs: rttMs === null ? null : Math.round(rttMs * 10) / 10,
    jitterMs: jitterMs === null ? null : Math.round(jitterMs * 10) / 10,
    packetLossIn,
    packetLossOut: current.packetLossOut,
    bitrateIn: rate(current.bytesIn - previous.bytesIn),
    bitrateOut: rate(current.bytesOut - previous.bytesOut),
    videoIn: current.videoIn,
    videoOut: current.videoOut,
    audioLevelIn: level(
      current.energyIn - previous.energyIn,
      current.durationIn - previous.durationIn,
    ),
    audioLevelOut,
    mos,
    networkQuality: networkQuality(mos, context.down || nothing),
  };
}

/** RMS level from the energy (sum of squared levels × duration) over a duration (s). */
function level(energy: number, duration: number): number | null {
  if (duration <= 0) return null;
  return Math.round(Math.sqrt(Math.max(0, energy) / duration) * 10_000) / 10_000;
}
