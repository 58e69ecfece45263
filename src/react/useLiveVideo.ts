'use client';
import { useCallback, useSyncExternalStore } from 'react';

const TRACK_EVENTS = ['ended', 'mute', 'unmute'] as const;

/** Whether `stream` has a video track that is live, enabled and not muted. */
export function hasLiveVideo(stream: MediaStream | null): boolean {
  if (!stream) return false;
  return stream
    .getVideoTracks()
    .some((track) => track.readyState === 'live' && track.enabled && !track.muted);
}

/**
 * Whether `stream` shows video now. Follows tracks being added and removed and
 * video tracks ending, muting and unmuting; `enabled` is re-read on each render.
 */
export function useLiveVideo(stream: MediaStream | null): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (!stream) return () => undefined;
      const watched = new Set<MediaStreamTrack>();
      const watch = (track: MediaStreamTrack) => {
        if (track.kind !== 'video' || watched.has(track)) return;
        watched.add(track);
        for (const type of TRACK_EVENTS) track.addEventListener(type, onChange);
      };
      const onAddTrack = (event: MediaStreamTrackEvent) => {
        watch(event.track);
        onChange();
      };
      stream.getVideoTracks().forEach(watch);
      stream.addEventListener('addtrack', onAddTrack);
      stream.addEventListener('removetrack', onChange);
      return () => {
        stream.removeEventListener('addtrack', onAddTrack);
        stream.removeEventListener('removetrack', onChange);
        for (const track of watched) {
          for (const type of TRACK_EVENTS) track.removeEventListener(type, onChange);
        }
      };
    },
    [stream],
  );
  return useSyncExternalStore(
    subscribe,
    () => hasLiveVideo(stream),
    () => false,
  );
}
