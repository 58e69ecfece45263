/**
 * Helpers of the supervision tests in Chromium: every peer connection the page makes, and what
 * each one sent and received of audio (getStats), waited for without sleeping.
 */
import { within } from './helpers.js';

/** Every peer connection the page made since `recordConnections()`. */
export const connections: RTCPeerConnection[] = [];
const Native = globalThis.RTCPeerConnection;

/** Records the connections the page makes from now on (until `restoreConnections()`). */
export function recordConnections(): void {
  globalThis.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      connections.push(this);
    }
  } as typeof RTCPeerConnection;
}

export function restoreConnections(): void {
  globalThis.RTCPeerConnection = Native;
  connections.splice(0);
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
