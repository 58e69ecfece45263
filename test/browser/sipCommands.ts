import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserCommand } from 'vitest/node';
import type { Scope } from '../../src/protocol/index.js';
import { rejectUpgrade } from '../../src/server/http/rawSocket.js';
import { createRelayServer, createRestClient, type RelayServer } from '../../src/server/index.js';
import {
  sippScenario,
  startJanus,
  startSipp,
  type SippResult,
  type TestJanus,
  type TestSipp,
} from '../../src/testing/index.js';

/**
 * Browser commands (run in Node, inside scripts/loopback.sh's namespace) for calls through the
 * Relay's SIP gateway: a real Janus with its SIP plugin, sipp as the trunks and far ends (the
 * scenarios in test/sipp), and a Relay with two projects, each with a trunk, as in
 * test/server/sip.test.ts:
 *  - SIP_PROJECT (`tokenUrl`): its trunk is a sipp uas-echo that answers and echoes every call;
 *    `sip:` URIs may reach 10.77.0.2 (where every sipp binds);
 *  - INBOUND_PROJECT (`inboundTokenUrl`): its trunk is a sipp registrar where the Relay registers;
 *    calls to +15551230000 sent to the registered Contact ring its resource 'alice'.
 */
const SIP_PROJECT = { id: 'sip-acme', token: 'sip-acme-project-token-0123456789' };
const INBOUND_PROJECT = { id: 'sip-globex', token: 'sip-globex-project-token-0123456789' };

const TOKEN_PATH = '/testing/token';
const INBOUND_TOKEN_PATH = '/testing/token/inbound';

interface Managed {
  janus: TestJanus;
  trunk: TestSipp;
  registrar: TestSipp;
  relay: RelayServer;
  http: Server;
  /** Far ends started for this Relay by startSippFar, by sippId. */
  far: Set<string>;
}

const managed = new Map<string, Managed>();
const sipps = new Map<string, TestSipp>();
let nextId = 1;
let nextSippId = 1;

function get(id: string): Managed {
  const found = managed.get(id);
  if (!found) throw new Error(`no SIP relay ${id}`);
  return found;
}

/**
 * The Relay's HTTP server with a test token endpoint per project:
 * `GET {url}/testing/token[/inbound]?resource=alice[&scopes=calls:dial,calls:sip]`
 * answers `{"token": jwt}` (CORS enabled), like startTestRelay's.
 */
async function serve(relay: RelayServer): Promise<{ http: Server; url: string }> {
  const rest: { sip?: ReturnType<typeof createRestClient>; inbound?: typeof rest.sip } = {};
  const http = createServer(async (req, res) => {
    if (await relay.handleRequest(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://relay');
    const cors = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' };
    const client =
      url.pathname === TOKEN_PATH
        ? rest.sip
        : url.pathname === INBOUND_TOKEN_PATH
          ? rest.inbound
          : undefined;
    if (!client) {
      res.writeHead(404, cors).end();
      return;
    }
    const scopes = url.searchParams.get('scopes');
    try {
      const pair = await client.createToken({
        resource: url.searchParams.get('resource') ?? undefined,
        ...(scopes === null ? {} : { scopes: scopes.split(',').filter(Boolean) as Scope[] }),
      });
      res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token: pair.jwtToken }));
    } catch (error) {
      res.writeHead(500, { ...cors, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: (error as Error).message }));
    }
  });
  http.on('upgrade', (req, socket, head) => {
    if (!relay.handleUpgrade(req, socket, head)) {
      rejectUpgrade(socket, 404, 'Nothing here. The signaling socket is at /api/relay/ws.');
    }
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  rest.sip = createRestClient({ url, project: SIP_PROJECT.id, token: SIP_PROJECT.token });
  rest.inbound = createRestClient({
    url,
    project: INBOUND_PROJECT.id,
    token: INBOUND_PROJECT.token,
  });
  return { http, url };
}

async function closeHttp(http: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
}

/**
 * Janus (sip plugin), the two trunks' sipps and the Relay; resolves once the gateway is up and
 * the Relay registered at the registrar.
 */
export const startSipRelay: BrowserCommand<[options?: { sipLocalIp?: string }]> = async (
  _,
  options = {},
) => {
  const started: { stop(): Promise<void> }[] = [];
  try {
    const [janus, trunk, registrar] = await Promise.all([
      startJanus({ plugins: ['sip'], ...options }).then((j) => (started.push(j), j)),
      startSipp({ scenario: sippScenario('uas-echo'), calls: 100 }).then(
        (s) => (started.push(s), s),
      ),
      startSipp({ scenario: sippScenario('registrar'), calls: 100 }).then(
        (s) => (started.push(s), s),
      ),
    ]);
    const relay = await createRelayServer({
      projects: [SIP_PROJECT, INBOUND_PROJECT],
      janus: { url: janus.url, secret: janus.secret },
      sip: {
        trunks: {
          [SIP_PROJECT.id]: {
            proxy: `sip:${trunk.address}`,
            domain: 'trunk.example',
            numbers: ['+15550001111'],
            sipDomains: ['10.77.0.2'],
          },
          [INBOUND_PROJECT.id]: {
            proxy: `sip:${registrar.address}`,
            username: 'relay',
            password: 'registrar-password',
            numbers: ['+15551230000', '+15551230001'],
            routes: { '+15551230000': 'alice', '+15551230001': 'nobody' },
            ringTimeoutMs: 20_000,
          },
        },
      },
    });
    started.push({ stop: () => relay.close() });
    const { http, url } = await serve(relay);
    started.push({ stop: () => closeHttp(http) });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = relay.stats();
      if (stats.sip?.available === true && registrar.snapshot().contacts.length > 0) break;
      if (Date.now() > deadline) {
        throw new Error(
          `the SIP gateway was not up and registered within 30 s: stats ${JSON.stringify(stats)}, ` +
            `registrar contacts ${JSON.stringify(registrar.snapshot().contacts)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const id = String(nextId++);
    managed.set(id, { janus, trunk, registrar, relay, http, far: new Set() });
    return {
      id,
      url,
      tokenUrl: `${url}${TOKEN_PATH}`,
      inboundTokenUrl: `${url}${INBOUND_TOKEN_PATH}`,
      trunkAddress: trunk.address,
      registrarContact: registrar.snapshot().contacts[0]!,
    };
  } catch (error) {
    // Stopped in reverse: the Relay before the Janus it talks to.
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    throw error;
  }
};

/** A far end: sipp running test/sipp/<scenario>.xml for this Relay (stopped with it). */
export const startSippFar: BrowserCommand<
  [
    id: string,
    scenario: string,
    options?: { remote?: string; service?: string; vars?: Record<string, string | number> },
  ]
> = async (_, id, scenario, options = {}) => {
  const found = get(id);
  const sipp = await startSipp({ scenario: sippScenario(scenario), ...options });
  const sippId = String(nextSippId++);
  sipps.set(sippId, sipp);
  found.far.add(sippId);
  return { sippId, address: sipp.address };
};

/** What a far end saw: once it exited (`wait`, bounded by 30 s), else a snapshot so far. */
export const sippResult: BrowserCommand<[sippId: string, options?: { wait?: boolean }]> = async (
  _,
  sippId,
  options = {},
): Promise<SippResult> => {
  const sipp = sipps.get(sippId);
  if (!sipp) throw new Error(`no sipp ${sippId}`);
  if (!options.wait) return sipp.snapshot();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`sipp ${sippId} did not exit within 30 s:\n${sipp.messages()}`)),
      30_000,
    );
  });
  return Promise.race([sipp.exited, timeout]).finally(() => clearTimeout(timer));
};

/** Stops a far end now (its result stays readable until the Relay stops). */
export const stopSippFar: BrowserCommand<[sippId: string]> = async (_, sippId) => {
  await sipps.get(sippId)?.stop();
};

export const sipRelayStats: BrowserCommand<[id: string]> = async (_, id) => get(id).relay.stats();

export const stopSipRelay: BrowserCommand<[id: string]> = async (_, id) => {
  const found = managed.get(id);
  if (!found) return;
  managed.delete(id);
  for (const sippId of found.far) {
    await sipps.get(sippId)?.stop();
    sipps.delete(sippId);
  }
  await found.relay.close();
  await closeHttp(found.http);
  await Promise.all([found.trunk.stop(), found.registrar.stop()]);
  await found.janus.stop();
};

// Janus and every sipp are SIGKILLed by startJanus's and startSipp's own exit hooks if this
// process ends before stopSipRelay ran; the Relay and its HTTP server die with the process.

/** The handle startSipRelay resolves. */
export interface SipRelayHandle {
  id: string;
  url: string;
  /** Tokens of the project whose trunk is the uas-echo sipp (calls out): `?resource=&scopes=`. */
  tokenUrl: string;
  /** Tokens of the project whose trunk is the registrar (calls in to +15551230000 ring 'alice'). */
  inboundTokenUrl: string;
  /** 'host:port' of the uas-echo trunk. */
  trunkAddress: string;
  /** 'host:port' the Relay registered at the registrar: where uac-inbound calls in. */
  registrarContact: string;
}

// These commands, callable from test pages (test/browser/sip.test.ts).
declare module 'vitest/browser' {
  interface BrowserCommands {
    /** `sipLocalIp`: where Janus's SIP side is (startJanus's option; default 10.77.0.1). */
    startSipRelay(options?: { sipLocalIp?: string }): Promise<SipRelayHandle>;
    /** sipp running test/sipp/<scenario>.xml, bound to 10.77.0.2; stopped with the Relay. */
    startSippFar(
      id: string,
      scenario: string,
      options?: { remote?: string; service?: string; vars?: Record<string, string | number> },
    ): Promise<{ sippId: string; address: string }>;
    /** What that sipp saw: once it exited (`wait: true`, at most 30 s), else so far. */
    sippResult(sippId: string, options?: { wait?: boolean }): Promise<SippResult>;
    stopSippFar(sippId: string): Promise<void>;
    sipRelayStats(
      id: string,
    ): Promise<{ calls: number; sip?: { available: boolean; calls: number } }>;
    stopSipRelay(id: string): Promise<void>;
  }
}
