/**
 * Helpers of the tests that read the page's own peer connections (supervision, the SIP gateway,
 * sfu rooms): every connection the page makes, and what each one sent and received of audio
 * (getStats), waited for without sleeping.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { AssistSnapshot, RelayClient } from 'relaycall/core';
import { within } from './helpers.js';

/** Every peer connection the page made in the current test, once `recordConnections()` is on. */
export const connections: RTCPeerConnection[] = [];
const Native = globalThis.RTCPeerConnection;

class Recorded extends Native {
  constructor(config?: RTCConfiguration) {
    super(config);
    connections.push(this);
  }
}

/**
 * Records in `connections` the peer connections the page makes in the tests of this file (or of
 * the describe it is called in): from before the first, emptied after each, off after the last.
 */
export function recordConnections(): void {
  beforeAll(() => {
    globalThis.RTCPeerConnection = Recorded;
  });
  afterEach(() => {
    connections.splice(0);
  });
  afterAll(() => {
    globalThis.RTCPeerConnection = Native;
    connections.splice(0);
  });
}

/** Audio bytes a connection sent and received so far (RTP, per its statistics). */
export async function audioBytes(
  pc: RTCPeerConnection,
): Promise<{ sent: number; received: number }> {
  let sent = 0;
  let received = 0;
  (await pc.getStats()).forEach((report: { type: string; kind?: string } & RTCStats) => {
    if (report.kind !== 'audio') return;
    if (report.type === 'outbound-rtp')
      sent += (report as RTCOutboundRtpStreamStats).bytesSent ?? 0;
    if (report.type === 'inbound-rtp')
      received += (report as RTCInboundRtpStreamStats).bytesReceived ?? 0;
  });
  return { sent, received };
}

/** Resolves once `check()` holds, read every 100 ms (statistics announce nothing). */
export function poll(
  check: () => Promise<boolean>,
  label: () => string,
  ms = 10_000,
): Promise<void> {
  let stopped = false;
  const loop = (async () => {
    while (!stopped && !(await check())) await new Promise((r) => setTimeout(r, 100));
  })();
  return within(loop, ms, 'condition').then(
    () => undefined,
    (error: Error) => {
      stopped = true;
      throw new Error(`${error.message}: ${label()}`);
    },
  );
}

/** Resolves once `pc` has received more than `bytes` audio bytes. */
export async function receives(pc: RTCPeerConnection, label: string, bytes = 0): Promise<void> {
  let last = { sent: 0, received: 0 };
  await poll(
    async () => (last = await audioBytes(pc)).received > bytes,
    () => `${label}: ${JSON.stringify(last)}`,
  );
}

/** The open connection on which `stream`'s tracks arrive. */
export function receiving(stream: MediaStream | null | undefined, label: string) {
  const tracks = stream?.getTracks() ?? [];
  const pc = connections.find(
    (c) =>
      c.connectionState !== 'closed' &&
      tracks.length > 0 &&
      c.getReceivers().some((r) => tracks.includes(r.track)),
  );
  if (!pc) throw new Error(`no connection receiving ${label}`);
  return pc;
}

/**
 * What monitoring looks like at the supervisor of `id`: a link of its own with the party `agent`
 * and with `customer`, each receiving audio and sending none, and no local stream. Resolves
 * with the two links, the agent's first.
 */
export async function monitorsOnly(
  supervisor: RelayClient,
  id: string,
  agent: string,
  customer: string,
): Promise<[RTCPeerConnection, RTCPeerConnection]> {
  const assist = () => supervisor.store.getState().assists[id];
  const link = (resource: string) =>
    receiving(
      assist()?.parties.find((p) => p.resource === resource)?.stream,
      `${resource} at the supervisor`,
    );
  const [toAgent, toCustomer] = [link(agent), link(customer)];
  expect(toAgent).not.toBe(toCustomer);
  await receives(toAgent, 'the supervisor hears the agent');
  await receives(toCustomer, 'the supervisor hears the customer');
  expect((await audioBytes(toAgent)).sent).toBe(0);
  expect((await audioBytes(toCustomer)).sent).toBe(0);
  expect(assist()?.localStream).toBeNull();
  return [toAgent, toCustomer];
}

/** An assist's audio links: the supervisor's with each party, and each party's with it. */
export interface AssistLinks {
  toAgent: RTCPeerConnection;
  toCustomer: RTCPeerConnection;
  atAgent: RTCPeerConnection;
  atCustomer: RTCPeerConnection;
}

/**
 * What whispering to the agent `agentId` looks like: the supervisor sends its microphone on its
 * link with the agent only, and the agent hears it while the customer hears nothing.
 */
export async function whispersToAgentOnly(
  whispering: AssistSnapshot,
  agentId: string | null,
  { toAgent, toCustomer, atAgent, atCustomer }: AssistLinks,
): Promise<void> {
  expect(whispering).toMatchObject({ mode: 'whisper', agent: agentId });
  expect(whispering.localStream?.getAudioTracks()).toHaveLength(1);
  await receives(atAgent, 'the agent hears the whisper');
  expect((await audioBytes(toAgent)).sent).toBeGreaterThan(0);
  expect((await audioBytes(atCustomer)).received).toBe(0);
  expect((await audioBytes(toCustomer)).sent).toBe(0);
}
