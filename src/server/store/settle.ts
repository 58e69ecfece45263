/**
 * Runs a synchronous store operation under the asynchronous RelayStore contract: its result
 * resolves, and what it throws rejects rather than escaping to the caller as a synchronous throw
 * (callers such as the purge timer only attach `.catch`).
 */
export function settle<T>(operation: () => T): Promise<T> {
  return new Promise((resolve) => resolve(operation()));
}
