/**
 * Records a call that failed in a bench, logs it, and stops the bench when too many did: a few
 * failures are figures to report, many mean the setup is broken.
 * @param {{ failures: object[], key: string, iteration: number, error: unknown, label: string,
 *   log: (line: string) => void, max: number, bench: string }} failure
 */
export function noteFailure({ failures, key, iteration, error, label, log, max, bench }) {
  failures.push({
    key,
    iteration,
    error: String(/** @type {{ message?: string }} */ (error)?.message ?? error),
  });
  log(`${label} FAILED: ${failures.at(-1).error}`);
  if (failures.length > max) {
    throw new Error(`${bench} bench: more than ${max} calls failed; see above.`);
  }
}
