/**
 * Shared pieces of the ICE restart tests (the outage project): peer connections held to the
 * namespace's veth address 10.77.0.1 (va), so that taking va down really cuts their media path,
 * what they did of ICE restarts, and waits on their statistics.
 */
import { commands } from 'vitest/browser';
import type { IceRestartOptions } from 'relaycall/core';

/** Whether an ICE candidate is on the veth address 10.77.0.1 (va), taken down and up by the tests. */
export const onVeth = (candidate: string) => / 10\.77\.0\.1 \d+ typ /.test(candidate);

/** Short enough for a test, long enough for a loaded machine to reconnect within. */
export const ICE_RESTART: IceRestartOptions = {
  graceMs: 1_000,
  attemptTimeoutMs: 6_000,
  maxAttempts: 8,
};

/** Every VethOnly connection made since the last `resetVeth()`, in order. */
export const made: RTCPeerConnection[] = [];

/** What the VethOnly connections did of ICE restarts since the last `resetVeth()`. */
export const restarts = {
  /** `restartIce()` calls. */
  called: 0,
  /** Restart offers set locally: an offer once the connection has a remote description. */
  offered: 0,
  /** Restart offers answered: a remote offer once the connection has a remote description. */
  answered: 0,
};

const keepOnVeth = (sdp: string | undefined) =>
  sdp
    ?.split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || onVeth(line))
    .join('\r\n');

/**
 * A peer connection that uses and hands out only 10.77.0.1 candidates: the other side's (trickled
 * or in its SDP) and its own (as they trickle), so that the media path runs over va and a downed
 * va really cuts it. Records itself in `made` and counts its ICE restarts in `restarts`.
 */
export class VethOnly extends RTCPeerConnection {
  constructor(config?: RTCConfiguration) {
    super(config);
    made.push(this);
    // First listener of all: the other candidates never reach the library's own listener.
    this.addEventListener('icecandidate', (event) => {
      const line = event.candidate?.candidate;
      if (line && !onVeth(line)) event.stopImmediatePropagation();
    });
  }

  override addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
    const line = candidate?.candidate;
    if (line && !onVeth(line)) return Promise.resolve();
    return super.addIceCandidate(candidate ?? undefined);
  }

  override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    if (description.type === 'offer' && this.remoteDescription) restarts.answered += 1;
    return super.setRemoteDescription({ type: description.type, sdp: keepOnVeth(description.sdp) });
  }

  override setLocalDescription(description?: RTCLocalSessionDescriptionInit): Promise<void> {
    // Without a description, the browser creates an offer unless it has one to answer.
    const type =
      description?.type ?? (this.signalingState === 'have-remote-offer' ? 'answer' : 'offer');
    // An offer once the call was negotiated can only be a restart's.
    if (type === 'offer' && this.remoteDescription) restarts.offered += 1;
    return super.setLocalDescription(description);
  }

  override restartIce(): void {
    restarts.called += 1;
    super.restartIce();
  }
}

const Native = RTCPeerConnection;

/** Whether a new (plain) connection gathers a candidate on 10.77.0.1. */
async function gathersOnVeth(): Promise<boolean> {
  const pc = new Native({ iceServers: [] });
  try {
    const found = new Promise<boolean>((resolve) => {
      pc.addEventListener('icecandidate', ({ candidate }) => {
        if (!candidate) resolve(false);
        else if (onVeth(candidate.candidate)) resolve(true);
      });
    });
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    return await found;
  } finally {
    pc.close();
  }
}

/**
 * For `afterEach`: va up again, and nothing made or counted yet. Resolves once Chromium gathers
 * on 10.77.0.1 again: it notices the address back a moment after the link, and a connection
 * made meanwhile would have no candidate a VethOnly keeps.
 */
export async function resetVeth(): Promise<void> {
  await commands.setLink('va', 'up');
  made.length = 0;
  Object.assign(restarts, { called: 0, offered: 0, answered: 0 });
  await eventually(gathersOnVeth, () => 'Chromium to gather on 10.77.0.1 once va is up again');
  await networkSettled();
}

/**
 * Waits until Chromium has taken in the last address change: it cancels requests in flight when
 * it notices one (ERR_NETWORK_CHANGED), which would fail the next test file's import. Settled
 * means its network information stopped changing for a second and a request to the test server
 * went through after that.
 */
async function networkSettled(): Promise<void> {
  const connection = (navigator as { connection?: EventTarget }).connection;
  let changedAt = performance.now();
  const changed = () => {
    changedAt = performance.now();
  };
  connection?.addEventListener('change', changed);
  try {
    await eventually(
      async () => {
        if (performance.now() - changedAt < 1_000) return false;
        const started = performance.now();
        const reached = await fetch(location.href, { cache: 'no-store' }).then(
          (response) => response.ok,
          () => false,
        );
        // A change while the request was out may have cancelled it: only a clean one counts.
        return reached && changedAt < started;
      },
      () => "Chromium's network to settle after va came back (requests to the test server)",
      15_000,
    );
  } finally {
    connection?.removeEventListener('change', changed);
  }
}

/** The new ICE username fragment of an SDP (a restart changes it). */
export const ufragOf = (sdp: string | undefined) => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1];

/** Media `pc` sent, received and decoded so far, and the addresses of its selected pair. */
export async function media(pc: RTCPeerConnection) {
  const stats = await pc.getStats();
  let bytesSent = 0;
  let bytesReceived = 0;
  let framesDecoded = 0;
  let pair: string[] = [];
  stats.forEach((report: Record<string, unknown>) => {
    if (report.type === 'outbound-rtp') bytesSent += Number(report.bytesSent ?? 0);
    if (report.type === 'inbound-rtp') {
      bytesReceived += Number(report.bytesReceived ?? 0);
      if (report.kind === 'video') framesDecoded += Number(report.framesDecoded ?? 0);
    }
    if (report.type === 'transport' && typeof report.selectedCandidatePairId === 'string') {
      const selected = stats.get(report.selectedCandidatePairId) as Record<string, string>;
      const address = (id: string | undefined) =>
        String((stats.get(id ?? '') as { address?: string } | undefined)?.address);
      if (selected)
        pair = [address(selected.localCandidateId), address(selected.remoteCandidateId)];
    }
  });
  return {
    bytesSent,
    bytesReceived,
    framesDecoded,
    pair,
    ice: pc.iceConnectionState,
    connection: pc.connectionState,
  };
}

/** Checks `check` every 250 ms until it holds; fails saying `describe()` after `ms`. */
export async function eventually(
  check: () => Promise<boolean>,
  describe: () => string,
  ms = 20_000,
) {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What `flowsOnVeth` waits for. */
export interface Flow {
  /** What flows: bytes received (audio and video; the default) or video frames decoded. */
  count?: 'bytesReceived' | 'framesDecoded';
  /** The count to go above (default 0): what had arrived before, say. */
  above?: number;
  /** Then this much more (default 0): media that keeps flowing, not a burst that stopped. */
  more?: number;
  /**
   * The selected pair it must flow on: `'veth'` (the default) both ends on the veth pair, one of
   * them 10.77.0.1, as peer-reflexive candidates may come from 10.77.0.2; `'va'` both on 10.77.0.1.
   */
  pair?: 'veth' | 'va';
  /** How long to wait, in ms (default 20 000). */
  ms?: number;
}

/** Resolves with the count once media flows into `pc` over the veth link, as `flow` says. */
export async function flowsOnVeth(pc: RTCPeerConnection, label: string, flow: Flow = {}) {
  const { count = 'bytesReceived', above = 0, more = 0, pair = 'veth', ms = 20_000 } = flow;
  const onPair = (addresses: string[]) =>
    addresses.length === 2 &&
    (pair === 'va'
      ? addresses.every((address) => address === '10.77.0.1')
      : addresses.every((address) => address.startsWith('10.77.0.')) &&
        addresses.includes('10.77.0.1'));
  let last = await media(pc);
  let first = 0;
  await eventually(
    async () => {
      last = await media(pc);
      if (first === 0 && last[count] > above) first = last[count];
      return first > 0 && last[count] >= first + more && onPair(last.pair);
    },
    () => `${label}: ${JSON.stringify(last)} (first ${count} above ${above}: ${first})`,
    ms,
  );
  return last[count];
}

/** Resolves with the count once `pc` received nothing for `quietMs` (the link is cut). */
export async function stalled(
  pc: RTCPeerConnection,
  label: string,
  { count = 'bytesReceived', quietMs = 750 }: Pick<Flow, 'count'> & { quietMs?: number } = {},
) {
  let before = -1;
  let now = (await media(pc))[count];
  await eventually(
    async () => {
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      before = now;
      now = (await media(pc))[count];
      return now === before;
    },
    () => `${label}: ${count} ${before} then ${now}`,
  );
  return now;
}
