import { ErrorCodes, RelayError } from '../../protocol/errors.js';
import type { TrackProcessor } from '../media/TrackProcessor.js';
import { toPeerError } from '../peer/peerErrors.js';
import { applyTrackStates } from './callPeer.js';
import type { CallTable } from './CallTable.js';

/**
 * Sends a call's microphone or camera through `processor` (null: as captured) from now on,
 * replacing the sent track without renegotiation. An ended call has nothing to process.
 */
export async function setCallTrackProcessor(
  table: CallTable,
  callId: string,
  kind: 'audio' | 'video',
  processor: TrackProcessor | null,
): Promise<void> {
  const record = table.get(callId);
  if (!record) {
    throw new RelayError(ErrorCodes.callNotFound, `There is no call ${callId} on this client.`);
  }
  if (table.ended(callId)) return;
  const swap = await record.media.setProcessor(kind, processor);
  if (!swap) return;
  // A gateway call a supervisor barged into mixes the new microphone (or sends it).
  if (record.farEnd && kind === 'audio') {
    await record.farEnd.sync().catch((error: unknown) => {
      throw toPeerError(error);
    });
  } else if (record.peer && swap.previous) {
    await record.peer.replaceTrack(swap.previous, swap.next, swap.stream);
  }
  applyTrackStates(record, table);
}
