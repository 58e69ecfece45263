import {
  ErrorCodes,
  RelayError,
  ServerEvents,
  type AssistMode,
  type CallsFilter,
  type CallsListResult,
} from '../../protocol/index.js';
import type { SupervisionDeps, SupervisionManager } from './SupervisionManager.js';
import type { AssistOptions, AssistSnapshot } from './supervisionTypes.js';

/**
 * Supervision, loaded on first use: the code is its own chunk, fetched when the app assists or
 * lists calls, or when the Relay first says something about supervision (someone assists a call
 * of ours), so an app that never meets a supervisor never loads it. Until it is there, what is
 * asked of it waits and is carried out in order.
 */
export class LazySupervision {
  private manager: SupervisionManager | null = null;
  private loading: Promise<SupervisionManager> | null = null;

  constructor(private readonly deps: SupervisionDeps) {}

  assist(callId: string, mode: AssistMode, options: AssistOptions): Promise<AssistSnapshot> {
    return this.use((m) => m.assists.assist(callId, mode, options));
  }

  stopAssist(callId: string): void {
    this.ifUsed((m) => m.assists.stopAssist(callId));
  }

  listCalls(filter: CallsFilter): Promise<CallsListResult> {
    return this.use((m) => m.list.list(filter));
  }

  watchCalls(filter: CallsFilter): () => void {
    let unwatch: (() => void) | undefined;
    let stopped = false;
    this.run((m) => {
      if (!stopped) unwatch = m.list.watch(filter);
    });
    return () => {
      stopped = true;
      this.ifUsed(() => unwatch?.());
    };
  }

  refreshCallList(): Promise<void> {
    return this.manager ? this.manager.list.refresh() : Promise.resolve();
  }

  /**
   * Supervision's notifications (`call.assisted`, `calls.updated`, `call.signal` from or to a
   * supervisor) go to it; false for the others. `call.ended` also reaches it when loaded (an
   * assisted call ended), and is left to the calls (false).
   */
  onNotification(method: string, params: Record<string, unknown>): boolean {
    const ours =
      method === ServerEvents.assisted ||
      method === ServerEvents.callsUpdated ||
      (method === ServerEvents.signal && typeof params.from === 'string');
    if (ours) this.run((m) => m.onNotification(method, params));
    else if (method === ServerEvents.ended) this.ifUsed((m) => m.onNotification(method, params));
    return ours;
  }

  connected(resumed: boolean): void {
    this.ifUsed((m) => m.connected(resumed));
  }

  sessionLost(): void {
    this.ifUsed((m) => m.sessionLost());
  }

  endAll(): void {
    this.ifUsed((m) => m.endAll());
  }

  destroy(): void {
    this.ifUsed((m) => m.destroy());
  }

  private use<T>(act: (m: SupervisionManager) => Promise<T>): Promise<T> {
    return this.manager ? act(this.manager) : this.load().then(act);
  }

  private run(act: (m: SupervisionManager) => void): void {
    if (this.manager) act(this.manager);
    else
      void this.load().then(act, (error: RelayError) => {
        const { callList } = this.deps.store.getState();
        this.deps.store.setState({ callList: { ...callList, status: 'error', error } });
      });
  }

  private ifUsed(act: (m: SupervisionManager) => void): void {
    if (this.manager) act(this.manager);
    else if (this.loading) void this.loading.then(act, () => undefined);
  }

  private load(): Promise<SupervisionManager> {
    this.loading ??= import('./SupervisionManager.js').then(
      ({ SupervisionManager }) => (this.manager = new SupervisionManager(this.deps)),
      (error: unknown) => {
        this.loading = null; // the next use tries again
        throw new RelayError(
          ErrorCodes.internal,
          'Could not load the supervision code of relaycall. Check the network and reload the page.',
          { cause: error },
        );
      },
    );
    return this.loading;
  }
}
