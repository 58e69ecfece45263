// Values test/react/globalSetup.ts provides to the jsdom tests through `inject()`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the test Relay, e.g. http://127.0.0.1:53211. */
    relayUrl: string;
    /** Test token endpoint: `GET {tokenUrl}?resource=alice[&expires_in=minutes]` → `{"token": jwt}`. */
    tokenUrl: string;
  }
}

export {};
