import type { RelayStore } from '../store/RelayStore.js';

/** Told of each store operation once it settled: how long it took, in seconds, and whether it failed. */
export type StoreObserver = (operation: keyof RelayStore, seconds: number, failed: boolean) => void;

/**
 * `store` with every operation timed and reported to `observe`; results and errors pass through
 * unchanged. Timed on real time whatever the Relay's clock: the latency is Redis's or the disk's.
 */
export function timedStore(store: RelayStore, observe: StoreObserver): RelayStore {
  function timed<T>(operation: keyof RelayStore, run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const settled = (failed: boolean) =>
      observe(operation, (performance.now() - start) / 1000, failed);
    return run().then(
      (result) => {
        settled(false);
        return result;
      },
      (error: unknown) => {
        settled(true);
        throw error;
      },
    );
  }
  return {
    getProject: (id) => timed('getProject', () => store.getProject(id)),
    putProject: (project) => timed('putProject', () => store.putProject(project)),
    listProjects: () => timed('listProjects', () => store.listProjects()),
    getOrCreateSecret: (create) =>
      timed('getOrCreateSecret', () => store.getOrCreateSecret(create)),
    createFamily: (family, token) => timed('createFamily', () => store.createFamily(family, token)),
    getFamily: (id) => timed('getFamily', () => store.getFamily(id)),
    revokeFamily: (id, at, reason) =>
      timed('revokeFamily', () => store.revokeFamily(id, at, reason)),
    getRefreshToken: (hash) => timed('getRefreshToken', () => store.getRefreshToken(hash)),
    rotateRefreshToken: (oldHash, next, now) =>
      timed('rotateRefreshToken', () => store.rotateRefreshToken(oldHash, next, now)),
    purgeExpired: (now) => timed('purgeExpired', () => store.purgeExpired(now)),
    ping: () => timed('ping', () => store.ping()),
    close: () => timed('close', () => store.close()),
  };
}
