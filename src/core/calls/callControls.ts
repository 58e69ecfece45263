import { toPeerError } from '../peer/peerErrors.js';
import type { PeerMessage } from './callMessages.js';
import { applyTrackStates, sendState } from './callPeer.js';
import type { CallTable } from './CallTable.js';

/** What the app does to a live call's media: mute, hold, DTMF, device switching. */

export function setCallMuted(
  table: CallTable,
  callId: string,
  kind: 'audio' | 'video',
  muted: boolean,
): void {
  const record = table.get(callId);
  if (!record || table.ended(callId)) return;
  table.update(callId, kind === 'audio' ? { audioMuted: muted } : { videoMuted: muted });
  applyTrackStates(record, table);
  sendState(record, table);
}

export function setCallHeld(table: CallTable, callId: string, held: boolean): void {
  const record = table.get(callId);
  const call = table.snapshot(callId);
  if (!record || !call || (call.state !== 'active' && call.state !== 'held')) return;
  table.update(callId, { held, state: held ? 'held' : 'active' });
  applyTrackStates(record, table);
  sendState(record, table);
}

export function sendCallDtmf(table: CallTable, callId: string, tones: string): void {
  const record = table.get(callId);
  if (!record?.peer || !/^[0-9A-D#*,]+$/i.test(tones)) return;
  const sender = record.peer.pc.getSenders().find((s) => s.track?.kind === 'audio');
  sender?.dtmf?.insertDTMF(tones, 100, 70);
  record.peer.send({ t: 'dtmf', tones } satisfies PeerMessage);
}

export async function switchCallDevice(
  table: CallTable,
  mediaDevices: MediaDevices | undefined,
  callId: string,
  kind: 'audioinput' | 'videoinput',
  deviceId: string,
): Promise<void> {
  const record = table.get(callId);
  if (!record || table.ended(callId)) return;
  const swap = await record.media.switchDevice(mediaDevices, kind, deviceId);
  if (!swap) return;
  // A gateway call a supervisor barged into mixes the new microphone (or sends it).
  if (record.farEnd && kind === 'audioinput') {
    await record.farEnd.sync().catch((error: unknown) => {
      throw toPeerError(error);
    });
  } else if (record.peer && swap.previous) {
    await record.peer.replaceTrack(swap.previous, swap.next, swap.stream);
  }
  table.update(
    callId,
    kind === 'audioinput' ? { audioInputId: deviceId } : { videoInputId: deviceId },
  );
  applyTrackStates(record, table);
}
