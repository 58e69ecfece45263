import { ErrorCodes, RelayError } from '../../protocol/index.js';
import type { CallMessaging, CallMessagingDeps, PeerTextMessage } from './CallMessaging.js';
import type { CallMessage, SendMessageOptions } from './messageTypes.js';

/**
 * The in-call messages of a client, loaded on first use: the messaging code is its own chunk,
 * fetched when the app sends a message or the first one arrives (on a data channel or from the
 * Relay), so apps that never chat do not download it. What arrives meanwhile is handled in order
 * once it is there.
 */
export class LazyMessaging {
  private loading: Promise<CallMessaging> | null = null;

  constructor(private readonly deps: CallMessagingDeps) {}

  sendMessage(id: string, body: unknown, options?: SendMessageOptions): Promise<CallMessage> {
    return this.load().then((messaging) => messaging.sendMessage(id, body, options));
  }

  /** `call.message` and `room.message` from the Relay; false for other notifications. */
  onNotification(method: string, params: Record<string, unknown>): boolean {
    if (method !== 'call.message' && method !== 'room.message') return false;
    this.run((messaging) => messaging.onNotification(method, params));
    return true;
  }

  fromCallPeer(callId: string, message: PeerTextMessage): void {
    this.run((messaging) => messaging.fromCallPeer(callId, message));
  }

  fromRoomPeer(name: string, participantId: string, message: unknown): void {
    this.run((messaging) => messaging.fromRoomPeer(name, participantId, message));
  }

  private run(act: (messaging: CallMessaging) => void): void {
    void this.load().then(act, () => undefined);
  }

  private load(): Promise<CallMessaging> {
    this.loading ??= import('./CallMessaging.js').then(
      ({ CallMessaging }) => new CallMessaging(this.deps),
      (cause: unknown) => {
        this.loading = null; // the next use tries again
        throw new RelayError(
          ErrorCodes.internal,
          'Could not load the in-call message code of relaycall. Check the network and reload the page.',
          { cause },
        );
      },
    );
    return this.loading;
  }
}
