/**
 * What an outside attack suite found (and the Relay now holds against), as fuzz lanes:
 *
 * - reset-upgrade: clients resetting their connection (TCP RST) at every point where the Relay
 *   refuses or takes an upgrade (403, 404, 400, an accepted 101; 429 and 503 in the saturation
 *   phases). A reset written to an upgrade socket without an 'error' listener ends the process:
 *   the run's crash count and its final /healthz catch it.
 * - kick-off: a caller trying to get the person it calls disconnected: early signals up to and
 *   past the limits, then bursts into the active call. The reader reads; it must keep its
 *   session and receive every signal the Relay accepted, in order.
 * - address-saturation: one address takes its whole share of unauthenticated sockets (429 past
 *   it) while a client from another address connects and a dropped session resumes.
 * - slow-request: trickled headers, a trickled upgrade, an idle connection and an endless body,
 *   each closed within the documented deadline (headersTimeoutMs, requestTimeoutMs) plus the
 *   server's one-second check.
 */
import { connect } from 'node:net';
import { CloseCodes, RpcErrorCodes } from 'relaycall/server';
import {
  RESET_MOMENTS,
  resetDuringUpgrade,
  upgradeRequest,
  type ResetMoment,
} from '../../server/rawHttp.js';
import { Partner, openConnected, upgradeStatus, type Harness } from './lanes.js';
import { FuzzSocket, Pacer, sleep } from './socket.js';

/** Every answer a reset upgrade may have got before it went (or none). */
export const RESET_OUTCOMES = ['no answer', '101', '400', '403', '404', '429', '503'];

/** Resets `request` `rounds` times at each moment, in parallel; logs what answer each got. */
export async function resetsAtEveryMoment(
  h: Harness,
  url: string,
  request: string,
  rounds: number,
  localAddress?: string,
): Promise<void> {
  const attempts: Promise<void>[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const moment of RESET_MOMENTS)
      attempts.push(resetOnce(h, url, request, moment, localAddress));
  }
  await Promise.all(attempts);
}

async function resetOnce(
  h: Harness,
  url: string,
  request: string,
  moment: ResetMoment,
  localAddress?: string,
): Promise<void> {
  const answer = await resetDuringUpgrade(url, request, moment, localAddress);
  const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'no answer';
  h.log.socket('reset-upgrade');
  h.log.outcome('reset-upgrade', status);
  if (!RESET_OUTCOMES.includes(status)) {
    h.log.fail(`reset-upgrade ${moment}`, `answered ${JSON.stringify(answer.slice(0, 60))}`);
  }
}

// ---- resets at the refusals of the main phase --------------------------------------------

/** Resets at a refused origin, an unknown path, a malformed handshake and an accepted upgrade. */
export async function runResets(h: Harness, url: string, rounds: number): Promise<void> {
  const requests = [
    upgradeRequest({ origin: 'https://evil.example' }),
    upgradeRequest({ origin: h.origin, path: '/api/relay/nowhere' }),
    upgradeRequest({ origin: h.origin, key: 'nope' }),
    upgradeRequest({ origin: h.origin }),
  ];
  for (let round = 0; round < rounds; round++) {
    for (const request of requests) await resetsAtEveryMoment(h, url, request, 1, '127.0.7.1');
  }
}

// ---- kick-off: a caller against the person it calls ------------------------------------

export async function runKickOff(h: Harness, lane: number, count: number): Promise<void> {
  const callerToken = await h.issue(`fz-k${lane}`);
  const reader = await Partner.connect(h, `fz-kr${lane}`, `kick-off lane ${lane} reader`);
  for (let k = 0; k < count && reader.sock.open; k++) {
    await kickOff(h, `kick-off lane ${lane} #${k}`, callerToken, reader);
  }
  if (!reader.sock.open) {
    h.log.fail(`kick-off lane ${lane}`, `the reader lost its session (${reader.sock.closeCode})`);
  }
  h.log.outcome('kick-off', 'reader kept its session', reader.sock.open ? 1 : 0);
  await reader.sock.close();
}

async function kickOff(
  h: Harness,
  where: string,
  callerToken: string,
  reader: Partner,
): Promise<void> {
  const { sock: caller } = await openConnected(h, `${where} caller`, callerToken);
  h.log.socket('kick-off');
  const callId = String((await caller.call('call.invite', { to: reader.resource })).callId);
  if (!(await reader.until(() => reader.open.has(callId)))) {
    h.log.fail(where, 'the reader was never rung');
    await caller.close();
    return;
  }
  const pad = 'k'.repeat(h.limits.maxFrameBytes - 200);
  const pacer = new Pacer(h.pace.rate, h.pace.burst);
  let id = 3_000_000;
  let accepted = 0;
  const send = (accept: (number | 'result')[], onResult: () => void) => {
    const frameId = id++;
    caller.send({
      category: 'kick-off',
      sub: accept.includes(RpcErrorCodes.limitExceeded) ? 'early-signal' : 'burst-signal',
      data: JSON.stringify({
        jsonrpc: '2.0',
        id: frameId,
        method: 'call.signal',
        params: { callId, signal: { sdp: pad, n: frameId } },
      }),
      reply: {
        id: frameId,
        accept,
        // Called for every reply; a result (the signal was taken) is the only one with one.
        check: (result) => {
          if (result !== undefined) onResult();
          return undefined;
        },
      },
      malformed: false,
    });
  };
  // Early signals, past both limits: the rest are refused to the caller, not held.
  const early = h.limits.maxEarlySignals + 4;
  await pacer.take(early);
  for (let i = 0; i < early; i++) send(['result', RpcErrorCodes.limitExceeded], () => accepted++);
  await caller.fence();
  await reader.sock.call('call.answer', { callId });
  // Then bursts into the active call, as fast as the caller's rate limit allows.
  for (let burst = 0; burst < 3; burst++) {
    await pacer.take(20);
    for (let i = 0; i < 20; i++) send(['result', RpcErrorCodes.peerBacklogged], () => accepted++);
    await caller.fence();
  }
  const delivered = await reader.until(() => (reader.signals.get(callId) ?? 0) >= accepted, 10_000);
  if (!delivered) {
    h.log.fail(
      where,
      `the reader got ${reader.signals.get(callId) ?? 0} of the ${accepted} signals accepted` +
        (reader.sock.open ? '' : ` and was closed (${reader.sock.closeCode})`),
    );
  }
  if (reader.sock.closeCode === CloseCodes.slowConsumer) {
    h.log.fail(where, 'the reader, which reads, was closed with 4010');
  }
  await caller.call('call.hangup', { callId }).catch(() => undefined);
  reader.signals.delete(callId);
  await caller.close();
}

// ---- one address takes its whole share --------------------------------------------------

export async function runAddressSaturation(h: Harness, url: string): Promise<void> {
  const where = 'address saturation';
  const crowded = '127.0.6.1';
  // A session of another address, which will drop and resume while the crowd waits.
  const token = await h.issue('fz-resumer');
  const { sock: before, result } = await openConnected(
    h,
    `${where} resumer`,
    token,
    {},
    '127.0.6.2',
  );
  // The crowded address takes its whole share; the next upgrade from it is refused.
  const crowd = await Promise.all(
    Array.from({ length: h.limits.maxUnauthenticatedPerAddress }, (_, i) =>
      FuzzSocket.open(h.wsUrl, `${where} crowd ${i}`, h.log, {
        origin: h.origin,
        localAddress: crowded,
      }),
    ),
  );
  for (let i = 0; i < crowd.length; i++) {
    h.log.socket('address-saturation');
    h.log.outcome('address-saturation', '101');
  }
  for (let i = 0; i < 5; i++) {
    const refused = await upgradeStatus(h.wsUrl, h.origin, crowded);
    h.log.socket('address-saturation');
    h.log.outcome('address-saturation', refused.label);
    if (refused.label !== '429 rate_limited') {
      h.log.fail(where, `an upgrade past the address's share answered ${refused.label}`);
    }
  }
  await resetsAtEveryMoment(h, url, upgradeRequest({ origin: h.origin }), 2, crowded);
  // Meanwhile a dropped session of another address resumes, and a newcomer connects.
  before.ws.terminate();
  await before.closed;
  const { sock: back, result: resumed } = await openConnected(
    h,
    `${where} resumer, back`,
    await h.issue('fz-resumer'),
    { sessionId: result.sessionId, lastSeq: 0 },
    '127.0.6.2',
  );
  h.log.socket('address-saturation');
  if (resumed.resumed === true) h.log.outcome('address-saturation', 'another address resumed');
  else h.log.fail(where, `a session of another address did not resume: ${JSON.stringify(resumed)}`);
  const { sock: newcomer } = await openConnected(
    h,
    `${where} newcomer`,
    await h.issue('fz-newcomer'),
    {},
    '127.0.6.3',
  );
  h.log.socket('address-saturation');
  h.log.outcome('address-saturation', 'another address connected');
  for (const sock of crowd) sock.ws.terminate();
  await Promise.all([back.close(), newcomer.close()]);
  const deadline = performance.now() + 5_000;
  while (h.relay.stats().unauthenticated > 0 && performance.now() < deadline) await sleep(20);
}

// ---- slow requests: the standalone server's deadlines -------------------------------------

/** Slack above deadline + the one-second check, for a process the fuzz run keeps saturated. */
const DEADLINE_SLACK_MS = 3_000;

/** Starts each kind of slow request `count` times; they end on their own (awaited at the end). */
export function runSlowRequests(h: Harness, port: number, count: number): void {
  const { headersTimeoutMs, requestTimeoutMs } = h.limits;
  const header = 'GET /healthz HTTP/1.1\r\nHost: relay.test\r\nX-Trickle: ';
  const body =
    'POST /api/relay/rest/jwt HTTP/1.1\r\nHost: relay.test\r\nContent-Type: application/json\r\n' +
    'Transfer-Encoding: chunked\r\n\r\n';
  const kinds: [string, number, string, string][] = [
    ['trickled headers', headersTimeoutMs, '', header],
    ['trickled upgrade', headersTimeoutMs, '', upgradeRequest({ origin: h.origin }).slice(0, -4)],
    ['idle connection', headersTimeoutMs, '', ''],
    ['endless chunked body', requestTimeoutMs, body, '1\r\n \r\n'],
  ];
  for (let i = 0; i < count; i++) {
    for (const [sub, deadline, opening, drip] of kinds) {
      h.background.push(slowRequest(h, port, `slow-request ${sub} #${i}`, deadline, opening, drip));
    }
  }
}

async function slowRequest(
  h: Harness,
  port: number,
  where: string,
  deadlineMs: number,
  opening: string,
  drip: string,
): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.8.1' });
  socket.on('error', () => undefined);
  socket.resume();
  await new Promise((resolve) => socket.once('connect', resolve));
  h.log.socket('slow-request');
  const started = performance.now();
  if (opening) socket.write(opening);
  let at = 0;
  const timer = drip
    ? setInterval(() => {
        if (!socket.destroyed) socket.write(drip[at++ % drip.length] ?? ' ');
      }, 250)
    : undefined;
  const bound = deadlineMs + 1_000 + DEADLINE_SLACK_MS;
  const giveUp = setTimeout(() => socket.destroy(), bound + 5_000);
  await new Promise((resolve) => socket.once('close', resolve));
  clearInterval(timer);
  clearTimeout(giveUp);
  const elapsed = performance.now() - started;
  if (elapsed < deadlineMs - 50 || elapsed > bound) {
    h.log.outcome('slow-request', 'closed outside the deadline');
    h.log.fail(where, `closed after ${Math.round(elapsed)} ms; the deadline is ${deadlineMs} ms`);
  } else {
    h.log.outcome('slow-request', 'closed within the deadline');
  }
}
