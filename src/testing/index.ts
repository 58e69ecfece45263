export { startTestRelay } from './startTestRelay.js';
export type { TestRelay, TestRelayOptions } from './startTestRelay.js';
export { ManualClock } from './ManualClock.js';
