import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';

// jsdom 29's WebSocket wraps undici's, which builds its events with the global `Event`;
// vitest's jsdom environment replaces that global with jsdom's, so the undici socket throws
// "The "event" argument must be an instance of Event" on open (nodejs/undici#2663). The
// pages under test get a real client from `ws` instead: same browser API, same real Relay.
globalThis.WebSocket = NodeWebSocket as unknown as typeof WebSocket;

// waitFor and findBy wait on conditions; their bound only stops a wait for a condition that
// never comes. RTL's default (1 s) is shorter than connecting to the Relay can take on a loaded
// machine; this one stays under the test timeout (5 s), so a failure still names what it
// waited for.
configure({ asyncUtilTimeout: 4_000 });

afterEach(() => {
  cleanup();
  // RelayProvider destroys its client one task after unmounting: let that timer run.
  if (vi.isFakeTimers()) vi.advanceTimersByTime(1);
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});
