import type { StoreApi } from 'zustand/vanilla';
import type { CallSnapshot, ClientClock, ParticipantSnapshot, RelayClientState } from '../types.js';
import { QualityWarnings, type WarningSource } from './QualityWarnings.js';
import { readStats, toCallStats, type StatsReading } from './readCallStats.js';
import type {
  CallStats,
  QualityOptions,
  QualityState,
  QualityWarning,
  QualityWarningEvent,
} from './statsTypes.js';

export interface StatsDeps {
  clock: ClientClock;
  /** The client's store: the calls' and rooms' state (hold, mute, ended). */
  client: StoreApi<RelayClientState>;
  /** Where samples and warnings are published. */
  quality: StoreApi<QualityState>;
  options: QualityOptions;
  /** The call's peer connection now, or null (not created yet, or gone). */
  callConnection(callId: string): RTCPeerConnection | null;
  /** The room's connections now, by participant id. */
  roomConnections(name: string): ReadonlyMap<string, RTCPeerConnection>;
  emit(event: QualityWarningEvent): void;
}

/** One connection sampled: its last reading and its warnings. */
interface Sampled {
  pc: RTCPeerConnection;
  previous: StatsReading | null;
  warnings: QualityWarnings;
}

/** A call or a room being watched. */
interface Watch {
  kind: 'call' | 'room';
  /** The call id or the room name. */
  id: string;
  watchers: number;
  timer: unknown;
  connections: Map<string, Sampled>;
  stopped: boolean;
}

const keyOf = (kind: 'call' | 'room', id: string) => `${kind}:${id}`;

/**
 * Samples `getStats()` of what is watched, on the client's clock: every `intervalMs` while at
 * least one watcher remains and the call (or room) lives, one timer per call or room.
 */
export class StatsManager {
  private readonly watches = new Map<string, Watch>();
  private readonly intervalMs: number;

  constructor(private readonly deps: StatsDeps) {
    this.intervalMs = Math.max(10, deps.options.intervalMs ?? 1000);
  }

  /** Adds a watcher; returns its remover (safe to call twice). */
  watch(kind: 'call' | 'room', id: string): () => void {
    const key = keyOf(kind, id);
    let watch = this.watches.get(key);
    if (!watch) {
      watch = { kind, id, watchers: 0, timer: undefined, connections: new Map(), stopped: false };
      this.watches.set(key, watch);
      void this.tick(watch);
    }
    watch.watchers += 1;
    const current = watch;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      current.watchers -= 1;
      if (current.watchers <= 0) this.stop(current);
    };
  }

  destroy(): void {
    for (const watch of [...this.watches.values()]) this.stop(watch);
  }

  private async tick(watch: Watch): Promise<void> {
    if (watch.stopped) return;
    if (!this.alive(watch)) return this.stop(watch);
    const now = this.connectionsOf(watch);
    for (const [id, sampled] of watch.connections) {
      if (now.get(id) !== sampled.pc) watch.connections.delete(id);
    }
    const samples = await Promise.all(
      [...now].map(async ([connectionId, pc]) => {
        const sampled = this.sampledOf(watch, connectionId, pc);
        const stats = await this.sample(watch, connectionId, sampled);
        return stats ? ([connectionId, stats, sampled] as const) : null;
      }),
    );
    if (watch.stopped) return;
    const events: QualityWarningEvent[] = [];
    const taken: Record<string, CallStats> = {};
    for (const sample of samples) {
      if (!sample) continue;
      const [connectionId, stats, sampled] = sample;
      taken[connectionId] = stats;
      events.push(...sampled.warnings.update(stats, this.expectsMedia(watch, connectionId)));
    }
    this.publish(watch, taken, events.length > 0);
    for (const event of events) this.deps.emit(event);
    watch.timer = this.deps.clock.setTimeout(() => void this.tick(watch), this.intervalMs);
  }

  private sampledOf(watch: Watch, connectionId: string, pc: RTCPeerConnection): Sampled {
    let sampled = watch.connections.get(connectionId);
    if (!sampled) {
      const source: WarningSource =
        watch.kind === 'call'
          ? { callId: watch.id, room: null, participantId: null }
          : { callId: null, room: watch.id, participantId: connectionId };
      sampled = { pc, previous: null, warnings: new QualityWarnings(source, this.deps.options) };
      watch.connections.set(connectionId, sampled);
    }
    return sampled;
  }

  /** Reads the connection's stats; the sample since the last reading, if there was one. */
  private async sample(watch: Watch, connectionId: string, sampled: Sampled) {
    const { pc } = sampled;
    let reading: StatsReading;
    try {
      reading = readStats(await pc.getStats());
    } catch {
      return null; // closed under us: the next tick forgets it
    }
    const previous = sampled.previous;
    sampled.previous = reading;
    if (!previous || watch.stopped) return null;
    const state = pc.connectionState;
    return toCallStats(previous, reading, {
      at: this.deps.clock.now(),
      expectsMedia: this.expectsMedia(watch, connectionId),
      microphoneOn: pc
        .getSenders()
        .some((s) => s.track?.kind === 'audio' && s.track.enabled && !s.track.muted),
      down: state === 'failed' || state === 'disconnected',
    });
  }

  private connectionsOf(watch: Watch): ReadonlyMap<string, RTCPeerConnection> {
    if (watch.kind === 'room') return this.deps.roomConnections(watch.id);
    const pc = this.deps.callConnection(watch.id);
    return new Map(pc ? [[watch.id, pc]] : []);
  }

  private alive(watch: Watch): boolean {
    const state = this.deps.client.getState();
    if (watch.kind === 'call') return (state.calls[watch.id]?.state ?? 'ended') !== 'ended';
    return (state.rooms[watch.id]?.state ?? 'left') !== 'left';
  }

  /** The other side sends media now: not on hold, not all muted. */
  private expectsMedia(watch: Watch, connectionId: string): boolean {
    const state = this.deps.client.getState();
    if (watch.kind === 'call') return callSends(state.calls[watch.id]);
    return participantSends(state.rooms[watch.id]?.participants[connectionId]);
  }

  private publish(watch: Watch, taken: Record<string, CallStats>, warningsChanged: boolean) {
    const { quality } = this.deps;
    const state = quality.getState();
    const patch: Partial<QualityState> = {};
    if (watch.kind === 'call') {
      const stats = taken[watch.id];
      if (stats) patch.calls = { ...state.calls, [watch.id]: stats };
    } else if (Object.keys(taken).length > 0 || state.rooms[watch.id]) {
      // Participants gone since the last tick leave with it.
      const kept = Object.entries(state.rooms[watch.id] ?? {}).filter(([id]) =>
        watch.connections.has(id),
      );
      patch.rooms = { ...state.rooms, [watch.id]: { ...Object.fromEntries(kept), ...taken } };
    }
    const before = state.warnings;
    const after = this.allWarnings(before);
    if (warningsChanged || after.length !== before.length) patch.warnings = after;
    if (Object.keys(patch).length > 0) quality.setState(patch);
  }

  /** Every active warning, in the order they were raised (`before` keeps the older ones first). */
  private allWarnings(before: QualityWarning[]): QualityWarning[] {
    const active = new Set<QualityWarning>();
    for (const watch of this.watches.values()) {
      for (const sampled of watch.connections.values()) {
        for (const warning of sampled.warnings.active) active.add(warning);
      }
    }
    const kept = before.filter((warning) => active.has(warning));
    const added = [...active].filter((warning) => !kept.includes(warning));
    return [...kept, ...added];
  }

  private stop(watch: Watch): void {
    if (watch.stopped) return;
    watch.stopped = true;
    this.deps.clock.clearTimeout(watch.timer);
    this.watches.delete(keyOf(watch.kind, watch.id));
    watch.connections.clear();
    const { quality } = this.deps;
    const state = quality.getState();
    const calls = { ...state.calls };
    const rooms = { ...state.rooms };
    if (watch.kind === 'call') delete calls[watch.id];
    else delete rooms[watch.id];
    quality.setState({ calls, rooms, warnings: this.allWarnings(state.warnings) });
  }
}

function callSends(call: CallSnapshot | undefined): boolean {
  if (!call || call.state !== 'active' || call.held || call.remoteHeld) return false;
  return !(call.remoteAudioMuted && call.remoteVideoMuted);
}

function participantSends(participant: ParticipantSnapshot | undefined): boolean {
  if (!participant || participant.isLocal || !participant.connected) return false;
  return !(participant.audioMuted && participant.videoMuted);
}
