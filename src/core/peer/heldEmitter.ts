/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

type EventMap = Record<string, unknown[]>;
type Listener = (...args: unknown[]) => void;

export interface HeldEmitter<Events extends EventMap> {
  /** Adds a listener; first delivers, in order, whatever was emitted while the event had none. */
  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): Unsubscribe;
  emit: <E extends keyof Events>(event: E, ...args: Events[E]) => void;
}

/**
 * A tiny typed emitter that holds events nobody listens to yet, so a peer's first signals and
 * errors are never lost between `await createPeer()` and the caller's subscriptions.
 */
export function createHeldEmitter<Events extends EventMap>(): HeldEmitter<Events> {
  const listeners = new Map<keyof Events, Set<Listener>>();
  const held = new Map<keyof Events, unknown[][]>();

  function invoke(listener: Listener, args: unknown[]): void {
    try {
      listener(...args);
    } catch (error) {
      // An app bug in one listener must not break the emitter's caller: report it on its own.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  return {
    on(event, listener) {
      const fn = listener as unknown as Listener;
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn);
      const pending = held.get(event);
      if (pending) {
        held.delete(event);
        for (const args of pending) invoke(fn, args);
      }
      return () => {
        set.delete(fn);
      };
    },
    emit(event, ...args) {
      const set = listeners.get(event);
      if (!set || set.size === 0) {
        held.set(event, [...(held.get(event) ?? []), args]);
        return;
      }
      for (const listener of [...set]) invoke(listener, args);
    },
  };
}
