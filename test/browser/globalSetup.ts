import { startTestRelay } from 'relaycall/testing';
import type { TestProject } from 'vitest/node';

/** Starts one real Relay (in Node, inside the test namespace) for the browser tests. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const relay = await startTestRelay();
  project.provide('relayUrl', relay.url);
  project.provide('tokenUrl', relay.tokenUrl);
  // Sizes of the fault and leak tests, read here because the page cannot see process.env.
  const seed = process.env.RELAYCALL_FAULT_SEED?.trim();
  if (seed && !/^\d{1,10}$/.test(seed)) {
    throw new Error(`RELAYCALL_FAULT_SEED must be a non-negative integer, got "${seed}".`);
  }
  project.provide('reliability', {
    soak: process.env.RELAYCALL_SOAK === '1',
    seed: seed ? Number(seed) : null,
  });
  return () => relay.close();
}
