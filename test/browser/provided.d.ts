import type { RelayLimits } from '../../src/protocol/index.js';

// Values test/browser/globalSetup.ts provides to browser tests through `inject()`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the test Relay, e.g. http://127.0.0.1:53211. */
    relayUrl: string;
    /** Test token endpoint: `GET {tokenUrl}?resource=alice` → `{"token": jwt}` (CORS enabled). */
    tokenUrl: string;
    /**
     * Sizes of the fault and leak tests. `soak` (RELAYCALL_SOAK=1, for `npm run soak`) runs the
     * larger sizes; `seed` (RELAYCALL_FAULT_SEED) replays a run of the random socket drops.
     */
    reliability: { soak: boolean; seed: number | null };
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
    /** `limits`: overrides of DEFAULT_LIMITS (docs/PROTOCOL.md#limits), kept across restarts. */
    startRelay(options?: { limits?: Partial<RelayLimits> }): Promise<RelayHandle>;
    restartRelay(id: string, downMs?: number): Promise<void>;
    relayStats(id: string): Promise<{ sockets: number; sessions: number; calls: number }>;
    stopRelay(id: string): Promise<void>;
    /** A loopback TCP proxy to the Relay whose connections can be cut (a network drop). */
    startFaultProxy(relayId: string): Promise<{ id: string; url: string }>;
    /** Cuts the connection whose upgrade URL carried `?fault=<name>`; false if none is open. */
    cutConnection(proxyId: string, name: string): Promise<boolean>;
    stopFaultProxy(proxyId: string): Promise<void>;
    /**
     * With RELAYCALL_WRITE_RESULTS=1, merges `data` as `section` into
     * test/reliability/results/<file>.json; resolves the path written, or null.
     */
    writeResults(file: string, section: string, data: object): Promise<string | null>;
    // test/browser/turnCommands.ts
    /** coturn (Debian's package) on a free loopback port with a random TURN REST API secret. */
    startTurnServer(): Promise<{ id: string; url: string }>;
    /** coturn's output so far. */
    turnServerLog(id: string): Promise<string>;
    stopTurnServer(id: string): Promise<void>;
    /**
     * A Relay minting credentials for that coturn: with its secret, or `secret: 'wrong'`, and its
     * clock `clockSkewMs` off (a large negative skew mints credentials already expired).
     */
    startTurnRelay(
      turnId: string,
      options?: { secret?: 'shared' | 'wrong'; clockSkewMs?: number },
    ): Promise<RelayHandle>;
    stopTurnRelay(id: string): Promise<void>;
    // test/browser/janusCommands.ts
    /** Janus (Debian's package, in the test namespace) and a Relay controlling it. */
    startJanusRelay(options?: {
      limits?: Partial<RelayLimits>;
      talkingLevel?: number;
    }): Promise<RelayHandle>;
    /** Kills Janus (SIGKILL) and resolves once the Relay saw it go. */
    killJanus(id: string): Promise<void>;
    /** Starts Janus again and resolves once the Relay reconnected. */
    restartJanus(id: string): Promise<void>;
    janusRelayStats(
      id: string,
    ): Promise<{ sessions: number; rooms: number; sfu?: { available: boolean; rooms: number } }>;
    stopJanusRelay(id: string): Promise<void>;
  }
}

export {};
