import type {
  CallDirection,
  CallEndReason,
  ConnectionStatus,
  SupervisorSnapshot,
} from '../core/index.js';
import type { UseCallState } from './useCall.js';

/** The twelve keys of the Dialer keypad. */
export type DialerKey = '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '0' | '#';

/** Every text the Dialer shows or announces; pass some to `labels` to translate them. */
export interface DialerLabels {
  target: string;
  placeholder: string;
  keypad: string;
  key: (key: DialerKey) => string;
  call: string;
  hangUp: string;
  accept: string;
  decline: string;
  duration: string;
  /** Status while no call is shown, by connection status. */
  connection: Record<ConnectionStatus, string>;
  dialing: (remote: string) => string;
  ringingOutgoing: (remote: string) => string;
  /** An outgoing call to a phone number or SIP address playing early media (ringback, announcements). */
  early: (remote: string) => string;
  ringingIncoming: (remote: string) => string;
  connecting: (remote: string) => string;
  active: (remote: string) => string;
  held: (remote: string) => string;
  remoteHeld: (remote: string) => string;
  ended: Record<CallEndReason, (remote: string) => string>;
  /**
   * What a supervisor of the call does, shown during the call (each gets the supervisor's
   * resource): `listening` (it hears the call, or whispers to the other party), `whispering`
   * (only you hear it), `joined` (it barged in: everyone hears it).
   */
  supervisor: Record<'listening' | 'whispering' | 'joined', (supervisor: string) => string>;
  /** The button that shares this side's screen during a call between browsers. */
  shareScreen: string;
  /** The button that stops sharing it. */
  stopSharing: string;
  /** The tile of this side's shared screen. */
  yourScreen: string;
  /** The tile of the other side's shared screen. */
  remoteScreen: (remote: string) => string;
}

const KEY_NAMES: Partial<Record<DialerKey, string>> = { '*': 'star', '#': 'pound' };

export const defaultDialerLabels: DialerLabels = {
  target: 'Number or name to call',
  placeholder: 'Number or name',
  keypad: 'Keypad',
  key: (key) => `Key ${KEY_NAMES[key] ?? key}`,
  call: 'Call',
  hangUp: 'Hang up',
  accept: 'Accept',
  decline: 'Decline',
  duration: 'Call duration',
  shareScreen: 'Share screen',
  stopSharing: 'Stop sharing',
  yourScreen: 'Your screen',
  remoteScreen: (remote) => `${remote}'s screen`,
  connection: {
    // Inside a provider, idle means its first token is loading: it is about to connect.
    idle: 'Connecting…',
    connecting: 'Connecting…',
    connected: 'Ready',
    reconnecting: 'Connection lost. Reconnecting…',
    disconnected: 'Disconnected',
    failed: 'Could not connect',
  },
  dialing: (remote) => `Calling ${remote}…`,
  ringingOutgoing: (remote) => `Ringing ${remote}…`,
  early: (remote) => `Ringing ${remote}… (early media)`,
  ringingIncoming: (remote) => `Incoming call from ${remote}`,
  connecting: (remote) => `Connecting to ${remote}…`,
  active: (remote) => `In call with ${remote}`,
  held: (remote) => `${remote} is on hold`,
  remoteHeld: (remote) => `${remote} put you on hold`,
  ended: {
    hangup: () => 'Call ended',
    cancelled: () => 'Call cancelled',
    declined: (remote) => `${remote} declined the call`,
    busy: (remote) => `${remote} is busy`,
    unavailable: (remote) => `${remote} is not available`,
    'no-answer': (remote) => `No answer from ${remote}`,
    'answered-elsewhere': () => 'Answered on another device',
    forbidden: () => 'You are not allowed to place this call',
    disconnected: () => 'Call dropped: the connection was lost',
    failed: () => 'The call failed',
    transferred: (remote) => `${remote} was transferred`,
  },
  supervisor: {
    listening: () => 'Supervisor listening',
    whispering: () => 'Supervisor whispering to you',
    joined: () => 'Supervisor joined the call',
  },
};

/** Merges partial labels (also partial `connection` and `ended`) over the defaults. */
export function mergeDialerLabels(labels: Partial<DialerLabels> | undefined): DialerLabels {
  if (!labels) return defaultDialerLabels;
  return {
    ...defaultDialerLabels,
    ...labels,
    connection: { ...defaultDialerLabels.connection, ...labels.connection },
    ended: { ...defaultDialerLabels.ended, ...labels.ended },
    supervisor: { ...defaultDialerLabels.supervisor, ...labels.supervisor },
  };
}

/** The sentence the Dialer shows for a supervisor of the call. */
export function supervisorText(labels: DialerLabels, supervisor: SupervisorSnapshot): string {
  const { supervisor: text } = labels;
  if (supervisor.mode === 'barge') return text.joined(supervisor.resource);
  return supervisor.heard
    ? text.whispering(supervisor.resource)
    : text.listening(supervisor.resource);
}

export interface DialerStatusInput {
  connection: ConnectionStatus;
  state: UseCallState;
  direction: CallDirection | null;
  remote: string | null;
  remoteHeld: boolean;
  endReason: CallEndReason | null;
  /** Caller of a ringing incoming call, when no call of the Dialer's own is shown. */
  incomingFrom: string | null;
}

/** The sentence the Dialer's live region announces for a state. */
export function dialerStatusText(labels: DialerLabels, input: DialerStatusInput): string {
  const remote = input.remote ?? '';
  const settled = input.state === 'idle' || input.state === 'ended';
  if (settled && input.incomingFrom !== null) return labels.ringingIncoming(input.incomingFrom);
  switch (input.state) {
    case 'idle':
      return labels.connection[input.connection];
    case 'dialing':
      return labels.dialing(remote);
    case 'ringing':
      return input.direction === 'incoming'
        ? labels.ringingIncoming(remote)
        : labels.ringingOutgoing(remote);
    case 'early':
      return labels.early(remote);
    case 'connecting':
      return labels.connecting(remote);
    case 'active':
      return input.remoteHeld ? labels.remoteHeld(remote) : labels.active(remote);
    case 'held':
      return labels.held(remote);
    case 'ended':
      return labels.ended[input.endReason ?? 'hangup'](remote);
  }
}
