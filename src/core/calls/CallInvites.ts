import { ErrorCodes, RelayError } from '../../protocol/index.js';
import { lostWithConnection } from '../connection/connectionErrors.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { CallEndReason, ClientClock } from '../types.js';
import { asRelayError, endError, endReasonOf } from './callMessages.js';
import type { CallRequests } from './callRequests.js';
import type { CallRecord, CallTable } from './CallTable.js';

/** What the invites ask of the call manager. */
export interface CallInvitesHost {
  table: CallTable;
  clock: ClientClock;
  requests: CallRequests;
  request: RequestFn;
  /** Resolves once connected; rejects with `not_connected` when the client gives up. */
  whenConnected(): Promise<void>;
  noAnswerTimeoutMs: number;
  /** One of our peer's signals, for the other side (through the Relay). */
  signal(record: CallRecord, signal: unknown): void;
  finish(
    record: CallRecord,
    reason: CallEndReason,
    error: RelayError | null,
    options: { tellRelay: 'hangup' | 'reject' | false },
  ): void;
}

/**
 * The invites of outgoing calls and the answers of incoming ones, and what became of those
 * whose reply was lost with the connection: settled once the session resumes.
 */
export class CallInvites {
  /** Outgoing calls whose call.invite reply was lost: the Relay may or may not have them. */
  private lost: CallRecord[] = [];

  constructor(private readonly host: CallInvitesHost) {}

  /**
   * Sends the call's invite. Not sent for want of a connection, it waits for one and goes then;
   * a reply lost with the connection is settled on resume. Other failures end the call.
   */
  async invite(record: CallRecord): Promise<void> {
    const { host } = this;
    for (;;) {
      try {
        record.inviteSent = true;
        const invite = await host.request('call.invite', record.invite!);
        this.invited(record, invite.callId);
        return;
      } catch (error) {
        if (error instanceof RelayError && error.code === ErrorCodes.notConnected) {
          record.inviteSent = false;
          try {
            await host.whenConnected();
          } catch (gaveUp) {
            host.finish(record, 'failed', asRelayError(gaveUp), { tellRelay: false });
            return;
          }
          if (host.table.ended(record.id)) return;
          continue;
        }
        if (lostWithConnection(error)) {
          this.lost.push(record);
          return;
        }
        const relayError = asRelayError(error);
        host.finish(record, endReasonOf(relayError), relayError, { tellRelay: 'hangup' });
        return;
      }
    }
  }

  /**
   * `call.ringing` for a call the Relay knows and we do not: the replay of a call whose invite
   * reply was lost (that is its id), else ours yet given up on (nobody must be left ringing).
   */
  unknownRinging(serverId: string): void {
    const lost = this.lost.shift();
    if (lost) this.invited(lost, serverId);
    else void this.host.request('call.hangup', { callId: serverId }).catch(() => undefined);
  }

  /**
   * The Relay resumed the session. Once a ping's reply is back, the Relay's replay has been
   * processed: an invite it never announced never arrived, and goes again; an answer whose
   * outcome is still unknown goes again.
   */
  resumed(): void {
    const { host } = this;
    if (this.lost.length === 0 && !host.table.all().some((r) => r.answerLost)) return;
    host.request('relay.ping', {}).then(
      () => {
        for (const record of this.lost.splice(0)) {
          if (!host.table.ended(record.id)) void this.invite(record);
        }
        for (const record of host.table.all()) {
          if (record.answerLost && !host.table.ended(record.id)) this.answerAgain(record);
        }
      },
      () => undefined, // dropped again: the next resume retries
    );
  }

  /** A fresh session: the invites it lost are moot. */
  clear(): void {
    this.lost = [];
  }

  /** The Relay gave the outgoing call its id: it rings. */
  private invited(record: CallRecord, serverId: string): void {
    const { host } = this;
    host.table.bind(record, serverId);
    if (host.table.ended(record.id)) {
      // Hung up while the invite was in flight.
      host.requests.tell(record, 'call.hangup', { callId: serverId });
      return;
    }
    record.noAnswerTimer = host.clock.setTimeout(() => {
      host.finish(record, 'no-answer', endError('no-answer'), { tellRelay: 'hangup' });
    }, host.noAnswerTimeoutMs);
    for (const signal of record.outbox.splice(0)) host.signal(record, signal);
  }

  /** Answers again after a resume when the first answer's outcome is still unknown. */
  private answerAgain(record: CallRecord): void {
    record.answerLost = false;
    this.host.request('call.answer', { callId: record.serverId! }).catch((error: unknown) => {
      const relayError = asRelayError(error);
      if (lostWithConnection(error)) record.answerLost = true;
      // Not ringing here any more, yet still ours: the first answer did arrive.
      else if (relayError.code === ErrorCodes.invalidState) return;
      else {
        const elsewhere = relayError.code === ErrorCodes.answeredElsewhere;
        this.host.finish(record, elsewhere ? 'answered-elsewhere' : 'failed', relayError, {
          tellRelay: 'hangup',
        });
      }
    });
  }
}
