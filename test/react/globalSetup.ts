import { startTestRelay } from 'relaycall/testing';
import type { TestProject } from 'vitest/node';

/** Starts one real Relay in Node for the jsdom tests; they reach it over HTTP and WebSocket. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const relay = await startTestRelay();
  project.provide('relayUrl', relay.url);
  project.provide('tokenUrl', relay.tokenUrl);
  return () => relay.close();
}
