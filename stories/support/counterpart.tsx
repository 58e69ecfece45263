/**
 * Scripted counterparts: real clients (`createRelayClient`, the framework-free client that
 * `relaycall` re-exports) connected to the same dev Relay, that answer, decline, hold, mute or
 * call on cue. Each story that needs "the other side" renders one; it is destroyed when the story
 * unmounts. A panel shows what the counterpart sees, for people and for play functions.
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import {
  createRelayClient,
  type CallSnapshot,
  type ConnectionStatus,
  type RelayClient,
  type RelayClientState,
  type Scope,
  type WebSocketFactory,
} from 'relaycall';
import { devTokens, NO_RELAY_URL, relayUrl } from './devRelay.js';
import { syntheticMedia, type SyntheticMedia } from './syntheticMedia.js';

export interface CounterpartScript {
  /** When rung: keep ringing (default: never answers), answer, decline, or reject as busy. */
  onIncoming?: 'ring' | 'answer' | 'decline' | 'busy';
  /** Once a call is active: put it on hold, or mute the microphone. */
  whenActive?: 'hold' | 'mute';
  /** Calls this resource once connected, retrying while it is not online yet. */
  call?: string;
  /** Offers a button that calls this resource (when the moment to call matters). */
  offerCall?: string;
  /** Token scopes. Default: dial and receive. */
  scopes?: Scope[];
  /** Hue of the stand-in camera picture. */
  hue?: number;
}

interface View {
  status: ConnectionStatus;
  call: CallSnapshot | null;
}

/** Where a counterpart whose network "dropped" reconnects to: nowhere. */
const OFFLINE_URL = NO_RELAY_URL.replace(/^http/, 'ws');

/** A WebSocket constructor whose sockets can all be cut at once, like a network going down. */
class Network {
  private online = true;
  private readonly sockets = new Set<WebSocket>();
  readonly WebSocket: WebSocketFactory;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const network = this;
    class SwitchableWebSocket extends WebSocket {
      constructor(url: string) {
        super(network.online ? url : OFFLINE_URL);
        network.sockets.add(this);
      }
    }
    this.WebSocket = SwitchableWebSocket as unknown as WebSocketFactory;
  }

  drop(): void {
    this.online = false;
    for (const socket of this.sockets) socket.close();
    this.sockets.clear();
  }
}

/** The call a counterpart shows: the one in progress, else the last one that ended. */
function currentCall(state: RelayClientState): CallSnapshot | null {
  const calls = Object.values(state.calls);
  const live = calls.find((call) => call.state !== 'ended');
  if (live) return live;
  return calls.reduce<CallSnapshot | null>(
    (last, call) => (last === null || (call.endedAt ?? 0) >= (last.endedAt ?? 0) ? call : last),
    null,
  );
}

/** One scripted client; start() and stop() may alternate (StrictMode, remounts). */
class ScriptedCounterpart {
  private client: RelayClient | null = null;
  private media: SyntheticMedia | null = null;
  private network = new Network();
  private readonly listeners = new Set<() => void>();
  private readonly handled = new Set<string>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private dialing: { id: string; attempts: number } | null = null;
  private view: View = { status: 'idle', call: null };

  constructor(
    readonly resource: string,
    private readonly script: CounterpartScript,
  ) {}

  readonly subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getView = (): View => this.view;

  start(): () => void {
    const media = syntheticMedia(this.resource, this.script.hue);
    const network = new Network();
    const client = createRelayClient({ url: relayUrl(), WebSocket: network.WebSocket });
    this.media = media;
    this.network = network;
    this.client = client;
    const unsubscribe = client.store.subscribe((state) => this.onState(client, state));
    devTokens(this.resource, this.script.scopes)()
      .then(({ token }) => client.connect(token))
      .then(() => {
        if (this.script.call && this.client === client) this.dial(client, this.script.call, 0);
      })
      .catch(() => undefined); // shown in the panel as the connection status
    return () => {
      unsubscribe();
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.handled.clear();
      this.dialing = null;
      if (this.client === client) this.client = null;
      client.destroy();
      media.stop();
    };
  }

  /** Answers the call ringing here (the panel's button). */
  answer = () => {
    const client = this.client;
    const ringing = client && currentCall(client.store.getState());
    if (!client || !ringing || ringing.direction !== 'incoming' || ringing.state !== 'ringing') {
      return;
    }
    this.handled.add(ringing.id);
    client.answer(ringing.id, { localStream: this.media?.stream }).catch(() => undefined);
  };

  /** Calls `to` (the panel's button). */
  callNow = (to: string) => {
    if (this.client) this.dial(this.client, to, 0);
  };

  hangup = () => {
    const call = this.client && currentCall(this.client.store.getState());
    if (call) this.client?.hangup(call.id);
  };

  /** Cuts the network under the client: its Relay socket closes and it cannot reconnect. */
  dropNetwork = () => this.network.drop();

  private later(action: () => void, ms = 0) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private dial(client: RelayClient, to: string, attempts: number) {
    const id = client.call(to, {
      localStream: this.media?.stream,
      metadata: { name: this.resource },
    });
    this.dialing = { id, attempts };
  }

  private onState(client: RelayClient, state: RelayClientState) {
    const { onIncoming = 'ring', whenActive } = this.script;
    for (const call of Object.values(state.calls)) {
      if (this.handled.has(call.id)) continue;
      if (call.direction === 'incoming' && call.state === 'ringing' && onIncoming !== 'ring') {
        this.handled.add(call.id);
        // After the store update that showed the call: act as a person would, a moment later.
        this.later(() => {
          if (onIncoming === 'answer') {
            client.answer(call.id, { localStream: this.media?.stream }).catch(() => undefined);
          } else {
            client.reject(call.id, onIncoming === 'busy' ? 'busy' : 'declined');
          }
        });
      }
    }
    for (const call of Object.values(state.calls)) {
      const key = `${call.id}:active`;
      if (!whenActive || call.state !== 'active' || this.handled.has(key)) continue;
      this.handled.add(key);
      this.later(() => {
        if (whenActive === 'hold') client.setHeld(call.id, true);
        else client.setAudioMuted(call.id, true);
      });
    }
    // The callee may not be online yet: try again, as a person would redial.
    const dialing = this.dialing;
    const placed = dialing && state.calls[dialing.id];
    if (dialing && placed?.state === 'ended' && placed.endReason === 'unavailable') {
      this.dialing = null;
      if (dialing.attempts < 50) {
        this.later(() => {
          if (this.client !== client) return;
          client.dismiss(dialing.id);
          this.dial(client, placed.remote, dialing.attempts + 1);
        }, 200);
      }
    }
    const next: View = { status: state.status, call: currentCall(state) };
    if (next.status !== this.view.status || next.call !== this.view.call) {
      this.view = next;
      for (const listener of this.listeners) listener();
    }
  }
}

const describeCall = (call: CallSnapshot | null): string => {
  if (!call) return 'none';
  const who = call.direction === 'incoming' ? `from ${call.remote}` : `to ${call.remote}`;
  const reason = call.endReason ? ` (${call.endReason})` : '';
  return `${call.state}${reason}, ${who}`;
};

export interface CounterpartProps {
  /** The counterpart's resource. */
  resource: string;
  /** What it does on its own. */
  script: CounterpartScript;
  /** What this counterpart is for, in a few words. */
  description: string;
  /** Show the button that cuts its network. */
  canDrop?: boolean;
}

/** A scripted client and its panel (a new client for a new resource). */
export function Counterpart(props: CounterpartProps) {
  return <CounterpartPanel key={props.resource} {...props} />;
}

function CounterpartPanel({ resource, script, description, canDrop }: CounterpartProps) {
  const [counterpart] = useState(() => new ScriptedCounterpart(resource, script));
  useEffect(() => counterpart.start(), [counterpart]);
  const { status, call } = useSyncExternalStore(counterpart.subscribe, counterpart.getView);
  const inProgress = call !== null && call.state !== 'ended';
  const remoteFlags = [
    call?.remoteAudioMuted && 'microphone muted',
    call?.remoteVideoMuted && 'camera off',
    call?.remoteHeld && 'holding the call',
  ].filter(Boolean);
  return (
    <aside className="story-counterpart" aria-label={`${resource} (scripted)`}>
      <header>
        <strong>{resource}</strong> <small>scripted counterpart</small>
      </header>
      <p>{description}</p>
      <dl>
        <dt>Relay</dt>
        <dd data-testid="connection">{status}</dd>
        <dt>Call</dt>
        <dd data-testid="call">{describeCall(call)}</dd>
        <dt>Tones received</dt>
        <dd data-testid="dtmf">{call?.remoteDtmf || '—'}</dd>
        <dt>Other side</dt>
        <dd data-testid="remote">{remoteFlags.length > 0 ? remoteFlags.join(', ') : '—'}</dd>
      </dl>
      <div className="story-counterpart__actions">
        {script.offerCall && status === 'connected' && !inProgress && (
          <button type="button" onClick={() => counterpart.callNow(script.offerCall!)}>
            Call {script.offerCall} as {resource}
          </button>
        )}
        {call?.direction === 'incoming' && call.state === 'ringing' && (
          <button type="button" onClick={counterpart.answer}>
            Answer as {resource}
          </button>
        )}
        {inProgress && (
          <button type="button" onClick={counterpart.hangup}>
            Hang up as {resource}
          </button>
        )}
        {canDrop && status === 'connected' && (
          <button type="button" onClick={counterpart.dropNetwork}>
            Drop {resource}'s network
          </button>
        )}
      </div>
    </aside>
  );
}
