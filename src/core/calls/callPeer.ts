import type { RelayError } from '../../protocol/index.js';
import type { Peer } from '../peer/createPeer.js';
import type { CallEndReason, ClientClock } from '../types.js';
import { endError, type PeerMessage } from './callMessages.js';
import type { CallScreenShares } from './CallScreenShares.js';
import type { PeerTextMessage } from '../messages/CallMessaging.js';
import type { CallRecord, CallTable } from './CallTable.js';

/** What a call's peer reports to, in the manager. */
export interface PeerHost {
  table: CallTable;
  clock: ClientClock;
  /** Screen shares of calls between browsers (none: a second stream replaces `remoteStream`). */
  screens?: CallScreenShares;
  /** An in-call message arrived on the data channel. */
  message?(record: CallRecord, message: PeerTextMessage): void;
  /** One of our peer's signals, for the other side (through the Relay). */
  signal(record: CallRecord, signal: unknown): void;
  finish(
    record: CallRecord,
    reason: CallEndReason,
    error: RelayError | null,
    options: { tellRelay: 'hangup' | false },
  ): void;
}

/** Makes `peer` the call's peer: its signals, streams, data and end feed the call. */
export function attachPeer(record: CallRecord, peer: Peer, host: PeerHost): void {
  const { table } = host;
  record.peer = peer;
  peer.onSignal((signal) => {
    if (record.serverId) host.signal(record, signal);
    else record.outbox.push(signal);
  });
  peer.onStream((remote) => {
    if (host.screens) host.screens.onStream(record, remote);
    else table.update(record.id, { remoteStream: remote });
  });
  peer.onConnect(() => {
    // A gateway call's media may flow before the answer (early media): active once answered.
    const call = table.snapshot(record.id);
    if (call?.gateway && call.state !== 'connecting') return;
    table.update(record.id, { state: 'active', startedAt: host.clock.now() });
    sendState(record, table);
  });
  peer.onReconnecting?.((reconnecting) => table.update(record.id, { reconnecting }));
  peer.onData((message) => onPeerMessage(record, message as PeerMessage, host));
  peer.onClose(() => {
    // A closed peer connection ends the call on both sides, with or without the Relay.
    host.finish(record, record.remoteHungUp ? 'hangup' : 'disconnected', null, {
      tellRelay: 'hangup',
    });
  });
  peer.onError((error) => {
    // A peer that vanished without closing shows up as an ICE failure, not a call failure.
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    const vanished = code === 'ERR_ICE_CONNECTION_FAILURE' || code === 'ERR_CONNECTION_FAILURE';
    const reason = vanished ? 'disconnected' : 'failed';
    // A failure keeps the peer's own call_failed error: its message says what went wrong
    // (a TURN server refusing the credentials, say), where the generic one could not.
    host.finish(record, reason, vanished ? endError(reason, error) : error, {
      tellRelay: 'hangup',
    });
  });
}

function onPeerMessage(record: CallRecord, message: PeerMessage, host: PeerHost): void {
  const { table } = host;
  if (message.t === 'hangup') {
    record.remoteHungUp = true;
    host.finish(record, 'hangup', null, { tellRelay: false });
  } else if (message.t === 'dtmf' && typeof message.tones === 'string') {
    const call = table.snapshot(record.id);
    if (call) table.update(record.id, { remoteDtmf: call.remoteDtmf + message.tones });
  } else if (message.t === 'screen') {
    host.screens?.onMessage(record, message.id);
  } else if (message.t === 'message') {
    host.message?.(record, message);
  } else if (message.t === 'state') {
    table.update(record.id, {
      remoteAudioMuted: message.audioMuted,
      remoteVideoMuted: message.videoMuted,
      remoteHeld: message.held,
    });
    applyTrackStates(record, table);
  }
}

/** Tells the other side, on the data channel, this side's mute and hold state. */
export function sendState(record: CallRecord, table: CallTable): void {
  const call = table.snapshot(record.id);
  if (!call) return;
  record.peer?.send({
    t: 'state',
    audioMuted: call.audioMuted,
    videoMuted: call.videoMuted,
    held: call.held,
  } satisfies PeerMessage);
}

/** Outgoing tracks carry media only when not muted and nobody holds the call. */
export function applyTrackStates(record: CallRecord, table: CallTable): void {
  const call = table.snapshot(record.id);
  if (!call) return;
  const onHold = call.held || call.remoteHeld;
  record.media.setEnabled('audio', !call.audioMuted && !onHold);
  record.media.setEnabled('video', !call.videoMuted && !onHold);
}
