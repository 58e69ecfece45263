/**
 * Shared pieces of the SIP gateway tests in Node (test/server/sip*.test.ts): a Relay whose
 * gateway runs on a real Janus, with trunks played by sipp; SDP written by hand as a browser
 * writes it (Node has no WebRTC: Janus turns it into the INVITE all the same); far ends that say
 * what they saw when a test fails, and waits with deadlines that name what they waited for.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, onTestFailed } from 'vitest';
import { systemClock } from '../../src/server/clock.js';
import {
  sippScenario,
  startJanus,
  startSipp,
  type StartSippOptions,
  type TestJanus,
  type TestSipp,
} from 'relaycall/testing';
import { OTHER_PROJECT, startRelay, until, type TestClient, type TestRelay } from './helpers.js';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16)).join(':');

/** What a browser-like audio section says: its ICE credentials, DTLS role, mid and payloads. */
export interface AudioSection {
  /** ICE username fragment (default 'Nodeufrag'); a restart offers a new one. */
  ufrag?: string;
  /** 'actpass' in an offer (the default), 'active' in an answer. */
  setup?: 'actpass' | 'active';
  mid?: string;
  /** Payload types of the m-line (default Opus, PCMU and telephone-event). */
  payloads?: string;
}

/** The lines of a browser-like audio m-section: Opus, PCMU, PCMA, telephone-event. */
export function audioSection({
  ufrag = 'Nodeufrag',
  setup = 'actpass',
  mid = '0',
  payloads = '111 0 101',
}: AudioSection = {}): string[] {
  return [
    `m=audio 9 UDP/TLS/RTP/SAVPF ${payloads}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${ufrag}icepasswordicepassword`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${FINGERPRINT}`,
    `a=setup:${setup}`,
    `a=mid:${mid}`,
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=ssrc:1000 cname:node',
  ];
}

/** A session description of the m-sections `lines`, bundled as `mids`. */
export function sessionSdp(lines: string[], mids: string[]): string {
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mids.join(' ')}`,
    'a=msid-semantic: WMS',
    ...lines,
    '',
  ].join('\r\n');
}

/** A browser-like SDP with one audio section. */
export const audioSdp = (section: AudioSection = {}) =>
  sessionSdp(audioSection(section), [section.mid ?? '0']);

/** The mid and payload types of the audio m-line of the gateway's SDP, to answer on. */
export const audioOf = (gatewayOffer: string) => ({
  mid: /a=mid:(\S+)/.exec(gatewayOffer)?.[1] ?? '0',
  payloads: /m=audio \d+ [A-Z/]+ ([0-9 ]+)/.exec(gatewayOffer)?.[1] ?? '0',
});

/** An answer to the gateway's offer: its audio m-line's mid and payloads, sendrecv. */
export const answerTo = (gatewayOffer: string) =>
  audioSdp({ setup: 'active', ...audioOf(gatewayOffer) });

/** The ICE username fragment of an SDP (a restart changes it). */
export const ufragOf = (text: string) => /a=ice-ufrag:(\S+)/.exec(text)?.[1];

/** The Relay, its Janus and the trunks of a file's tests, once started. */
export interface SipGateway {
  janus: TestJanus;
  relay: TestRelay;
  /** The registrar of project globex's trunk, where the Relay registers to receive calls. */
  registrar: TestSipp;
  /** Project acme's PSTN trunk, when asked for: answers (and echoes) every call it gets. */
  trunk: TestSipp | undefined;
  /**
   * A far-end sipp running `scenario` for the current test, stopped after it. If the test
   * fails, what it saw is printed, with the Relay's stats, the UDP sockets and Janus's log.
   */
  far(scenario: string, options?: Partial<StartSippOptions>): Promise<TestSipp>;
  /** The next `method` notification about `callId`; on timeout, says what the client got. */
  event(client: TestClient, method: string, callId: string): Promise<Record<string, unknown>>;
}

export interface SipGatewayOptions {
  /** Start a sipp (uas-echo) as project acme's trunk; without it, nothing answers there. */
  trunk?: boolean;
  /** Project globex's numbers, each routed to a resource, that the registrar calls in on. */
  routes: Record<string, string>;
  /** How long a call from globex's trunk rings, in ms. */
  ringTimeoutMs: number;
}

/**
 * Starts the gateway before this file's tests (Janus, the trunks, a Relay registered with the
 * registrar) and stops it after them; far ends stop after each test.
 */
export function sipGatewayPerFile(options: SipGatewayOptions): SipGateway {
  const sipps: TestSipp[] = [];
  const gateway = {
    async far(scenario: string, sippOptions: Partial<StartSippOptions> = {}) {
      const sipp = await startSipp({ scenario: sippScenario(scenario), ...sippOptions });
      sipps.push(sipp);
      // What the far end saw is what explains a failure (or a timeout) here.
      onTestFailed(() => {
        console.log(`sipp ${scenario} messages:\n${sipp.messages()}`);
        console.log(`relay stats: ${JSON.stringify(gateway.relay.relay.stats())}`);
        console.log(`UDP sockets on the veth pair:\n${udpSockets()}`);
        console.log(`janus.log:\n${janusLogTail(gateway.janus, 60)}`);
      });
      return sipp;
    },
    event: (client: TestClient, method: string, callId: string) =>
      within(
        client.next(method, (p) => p.callId === callId),
        () =>
          `${method} of ${callId}; the client got: ${client.notifications
            .map((n) => n.method)
            .join(', ')}; relay stats: ${JSON.stringify(gateway.relay.relay.stats())}`,
      ),
  } as SipGateway;

  beforeAll(async () => {
    const [janus, registrar, trunk] = await Promise.all([
      startJanus({ plugins: ['sip'], logLevel: 4 }),
      startSipp({ scenario: sippScenario('registrar'), calls: 100 }),
      options.trunk ? startSipp({ scenario: sippScenario('uas-echo'), calls: 100 }) : undefined,
    ]);
    Object.assign(gateway, { janus, registrar, trunk });
    gateway.relay = await startRelay({
      clock: systemClock as never,
      janus: { url: janus.url, secret: janus.secret },
      sip: {
        trunks: {
          acme: {
            proxy: trunk ? `sip:${trunk.address}` : 'sip:10.77.0.2:5999',
            domain: 'trunk.example',
            numbers: ['+15550001111'],
            sipDomains: ['10.77.0.2'],
          },
          [OTHER_PROJECT.id]: {
            proxy: `sip:${registrar.address}`,
            username: 'relay',
            password: 'registrar-password',
            numbers: Object.keys(options.routes),
            routes: options.routes,
            ringTimeoutMs: options.ringTimeoutMs,
          },
        },
      },
    });
    await until('the gateway is up and registered', async () => {
      const stats = gateway.relay.relay.stats() as { sip?: { available: boolean } };
      return stats.sip?.available === true && registrar.snapshot().contacts.length > 0;
    });
  }, 60_000);

  afterEach(async () => {
    for (const sipp of sipps.splice(0)) await sipp.stop();
  });

  afterAll(async () => {
    await gateway.relay?.close();
    await Promise.all([gateway.trunk?.stop(), gateway.registrar?.stop()]);
    await gateway.janus?.stop();
  });
  return gateway;
}

/** Who holds which UDP port on 10.77.0.x: a SIP message lost in the namespace shows here. */
export function udpSockets(): string {
  try {
    return execFileSync('ss', ['-uanp'], { encoding: 'utf8', timeout: 5_000 })
      .split('\n')
      .filter((line) => line.includes('10.77.0.'))
      .join('\n');
  } catch (error) {
    return `(ss failed: ${String(error)})`;
  }
}

export function janusLogTail(janus: TestJanus, lines: number): string {
  const path = join(janus.dir, 'janus.log');
  if (!existsSync(path)) return `(no ${path})`;
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Each SIP step has its own deadline, well inside the test's, naming what it waited for. */
const STEP_MS = 12_000;

export function within<T>(promise: Promise<T>, what: () => string, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms waiting for ${what()}`)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The start line of every SIP message a sipp sent or received, in order. */
export function firstLines(sipp: TestSipp): string {
  return sipp
    .messages()
    .split('\n')
    .filter(
      (line) => /^(SIP\/2\.0 \d+|[A-Z]+ sip:)/.test(line) || / message (sent|received)/.test(line),
    )
    .join('\n');
}

/** The INVITEs (by CSeq, retransmissions aside) a sipp received so far. */
export function invitesReceived(sipp: TestSipp): number {
  const cseqs = new Set<string>();
  for (const block of sipp.messages().split(/^-{20,}.*$/m)) {
    if (!/message received/.test(block) || !/^INVITE sip:/m.test(block)) continue;
    cseqs.add(/^CSeq:\s*(\d+)/im.exec(block)?.[1] ?? block);
  }
  return cseqs.size;
}
