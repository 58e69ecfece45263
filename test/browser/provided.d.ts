// Values test/browser/globalSetup.ts provides to browser tests through `inject()`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the test Relay, e.g. http://127.0.0.1:53211. */
    relayUrl: string;
    /** Test token endpoint: `GET {tokenUrl}?resource=alice` → `{"token": jwt}` (CORS enabled). */
    tokenUrl: string;
  }
}

interface RelayHandle {
  id: string;
  url: string;
  tokenUrl: string;
}

// Commands of test/browser/relayCommands.ts, callable from test pages.
declare module 'vitest/browser' {
  interface BrowserCommands {
    startRelay(): Promise<RelayHandle>;
    restartRelay(id: string, downMs?: number): Promise<void>;
    relayStats(id: string): Promise<{ sockets: number; sessions: number; calls: number }>;
    stopRelay(id: string): Promise<void>;
  }
}

export {};
