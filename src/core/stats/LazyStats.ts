import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ReadonlyStore } from '../types.js';
import type { StatsDeps, StatsManager } from './StatsManager.js';
import type { QualityApi, QualityState, QualityWarningEvent } from './statsTypes.js';

export type LazyStatsDeps = Omit<StatsDeps, 'quality' | 'emit'>;

/**
 * Call quality, loaded on first use: the store and the warning listeners are here, the sampling
 * code (stats parsing, MOS, hysteresis) is its own chunk, fetched when something is first
 * watched, so an app that never shows call quality never loads it.
 */
export class LazyStats implements QualityApi {
  readonly quality: ReadonlyStore<QualityState>;
  private readonly store: StoreApi<QualityState>;
  private readonly listeners = new Set<(event: QualityWarningEvent) => void>();
  private manager: StatsManager | null = null;
  private loading: Promise<StatsManager> | null = null;
  private destroyed = false;

  constructor(private readonly deps: LazyStatsDeps) {
    this.store = createStore<QualityState>()(() => ({ calls: {}, rooms: {}, warnings: [] }));
    this.quality = this.store;
  }

  watchCallStats(callId: string): () => void {
    return this.watch('call', callId);
  }

  watchRoomStats(name: string): () => void {
    return this.watch('room', name);
  }

  onQualityWarning(listener: (event: QualityWarningEvent) => void): () => void {
    // A wrapper, so that the same listener added twice is called twice and removed once.
    const wrapped = (event: QualityWarningEvent) => listener(event);
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  destroy(): void {
    this.destroyed = true;
    this.manager?.destroy();
    this.listeners.clear();
  }

  private watch(kind: 'call' | 'room', id: string): () => void {
    let unwatch: (() => void) | undefined;
    let stopped = false;
    this.load().then(
      (manager) => {
        if (!stopped && !this.destroyed) unwatch = manager.watch(kind, id);
      },
      () => undefined, // no chunk (offline): nothing is sampled; the next watch tries again
    );
    return () => {
      stopped = true;
      unwatch?.();
    };
  }

  private load(): Promise<StatsManager> {
    if (this.manager) return Promise.resolve(this.manager);
    this.loading ??= import('./StatsManager.js').then(
      ({ StatsManager }) => {
        this.manager = new StatsManager({
          ...this.deps,
          quality: this.store,
          emit: (event) => {
            for (const listener of [...this.listeners]) {
              try {
                listener(event);
              } catch (error) {
                // An app's listener that throws must not stop the sampling.
                queueMicrotask(() => {
                  throw error;
                });
              }
            }
          },
        });
        return this.manager;
      },
      (error: unknown) => {
        this.loading = null;
        throw error;
      },
    );
    return this.loading;
  }
}
