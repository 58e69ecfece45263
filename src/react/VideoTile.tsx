'use client';
import { useEffect, useRef, useState } from 'react';
import type { NetworkQualityLevel } from '../core/index.js';
import { initials } from './initials.js';
import { QualityIndicator, type QualityIndicatorLabels } from './QualityIndicator.js';
import { useLiveVideo } from './useLiveVideo.js';

export interface VideoTileLabels {
  /** The click-to-play button shown when the browser refused to autoplay. */
  play: string;
  /** The muted-microphone indicator. */
  microphoneMuted: string;
}

export interface VideoTileProps {
  /** The stream to show; null shows the placeholder. */
  stream: MediaStream | null;
  /**
   * Who this is: caption, accessible name, and the placeholder's initials (without a label, or
   * one with no letters such as a phone number, the placeholder shows a person icon).
   */
  label?: string;
  /**
   * The microphone is muted: shows the indicator and mutes the element. Default:
   * false, or, for `local`, the element is muted without the indicator.
   */
  muted?: boolean;
  /** Mirror the picture horizontally. Default: `local`. */
  mirrored?: boolean;
  /** A local preview: element muted (no echo) and mirrored unless said otherwise. */
  local?: boolean;
  /** Show the placeholder even if a track is live (e.g. the other side turned its camera off). */
  videoMuted?: boolean;
  /**
   * Audio output device id (e.g. `useCall().audioOutputId`), applied with setSinkId where
   * the browser supports it. Default: the system's output.
   */
  sinkId?: string | null;
  className?: string;
  labels?: Partial<VideoTileLabels>;
  /**
   * Shows the network-quality bars (e.g. `useCallStats(callId)?.networkQuality`). Default: none.
   */
  quality?: NetworkQualityLevel | null;
  /** Accessible names of the quality levels. Default: `defaultQualityLabels`. */
  qualityLabels?: Partial<QualityIndicatorLabels>;
}

const defaultLabels: VideoTileLabels = { play: 'Play', microphoneMuted: 'Microphone muted' };

/** A <video> bound to a stream, with an initials placeholder, a muted indicator and autoplay fallback. */
export function VideoTile(props: VideoTileProps) {
  const { stream, label, muted, local = false, className } = props;
  const labels = { ...defaultLabels, ...props.labels };
  const video = useRef<HTMLVideoElement>(null);
  const showVideo = useLiveVideo(stream) && !props.videoMuted;
  const elementMuted = muted ?? local;
  const mirrored = props.mirrored ?? local;
  const [refused, setRefused] = useState<MediaStream | null>(null);
  const blocked = stream !== null && refused === stream;
  const letters = initials(label);

  useEffect(() => {
    if (video.current) video.current.muted = elementMuted;
  }, [elementMuted]);

  const { sinkId } = props;
  useEffect(() => {
    const element = video.current;
    // Browsers without setSinkId (Safari < 18.4, Firefox without the pref) play on the default.
    if (sinkId == null || !element?.setSinkId) return;
    element.setSinkId(sinkId).catch(() => undefined);
  }, [sinkId]);

  useEffect(() => {
    const element = video.current;
    if (!element) return;
    element.srcObject = stream;
    if (!stream) return;
    let current = true;
    Promise.resolve()
      .then(() => element.play())
      .catch((error: unknown) => {
        // AbortError: a newer stream replaced this one before it played.
        if (current && (error as { name?: string } | null)?.name !== 'AbortError') {
          setRefused(stream);
        }
      });
    return () => {
      current = false;
    };
  }, [stream]);

  const playNow = () => {
    // The click is the user gesture autoplay was waiting for.
    Promise.resolve(video.current?.play()).then(
      () => setRefused(null),
      () => undefined,
    );
  };

  const playButton = blocked && (
    <button
      type="button"
      className="relaycall-video__play"
      aria-label={labels.play}
      onClick={playNow}
    >
      {labels.play}
    </button>
  );

  return (
    <figure
      className={className ? `relaycall-video ${className}` : 'relaycall-video'}
      data-video={showVideo ? 'on' : 'off'}
      data-mirrored={mirrored ? '' : undefined}
      data-local={local ? '' : undefined}
    >
      <video
        ref={video}
        className="relaycall-video__media"
        autoPlay
        playsInline
        muted={elementMuted}
        aria-label={label}
      />
      {!showVideo && (
        <div className="relaycall-video__placeholder" data-captioned={label ? '' : undefined}>
          <span className="relaycall-video__initials" aria-hidden="true">
            {letters || (
              <svg
                className="relaycall-video__person"
                viewBox="0 0 24 24"
                width="1em"
                height="1em"
                aria-hidden="true"
                focusable="false"
              >
                <path
                  fill="currentColor"
                  d="M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9Zm0 2c-4.6 0-8.5 2.4-8.5 5.5V21h17v-1.5c0-3.1-3.9-5.5-8.5-5.5Z"
                />
              </svg>
            )}
          </span>
          {/* Sound without a picture that may not start: Play goes under the avatar. */}
          {playButton}
        </div>
      )}
      {muted === true && (
        <span className="relaycall-video__muted" role="img" aria-label={labels.microphoneMuted}>
          <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
            <path
              fill="currentColor"
              d="M12 14a3 3 0 0 0 3-3V5a3 3 0 1 0-6 0v6a3 3 0 0 0 3 3Zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2ZM3.3 2.3 2 3.6l18.4 18.4 1.3-1.3Z"
            />
          </svg>
        </span>
      )}
      {showVideo && playButton}
      <QualityIndicator level={props.quality} labels={props.qualityLabels} />
      {label && <figcaption className="relaycall-video__label">{label}</figcaption>}
    </figure>
  );
}
