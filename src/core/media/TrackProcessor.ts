/** Which local media a track processor is working for. */
export interface TrackProcessorContext {
  /** The kind of the track: `audio` (microphone) or `video` (camera). */
  kind: 'audio' | 'video';
  /** The call's id, when the track is for a call. */
  callId?: string;
  /** The room's name, when the track is for a room. */
  room?: string;
}

/**
 * Turns a captured microphone or camera track into the track to send instead (noise
 * suppression, background blur, …). Return `track` itself to send it unprocessed. The library
 * owns the returned track: it stops it, and the captured track, when the call or room ends, the
 * device is switched or the processor replaced; when the returned track ends by itself, the
 * captured one is stopped. A processor that throws (or returns no track of the same kind) fails
 * what asked for the media with a `media_failed` RelayMediaError.
 */
export type TrackProcessor = (
  track: MediaStreamTrack,
  context: TrackProcessorContext,
) => MediaStreamTrack | Promise<MediaStreamTrack>;
