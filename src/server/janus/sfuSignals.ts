import type { VideoQuality } from '../../protocol/index.js';

/** An ICE candidate as browsers send it (RTCIceCandidateInit), as Janus's trickle takes it. */
export interface Candidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/**
 * What a participant may send the SFU in `room.signal` (docs/PROTOCOL.md#sfu-rooms). `screen`:
 * about its screen share (its second upload, or its subscription to another's share) rather than
 * the camera; `restart`: an ICE restart of a connection that exists.
 */
export type SfuSignal =
  | { type: 'offer'; sdp: string; screen: boolean; restart: boolean }
  | { type: 'answer'; sdp: string; screen: boolean }
  | { type: 'candidate'; candidate: Candidate | null; screen: boolean }
  | { type: 'subscribe'; quality: VideoQuality }
  | { type: 'quality'; quality: VideoQuality }
  | { type: 'unsubscribe' }
  | { type: 'unpublish'; screen: boolean }
  | { type: 'restart'; screen: boolean };

const QUALITIES: readonly string[] = ['low', 'medium', 'high'] satisfies VideoQuality[];

/** Janus's simulcast substream of a quality (0 lowest). */
export const SUBSTREAM: Record<VideoQuality, number> = { low: 0, medium: 1, high: 2 };

/** The signal as the SFU understands it, or null for anything else (ignored). */
export function parseSfuSignal(value: unknown): SfuSignal | null {
  if (typeof value !== 'object' || value === null) return null;
  const signal = value as Record<string, unknown>;
  const screen = signal.screen === true;
  switch (signal.type) {
    case 'offer':
      if (typeof signal.sdp !== 'string') return null;
      return { type: 'offer', sdp: signal.sdp, screen, restart: signal.restart === true };
    case 'answer':
      return typeof signal.sdp === 'string' ? { type: 'answer', sdp: signal.sdp, screen } : null;
    case 'candidate': {
      const c = signal.candidate as Record<string, unknown> | null | undefined;
      if (c === null || c === undefined) return { type: 'candidate', candidate: null, screen };
      if (typeof c !== 'object' || typeof c.candidate !== 'string') return null;
      // An empty candidate is how some browsers say gathering is over.
      if (c.candidate === '') return { type: 'candidate', candidate: null, screen };
      const candidate: Candidate = { candidate: c.candidate };
      if (typeof c.sdpMid === 'string') candidate.sdpMid = c.sdpMid;
      if (typeof c.sdpMLineIndex === 'number') candidate.sdpMLineIndex = c.sdpMLineIndex;
      return { type: 'candidate', candidate, screen };
    }
    case 'unpublish':
    case 'restart':
      return { type: signal.type, screen };
    case 'subscribe':
    case 'quality': {
      const quality = signal.quality ?? 'high';
      if (typeof quality !== 'string' || !QUALITIES.includes(quality)) return null;
      return { type: signal.type, quality: quality as VideoQuality };
    }
    case 'unsubscribe':
      return { type: 'unsubscribe' };
    default:
      return null;
  }
}

/** The `a=mid` of the first m-section of each kind in an SDP. */
export function midsOf(sdp: string): { audio?: string; video?: string } {
  const mids: { audio?: string; video?: string } = {};
  let kind: string | null = null;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) kind = line.slice(2).split(' ')[0] ?? null;
    else if (line.startsWith('a=mid:') && (kind === 'audio' || kind === 'video')) {
      mids[kind] ??= line.slice('a=mid:'.length).trim();
    }
  }
  return mids;
}
