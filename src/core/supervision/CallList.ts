import type { StoreApi } from 'zustand/vanilla';
import type {
  CallRecord,
  CallsFilter,
  CallsListResult,
  CallsUpdatedEvent,
} from '../../protocol/index.js';
import { lostWithConnection } from '../connection/connectionErrors.js';
import type { RequestFn } from '../connection/RpcConnection.js';
import type { RelayClientState } from '../types.js';
import { listError } from './assistErrors.js';
import { callMatches as matches } from './callsFilter.js';
import type { CallListState } from './supervisionTypes.js';

export interface CallListDeps {
  store: StoreApi<RelayClientState>;
  request: RequestFn;
  /** Resolves once connected; rejects with `not_connected` when the client gives up. */
  whenConnected(): Promise<void>;
  isConnected(): boolean;
}

const sameFilter = (a: CallsFilter, b: CallsFilter) =>
  a.resource === b.resource && a.state === b.state;

/**
 * The watched list of the project's calls (`calls.watch`): one subscription on the Relay for
 * every watcher. Watchers with one filter share it; watchers with different ones share a watch
 * of every call. Watched again on a fresh session (a resumed one replays what it missed).
 */
export class CallList {
  private readonly watchers = new Map<number, CallsFilter>();
  private nextId = 1;
  /** The filter of the Relay's watch now, or null when not watching. */
  private watching: CallsFilter | null = null;
  /** Answers to older watch requests are stale. */
  private generation = 0;
  /** The last watch request was lost with the connection: the Relay may not have it. */
  private lost = false;
  /** Watch requests waiting for the connection (they go once connected). */
  private waiting = 0;

  constructor(private readonly deps: CallListDeps) {}

  list(filter: CallsFilter): Promise<CallsListResult> {
    return this.deps
      .whenConnected()
      .then(() => this.deps.request('calls.list', filter))
      .catch((error: unknown) => {
        throw listError(error);
      });
  }

  watch(filter: CallsFilter): () => void {
    const id = this.nextId++;
    this.watchers.set(id, { ...filter });
    this.update();
    return () => {
      if (!this.watchers.delete(id)) return;
      this.update();
    };
  }

  refresh(): Promise<void> {
    if (!this.watching) return Promise.resolve();
    return this.send(this.watching);
  }

  onUpdated(params: CallsUpdatedEvent): void {
    if (!this.watching || !params.call || typeof params.call.id !== 'string') return;
    const { call } = params;
    const calls = { ...this.state().calls };
    if (params.ended || !matches(call, this.watching)) delete calls[call.id];
    else calls[call.id] = call;
    this.set({ calls });
  }

  /** The client connected: a fresh session has no watch, so watch again. */
  connected(resumed: boolean): void {
    if (this.watching && this.waiting === 0 && (!resumed || this.lost)) {
      void this.send(this.watching).catch(() => undefined);
    }
  }

  /** The filter the Relay should watch with: the watchers' common one, else every call. */
  private wanted(): CallsFilter | null {
    const filters = [...this.watchers.values()];
    const first = filters[0];
    if (!first) return null;
    return filters.every((f) => sameFilter(f, first)) ? first : {};
  }

  private update(): void {
    const wanted = this.wanted();
    if (wanted === null) {
      if (!this.watching) return;
      this.watching = null;
      this.generation += 1;
      if (this.deps.isConnected())
        void this.deps.request('calls.unwatch', {}).catch(() => undefined);
      this.set({ status: 'idle', calls: {}, truncated: false, error: null });
      return;
    }
    if (this.watching && sameFilter(this.watching, wanted)) return;
    this.watching = wanted;
    void this.send(wanted).catch(() => undefined);
  }

  /** Watches with `filter`; its answer replaces the list. */
  private async send(filter: CallsFilter): Promise<void> {
    const generation = ++this.generation;
    this.lost = false;
    if (this.state().status !== 'ready') this.set({ status: 'loading', error: null });
    try {
      this.waiting += 1;
      try {
        await this.deps.whenConnected();
      } finally {
        this.waiting -= 1;
      }
      // The state is filtered here: the Relay does not tell a watch that filters on it when a
      // call leaves that state (a ringing call answered), so it would stay listed.
      const params = filter.resource === undefined ? {} : { resource: filter.resource };
      const result = await this.deps.request('calls.watch', params);
      if (generation !== this.generation) return;
      const calls: Record<string, CallRecord> = {};
      for (const call of result.calls) if (matches(call, filter)) calls[call.id] = call;
      this.set({ status: 'ready', calls, truncated: result.truncated === true, error: null });
    } catch (error) {
      if (generation !== this.generation) return;
      // A fresh session watches again (connected); a resumed one still has the watch.
      if (lostWithConnection(error) && this.deps.store.getState().status !== 'disconnected') {
        this.lost = true;
        return;
      }
      const relayError = listError(error);
      this.set({ status: 'error', error: relayError });
      throw relayError;
    }
  }

  private state(): CallListState {
    return this.deps.store.getState().callList;
  }

  private set(patch: Partial<CallListState>): void {
    this.deps.store.setState({ callList: { ...this.state(), ...patch } });
  }
}
