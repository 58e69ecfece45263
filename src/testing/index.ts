export { startTestRelay } from './startTestRelay.js';
export type { TestRelay, TestRelayOptions } from './startTestRelay.js';
export { ManualClock } from './ManualClock.js';
export { startJanus } from './startJanus.js';
export type { StartJanusOptions, TestJanus } from './startJanus.js';
export { startSipp, sippScenario } from './startSipp.js';
export type { StartSippOptions, TestSipp, SippResult } from './startSipp.js';
