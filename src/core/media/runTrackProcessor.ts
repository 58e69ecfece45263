import { ErrorCodes, RelayMediaError } from '../../protocol/errors.js';
import type { TrackProcessor, TrackProcessorContext } from './TrackProcessor.js';

function processorError(context: TrackProcessorContext, detail: string, cause?: unknown) {
  const device = context.kind === 'audio' ? 'microphone' : 'camera';
  return new RelayMediaError(
    ErrorCodes.mediaFailed,
    `The track processor failed on the ${device} (${detail}), so nothing unprocessed was sent. Fix the processor, or pass processTrack: null to send the ${device} as captured.`,
    context.kind === 'audio' ? 'audioinput' : 'videoinput',
    cause === undefined ? undefined : { cause },
  );
}

/** What a processor returned that is not a track of the source's kind, as the error says it. */
function returnedText(processed: unknown, kind: unknown): string {
  if (kind === undefined) return String(processed);
  return typeof kind === 'string' ? `a ${kind} track` : `something whose kind is a ${typeof kind}`;
}

/**
 * Runs `processor` on the captured `source` and resolves with the track to send (`source` when
 * the processor returns it). When that track ends by itself, `source` stops too (no camera light
 * left on). Rejects with a `media_failed` RelayMediaError when the processor throws or returns
 * no track of the source's kind; `source` keeps running (the caller stops it).
 */
export async function runTrackProcessor(
  processor: TrackProcessor,
  source: MediaStreamTrack,
  context: TrackProcessorContext,
): Promise<MediaStreamTrack> {
  // Mute and hold disable the sent track; the source feeds the processor whatever they say.
  source.enabled = true;
  let processed: unknown;
  try {
    processed = await processor(source, context);
  } catch (error) {
    throw processorError(context, String(error), error);
  }
  const kind = (processed as { kind?: unknown } | null)?.kind;
  if (kind !== source.kind) {
    throw processorError(
      context,
      `it returned ${returnedText(processed, kind)} instead of a ${source.kind} MediaStreamTrack`,
    );
  }
  const track = processed as MediaStreamTrack;
  if (track !== source) track.addEventListener('ended', () => source.stop(), { once: true });
  return track;
}
