/**
 * Lanes of hostile sockets. Each lane runs socket lives one after another; each life is drawn
 * from its own seeded generator (seed, lane, life), so a seed reproduces every frame.
 *
 * - authenticated lanes: connect (protocol version 2), place an answered and maybe a ringing
 *   call to a partner session, join rooms (roomLanes.ts: with and without the room scopes, a
 *   partner and a filler in them), send batches of hostile frames (each batch fenced by a ping),
 *   then end the socket one of the hostile ways (oversize, binary, bad UTF-8, malformed run,
 *   flood) or cleanly;
 * - unauthenticated lanes: a batch of hostile frames before relay.connect, then a bad or
 *   crowded or hijacking relay.connect, a violation, or silence until the auth timeout;
 * - the slow-reader lane: a callee that stops reading while the caller sends big signals;
 * - saturation: sockets that never authenticate up to maxUnauthenticatedSockets, upgrades
 *   refused over it, and malformed handshakes.
 */
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import {
  CloseCodes,
  RpcErrorCodes,
  type RelayLimits,
  type RelayServer,
  type Scope,
} from 'relaycall/server';
import {
  AUTHED_BATCH_WEIGHTS,
  AUTHED_TERMINAL_WEIGHTS,
  FrameGen,
  UNAUTHED_BATCH_WEIGHTS,
  UNAUTHED_TERMINAL_WEIGHTS,
  terminal,
  type Category,
  type Frame,
  type FuzzEnv,
  type SocketModel,
  type Terminal,
} from './frames.js';
import { Rng, deriveSeed } from './prng.js';
import {
  FuzzSocket,
  OWED_WITHIN_MS,
  Pacer,
  sleep,
  type Notification,
  type RunLog,
} from './socket.js';
import { resetsAtEveryMoment } from './hardening.js';
import { LaneRooms, PARTNER_SCOPES, laneScopes } from './roomLanes.js';
import { rawExchange, upgradeRequest } from '../../server/rawHttp.js';

const MALFORMED_LIMIT = 20;

export interface Harness {
  seed: number;
  log: RunLog;
  relay: RelayServer;
  wsUrl: string;
  /** The Origin every legitimate socket sends (the Relay has allowedOrigins set). */
  origin: string;
  project: string;
  limits: RelayLimits;
  /** Client-side pacing of long-lived sockets: below messagesPerSecond / messageBurst. */
  pace: { rate: number; burst: number };
  /** A fresh valid JWT for `resource` (in-process, like a back end); default scopes unless given. */
  issue(resource: string, scopes?: Scope[]): Promise<string>;
  env: Omit<FuzzEnv, 'foreignCallIds' | 'foreignSessionIds' | 'foreignRoomIds'>;
  registry: Registry;
  /** Waits that outlive a life (sockets left to time out); awaited at the end. */
  background: Promise<void>[];
}

/** Calls, sessions and rooms of every lane and the bystanders, for "someone else's" ids. */
export class Registry {
  private readonly calls = new Map<string, string[]>();
  private readonly sessions = new Map<string, string>();
  private readonly rooms = new Map<string, string[]>();

  setCalls(owner: string, ids: string[]): void {
    this.calls.set(owner, ids);
  }

  setSession(owner: string, id: string): void {
    this.sessions.set(owner, id);
  }

  setRooms(owner: string, ids: string[]): void {
    this.rooms.set(owner, ids);
  }

  remove(owner: string): void {
    this.calls.delete(owner);
    this.sessions.delete(owner);
    this.rooms.delete(owner);
  }

  foreignRooms(owner: string): string[] {
    const out: string[] = [];
    for (const [key, ids] of this.rooms) if (key !== owner) out.push(...ids);
    return out;
  }

  foreignCalls(owner: string): string[] {
    const out: string[] = [];
    for (const [key, ids] of this.calls) if (key !== owner) out.push(...ids);
    return out;
  }

  foreignSessions(owner: string): string[] {
    const out: string[] = [];
    for (const [key, id] of this.sessions) if (key !== owner) out.push(id);
    return out;
  }
}

function envFor(h: Harness, owner: string): FuzzEnv {
  return {
    ...h.env,
    foreignCallIds: () => h.registry.foreignCalls(owner),
    foreignSessionIds: () => h.registry.foreignSessions(owner),
    foreignRoomIds: () => h.registry.foreignRooms(owner),
  };
}

/**
 * A loopback address for the next socket of a lane (127.0.1.1–127.0.1.8, in turn): clients come
 * from several addresses, as they do in production, so no one address reaches
 * maxUnauthenticatedPerAddress by the lanes' ordinary churn.
 */
let addressTurn = 0;
export function laneAddress(): string {
  addressTurn = (addressTurn + 1) % 8;
  return `127.0.1.${addressTurn + 1}`;
}

/**
 * Opens a socket and completes relay.connect. Retried (and counted) only when the socket got a
 * genuine 4001: the whole process stalled past authTimeoutMs (on a machine shared with other
 * work); the bystander's latency bound is what catches a Relay that stalls.
 */
export async function openConnected(
  h: Harness,
  where: string,
  token: string,
  params: Record<string, unknown> = {},
  localAddress = laneAddress(),
): Promise<{ sock: FuzzSocket; result: Record<string, unknown> }> {
  for (let attempt = 1; ; attempt++) {
    const sock = await FuzzSocket.open(h.wsUrl, where, h.log, { origin: h.origin, localAddress });
    try {
      const result = await sock.call('relay.connect', { project: h.project, token, ...params });
      sock.authed = true;
      return { sock, result };
    } catch (error) {
      if (attempt >= 3 || !sock.authTimedOut(sock.closeCode)) throw error;
      h.log.setupRetries += 1;
    }
  }
}

function newModel(authed: boolean, resource: string): SocketModel {
  return {
    authed,
    resource,
    callsFull: false,
    early: 0,
    forwarded: 0,
    unconfirmed: 0,
    malformedRun: 0,
    nextId: 1_000_000,
  };
}

/** A well-behaved session that answers calls and counts what reaches it. */
export class Partner {
  readonly open = new Set<string>();
  readonly signals = new Map<string, number>();
  /** room.signal notifications received, by room id. */
  readonly roomSignals = new Map<string, number>();
  private waiters: (() => void)[] = [];
  private seen = 0;

  private constructor(
    readonly sock: FuzzSocket,
    readonly resource: string,
  ) {
    sock.onNotification = (notification) => this.onNotification(notification);
  }

  static async connect(
    h: Harness,
    resource: string,
    where: string,
    scopes?: Scope[],
  ): Promise<Partner> {
    const { sock } = await openConnected(h, where, await h.issue(resource, scopes), {
      protocol: 2,
    });
    return new Partner(sock, resource);
  }

  /** Resolves true once `predicate` holds, false after `ms`. */
  async until(predicate: () => boolean, ms = 5_000): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!predicate()) {
      const left = deadline - performance.now();
      if (left <= 0 || !this.sock.open) return predicate();
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push(resolve)),
        sleep(Math.min(left, 250)),
      ]);
    }
    return true;
  }

  private onNotification({ method, params }: Notification): void {
    const callId = String(params.callId);
    if (method === 'call.incoming') this.open.add(callId);
    else if (method === 'call.ended') this.open.delete(callId);
    else if (method === 'call.signal')
      this.signals.set(callId, (this.signals.get(callId) ?? 0) + 1);
    else if (method === 'room.signal') {
      const roomId = String(params.roomId);
      this.roomSignals.set(roomId, (this.roomSignals.get(roomId) ?? 0) + 1);
    }
    // Acknowledge now and then, as clients should, so the Relay can drop its replay copies.
    if (++this.seen % 32 === 0 && typeof params.seq === 'number') {
      this.sock.control('relay.ping', { ack: params.seq }).catch(() => undefined);
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

// ---- authenticated lanes ---------------------------------------------------------------

export async function runAuthedLane(h: Harness, lane: number, budget: number): Promise<void> {
  const token = await h.issue(`fz-a${lane}`, laneScopes(lane));
  const connectPartner = () =>
    Partner.connect(h, `fz-p${lane}`, `authed lane ${lane} partner`, PARTNER_SCOPES);
  let partner = await connectPartner();
  const rooms = await LaneRooms.start(h, lane, partner);
  for (let life = 0; budget > 0; life++) {
    if (!partner.sock.open || !rooms.filler.sock.open) {
      if (!partner.sock.open) {
        h.log.fail(
          `authed lane ${lane}`,
          `the partner's socket closed (${partner.sock.closeCode})`,
        );
      }
      await partner.sock.close();
      partner = await connectPartner();
      await rooms.rebuild(partner);
    }
    const rng = new Rng(deriveSeed(h.seed, 'authed', lane, life));
    budget -= await authedLife(
      h,
      `authed lane ${lane} life ${life}`,
      `a${lane}`,
      life,
      rng,
      token,
      partner,
      rooms,
    );
  }
  await rooms.close();
  await partner.sock.close();
}

async function authedLife(
  h: Harness,
  where: string,
  owner: string,
  life: number,
  rng: Rng,
  token: string,
  partner: Partner,
  rooms: LaneRooms,
): Promise<number> {
  const pacer = new Pacer(h.pace.rate, h.pace.burst);
  await pacer.take(4);
  // Version 2: the session may use rooms (docs/PROTOCOL.md, Versions).
  const { sock, result: connected } = await openConnected(h, where, token, { protocol: 2 });
  if (connected.protocol !== 2) {
    h.log.fail(where, `relay.connect answered protocol ${String(connected.protocol)}, expected 2`);
  }
  h.registry.setSession(owner, String(connected.sessionId));
  const model = newModel(true, String(connected.resource));
  // An answered call (signals are forwarded to the partner) and, half the time, a ringing one
  // (signals are held): with maxCallsPerSession 2 the session is then full.
  const calls: string[] = [];
  const active = String((await sock.call('call.invite', { to: partner.resource })).callId);
  calls.push(active);
  if (!(await partner.until(() => partner.open.has(active))))
    h.log.fail(where, 'the partner was not rung');
  await partner.sock.call('call.answer', { callId: active });
  model.activeCallId = active;
  if (rng.chance(0.5)) {
    const ringing = String((await sock.call('call.invite', { to: partner.resource })).callId);
    calls.push(ringing);
    model.ringingCallId = ringing;
    model.callsFull = h.limits.maxCallsPerSession === 2;
    await partner.until(() => partner.open.has(ringing));
  }
  h.registry.setCalls(owner, calls);
  const gen = new FrameGen(rng, model, envFor(h, owner));
  await pacer.take(2);
  const roomModel = await rooms.setUpLife(
    where,
    life,
    rng,
    sock,
    gen,
    String(connected.resource),
    partner,
  );
  const shareRooms = () =>
    h.registry.setRooms(
      owner,
      roomModel.rooms.flatMap((room) => (room.id !== undefined && !room.ended ? [room.id] : [])),
    );
  shareRooms();
  let frames = 0;
  const batches = rng.range(2, 8);
  for (let b = 0; b < batches && sock.open; b++) {
    const size = rng.range(4, 20);
    await pacer.take(size + 2);
    frames += sendBatch(sock, gen, size, AUTHED_BATCH_WEIGHTS, (frame) => {
      // Signals to the partner (in the call or in a room): counted, less the refused ones.
      const counts = frame.forward ? model : frame.roomForward ? roomModel : undefined;
      if (!counts) return;
      if (!frame.reply) counts.unconfirmed += 1;
      else {
        frame.reply.onError = (code) => {
          if (code === RpcErrorCodes.peerBacklogged) counts.forwarded -= 1;
        };
      }
    });
    if (!(await sock.fence())) break;
    model.malformedRun = 0;
    shareRooms();
  }
  if (sock.open) {
    const end = terminal(gen, rng.weighted(AUTHED_TERMINAL_WEIGHTS), () => token);
    frames += await finish(h, sock, end, pacer);
  } else {
    h.log.fail(where, `the socket closed unexpectedly (${sock.closeCode})${sock.describeError()}`);
  }
  // The session ended, so both calls ended for the partner; it got exactly the forwarded signals.
  if (!(await partner.until(() => calls.every((id) => !partner.open.has(id))))) {
    h.log.fail(where, 'the partner was not told that the calls ended');
  }
  const least = model.forwarded - model.unconfirmed;
  await partner.until(() => (partner.signals.get(active) ?? 0) >= least, 2_000);
  const got = partner.signals.get(active) ?? 0;
  if (got < least || got > model.forwarded) {
    h.log.fail(
      where,
      `the partner received ${got} signals; ${least}–${model.forwarded} were accepted`,
    );
  }
  if (model.ringingCallId && partner.signals.has(model.ringingCallId)) {
    h.log.fail(where, 'signals held for an unanswered call reached the callee');
  }
  h.registry.remove(owner);
  await rooms.endLife(where, roomModel, partner);
  return frames;
}

function sendBatch(
  sock: FuzzSocket,
  gen: FrameGen,
  size: number,
  weights: typeof AUTHED_BATCH_WEIGHTS,
  adjust?: (frame: Frame) => void,
): number {
  for (let i = 0; i < size; i++) {
    if (gen.model.malformedRun >= MALFORMED_LIMIT - 1) {
      // A valid request in between resets the server's count of malformed messages.
      sock.control('relay.ping').catch(() => undefined);
      gen.model.malformedRun = 0;
    }
    const frame = gen.frame(gen.rng.weighted(weights));
    adjust?.(frame);
    sock.send(frame);
  }
  return size;
}

/** Ends a socket the way `end` says; checks the close code. Returns the frames sent. */
async function finish(h: Harness, sock: FuzzSocket, end: Terminal, pacer?: Pacer): Promise<number> {
  if (end.kind !== 'clean') h.log.socket(end.category);
  if (end.kind === 'clean') {
    const code = await sock.close(1000);
    if (code !== 1000) clientCloseAnswered(h, sock, end, code);
    return 0;
  }
  if (end.kind === 'half-open') {
    h.background.push(
      (async () => {
        const code = await sock.waitClosed(h.limits.authTimeoutMs + OWED_WITHIN_MS);
        expectClose(h, sock, end, code);
      })(),
    );
    return 0;
  }
  if (end.kind === 'flood') {
    const sent = await flood(h, sock, end);
    expectClose(h, sock, end, await sock.waitClosed(OWED_WITHIN_MS));
    return sent;
  }
  if (end.kind === 'hijack-resume') {
    // Authenticated once relay.connect's result is in, not when it is sent: until then the
    // Relay may still close the socket with 4001 (its authTimeoutMs ran out first).
    const reply = end.frames[0]?.reply;
    const check = reply?.check;
    if (reply)
      reply.check = (result) => {
        sock.authed = true;
        return check?.(result);
      };
  }
  if (pacer && end.frames.length > 1) await pacer.take(end.frames.length);
  for (const frame of end.frames) sock.send(frame, false);
  if (end.kind === 'hijack-resume') {
    await sock.fence();
    const code = sock.open ? await sock.close(1000) : await sock.waitClosed(OWED_WITHIN_MS);
    if (code !== 1000) clientCloseAnswered(h, sock, end, code);
  } else {
    expectClose(h, sock, end, await sock.waitClosed(OWED_WITHIN_MS));
  }
  return end.frames.length;
}

/**
 * Floods until the Relay closes the socket, and returns the frames sent. The Relay closes with
 * 4008 after more than messageBurst refusals in a row, or once it has refused for
 * maxRateLimitedMs without a pause of a second. Which rule comes first is the machine's
 * business: under load the bucket refills between two frames of a wave (a token every
 * 1000 / messagesPerSecond ms), a refused run starts over, and only the second rule closes.
 * So the waves go on, each over the whole bucket, the next one as soon as the Relay answered
 * the last (no pause near a second, however slow the machine), until the socket closes:
 * bounded far past maxRateLimitedMs, for a Relay that never closes it.
 */
async function flood(h: Harness, sock: FuzzSocket, end: Terminal): Promise<number> {
  const deadline = performance.now() + h.limits.maxRateLimitedMs + OWED_WITHIN_MS;
  let sent = 0;
  for (let wave = end.frames; ; wave = end.nextWave()) {
    for (const frame of wave) sock.send(frame, false);
    sent += wave.length;
    await sock.answered(deadline - performance.now());
    if (!sock.open || !end.nextWave || performance.now() >= deadline) return sent;
  }
}

/** The client closed the socket, and the Relay's close came first (or answered otherwise). */
function clientCloseAnswered(
  h: Harness,
  sock: FuzzSocket,
  end: Terminal,
  code: number | undefined,
): void {
  if (sock.authTimedOut(code)) {
    // A socket not authenticated (yet) may be closed with 4001 at any time past authTimeoutMs.
    h.log.outcome(end.category, 'close 4001 (auth timeout came first)');
    return;
  }
  h.log.fail(sock.where, `${end.category}/${end.sub}: client close answered with ${code}`);
}

function expectClose(h: Harness, sock: FuzzSocket, end: Terminal, code: number | undefined): void {
  if (code === undefined) {
    h.log.fail(sock.where, `${end.category}/${end.sub}: still open; expected close ${end.close}`);
    sock.ws.terminate();
    return;
  }
  if (code !== end.close && sock.authTimedOut(code)) {
    // Under load the socket's time ran out before this terminal was handled: documented too.
    h.log.outcome(end.category, 'close 4001 (auth timeout came first)');
    return;
  }
  h.log.outcome(end.category, `close ${code}`);
  if (code !== end.close) {
    h.log.fail(
      sock.where,
      `${end.category}/${end.sub}: closed with ${code}, expected ${end.close}${sock.describeError()}`,
    );
  }
}

// ---- unauthenticated lanes -------------------------------------------------------------

export async function runUnauthedLane(h: Harness, lane: number, budget: number): Promise<void> {
  const hijackToken = await h.issue(`fz-h${lane}`);
  for (let life = 0; budget > 0; life++) {
    const rng = new Rng(deriveSeed(h.seed, 'unauthed', lane, life));
    const where = `unauthenticated lane ${lane} life ${life}`;
    // A silent life sends nothing; it still counts, so the lane always ends.
    budget -= Math.max(1, await unauthedLife(h, where, `u${lane}`, rng, hijackToken));
  }
}

async function unauthedLife(
  h: Harness,
  where: string,
  owner: string,
  rng: Rng,
  hijackToken: string,
): Promise<number> {
  const sock = await FuzzSocket.open(h.wsUrl, where, h.log, {
    origin: h.origin,
    localAddress: laneAddress(),
  });
  const model = newModel(false, '');
  const gen = new FrameGen(rng, model, envFor(h, owner));
  const kind = rng.weighted(UNAUTHED_TERMINAL_WEIGHTS);
  // Half-open sockets send nothing, or only junk, and never authenticate.
  const size = kind === 'half-open' && rng.chance(0.5) ? 0 : rng.range(3, 20);
  // A socket that has not authenticated may be closed with 4001 at any time past authTimeoutMs.
  const frames = sendBatch(sock, gen, size, UNAUTHED_BATCH_WEIGHTS);
  if (size > 0 && !(await sock.fence())) {
    if (!sock.authTimedOut(sock.closeCode)) {
      h.log.fail(where, `closed with ${sock.closeCode} during the batch${sock.describeError()}`);
    }
    return frames;
  }
  model.malformedRun = 0;
  const end = terminal(gen, kind, () => hijackToken);
  if (end.kind === 'hijack-resume') {
    const frame = end.frames[0];
    const hijacked = JSON.parse(String(frame?.data)).params.sessionId as string;
    if (frame?.reply) {
      frame.reply.check = (result) => {
        const r = result as { resumed?: unknown; sessionId?: unknown };
        if (r.resumed !== false) return `relay.connect resumed someone else's session ${hijacked}`;
        if (r.sessionId === hijacked) return 'relay.connect handed out the hijacked session id';
        return undefined;
      };
    }
  }
  return frames + (await finish(h, sock, end));
}

// ---- slow readers ----------------------------------------------------------------------

export async function runSlowReaders(h: Harness, lane: number, count: number): Promise<void> {
  const callerToken = await h.issue(`fz-sw${lane}`);
  const readerToken = await h.issue(`fz-s${lane}`);
  for (let k = 0; k < count; k++) {
    await slowReader(h, `slow-reader lane ${lane} #${k}`, callerToken, readerToken, `fz-s${lane}`);
  }
}

async function slowReader(
  h: Harness,
  where: string,
  callerToken: string,
  readerToken: string,
  readerResource: string,
): Promise<void> {
  const { sock: caller } = await openConnected(h, `${where} caller`, callerToken);
  const { sock: reader } = await openConnected(h, `${where} reader`, readerToken);
  let incoming: string | undefined;
  reader.onNotification = ({ method, params }) => {
    if (method === 'call.incoming') incoming = String(params.callId);
  };
  let ended = false;
  caller.onNotification = ({ method }) => {
    if (method === 'call.ended') ended = true;
  };
  const callId = String((await caller.call('call.invite', { to: readerResource })).callId);
  const deadline = performance.now() + 5_000;
  while (incoming !== callId && performance.now() < deadline) await sleep(5);
  await reader.call('call.answer', { callId });
  // The reader stops reading: the kernel's buffers fill, then the Relay's send buffer.
  const raw = (reader.ws as unknown as { _socket: Socket })._socket;
  raw.pause();
  const pacer = new Pacer(h.pace.rate, h.pace.burst);
  const pad = 's'.repeat(h.limits.maxFrameBytes - 200);
  const start = performance.now();
  let sent = 0;
  while (!ended && sent < 4_000 && performance.now() - start < 20_000) {
    await pacer.take(20);
    for (let i = 0; i < 19; i++) {
      const id = 2_000_000 + sent;
      sent += 1;
      caller.send(
        {
          category: 'slow-reader',
          sub: 'big-signal',
          data: JSON.stringify({
            jsonrpc: '2.0',
            id,
            method: 'call.signal',
            params: { callId, signal: { sdp: pad } },
          }),
          // Accepted while the reader keeps up, refused (peer_backlogged) once it is behind;
          // call_not_found once its session ended.
          reply: {
            id,
            accept: ['result', RpcErrorCodes.peerBacklogged, RpcErrorCodes.callNotFound],
          },
          malformed: false,
        },
        false,
      );
    }
    await caller.fence();
  }
  if (!ended) h.log.fail(where, `the caller was never told the call ended (${sent} signals sent)`);
  // Closed only once it had not drained for slowReaderTimeoutMs, however much was sent.
  const lasted = performance.now() - start;
  if (lasted < h.limits.slowReaderTimeoutMs) {
    h.log.fail(
      where,
      `the reader was closed after ${Math.round(lasted)} ms, before slowReaderTimeoutMs`,
    );
  }
  h.log.socket('slow-reader');
  raw.resume();
  const code = await reader.waitClosed(10_000);
  h.log.outcome('slow-reader', `close ${code}`);
  if (code !== CloseCodes.slowConsumer) {
    h.log.fail(
      where,
      `the reader closed with ${code}, expected ${CloseCodes.slowConsumer}${reader.describeError()}`,
    );
    reader.ws.terminate();
  }
  await caller.close();
}

// ---- silent half-open sockets ------------------------------------------------------------

/** docs/PROTOCOL.md: a peer that does not answer the Relay's close frame is cut off 5 s later. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Sockets that complete the handshake and then never send anything, not even the answer to
 * the Relay's close frame: they must get 4001, then be cut off, freeing their place.
 */
export async function runSilentHalfOpen(
  h: Harness,
  port: number,
  count: number,
  spacingMs: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    h.background.push(silentHalfOpen(h, port, `silent half-open ${i}`));
    await sleep(spacingMs);
  }
}

async function silentHalfOpen(h: Harness, port: number, where: string): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  let buffer = Buffer.alloc(0);
  let headerEnd = -1;
  let closeCode: number | undefined;
  let closeFrameAt = 0;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (headerEnd < 0) headerEnd = buffer.indexOf('\r\n\r\n');
    // Server frames are unmasked; control frames carry at most 125 bytes.
    for (let at = headerEnd + 4; headerEnd >= 0 && at + 2 <= buffer.length;) {
      const opcode = (buffer[at] ?? 0) & 0x0f;
      const length = (buffer[at + 1] ?? 0) & 0x7f;
      if (opcode === 0x8 && closeCode === undefined && at + 4 <= buffer.length) {
        closeCode = buffer.readUInt16BE(at + 2);
        closeFrameAt = performance.now();
      }
      at += 2 + length;
    }
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET /api/relay/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: ${h.origin}\r\n\r\n`,
  );
  h.log.socket('half-open');
  const bound = h.limits.authTimeoutMs + CLOSE_GRACE_MS + 5_000;
  const timer = setTimeout(() => socket.destroy(), bound);
  await closed;
  clearTimeout(timer);
  const cutAfter = performance.now() - closeFrameAt;
  if (closeCode !== CloseCodes.authTimeout) {
    h.log.outcome('half-open', `silent: close ${closeCode}`);
    h.log.fail(where, `got close ${closeCode}, expected ${CloseCodes.authTimeout}`);
  } else if (!(cutAfter < CLOSE_GRACE_MS + 2_000)) {
    h.log.outcome('half-open', 'silent: close 4001, not cut off');
    h.log.fail(
      where,
      `still connected ${Math.round(cutAfter)} ms after its close frame (expected ~${CLOSE_GRACE_MS})`,
    );
  } else {
    h.log.outcome('half-open', 'silent: close 4001, then cut off');
  }
}

// ---- saturation: maxUnauthenticatedSockets, and malformed handshakes --------------------

export async function runSaturation(h: Harness, url: string): Promise<void> {
  const where = 'saturation';
  const idle = async () => {
    const deadline = performance.now() + 5_000;
    while (h.relay.stats().unauthenticated > 0 && performance.now() < deadline) await sleep(20);
    return h.relay.stats().unauthenticated;
  };
  if ((await idle()) !== 0)
    h.log.fail(where, `${h.relay.stats().unauthenticated} sockets still unauthenticated`);
  const max = h.limits.maxUnauthenticatedSockets;
  // Every place taken, then 20 upgrades more, all within authTimeoutMs (before the first
  // place frees up). A process stall that outruns it voids the attempt: tried again.
  const attempt = async () => {
    const started = performance.now();
    const sockets = await Promise.all(
      // From as many addresses as it takes: each holds at most maxUnauthenticatedPerAddress.
      Array.from({ length: max }, (_, i) =>
        FuzzSocket.open(h.wsUrl, `${where} socket ${i}`, h.log, {
          origin: h.origin,
          localAddress: `127.0.5.${1 + Math.floor(i / h.limits.maxUnauthenticatedPerAddress)}`,
        }),
      ),
    );
    const waiting = h.relay.stats().unauthenticated;
    const refused = await Promise.all(
      Array.from({ length: 20 }, () => upgradeStatus(h.wsUrl, h.origin, '127.0.5.200')),
    );
    // Clients resetting their connection as they are refused: the Relay lives on.
    await resetsAtEveryMoment(h, url, upgradeRequest({ origin: h.origin }), 2, '127.0.5.201');
    const elapsed = performance.now() - started;
    return {
      sockets,
      refused,
      waiting,
      elapsed,
      ok: waiting === max && elapsed < h.limits.authTimeoutMs / 2,
    };
  };
  let run = await attempt();
  for (let tries = 1; !run.ok && tries < 3; tries++) {
    h.log.setupRetries += 1;
    for (const sock of run.sockets) sock.ws.terminate();
    await idle();
    run = await attempt();
  }
  const { sockets, refused } = run;
  if (!run.ok) {
    h.log.fail(
      where,
      `harness timing: ${run.waiting}/${max} waiting, took ${Math.round(run.elapsed)} ms`,
    );
  }
  for (const answer of refused) {
    h.log.socket('upgrade-saturation');
    h.log.outcome('upgrade-saturation', answer.label);
    if (answer.label !== '503 service_unavailable') {
      h.log.fail(
        where,
        `upgrade past maxUnauthenticatedSockets answered ${answer.label}: ${answer.body}`,
      );
    }
  }
  const codes = await Promise.all(
    sockets.map((sock) => sock.waitClosed(h.limits.authTimeoutMs + 5_000)),
  );
  for (const [i, code] of codes.entries()) {
    h.log.socket('half-open');
    h.log.outcome('half-open', `close ${code}`);
    if (code !== CloseCodes.authTimeout)
      h.log.fail(`${where} socket ${i}`, `closed with ${code}, expected 4001`);
  }
  if ((await idle()) !== 0)
    h.log.fail(where, 'sockets closed with 4001 still count as unauthenticated');
  const after = await upgradeStatus(h.wsUrl, h.origin);
  if (after.label !== '101')
    h.log.fail(where, `an upgrade after the saturation answered ${after.label}`);

  // Malformed handshakes: refused over HTTP, never counted.
  const { port } = new URL(url);
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const upgrade = (path: string, headers: string, method = 'GET') =>
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`;
  const good = `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nOrigin: ${h.origin}\r\n`;
  const probes: [string, string, string[]][] = [
    ['bad-key', upgrade('/api/relay/ws', `${good}Sec-WebSocket-Key: nope\r\n`), ['400']],
    ['no-key', upgrade('/api/relay/ws', good), ['400']],
    [
      'bad-version',
      upgrade(
        '/api/relay/ws',
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: ${key}\r\nOrigin: ${h.origin}\r\n`,
      ),
      ['400'],
    ],
    [
      'not-websocket',
      upgrade(
        '/api/relay/ws',
        `Upgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nOrigin: ${h.origin}\r\n`,
      ),
      ['400'],
    ],
    [
      'post-upgrade',
      upgrade('/api/relay/ws', `${good}Sec-WebSocket-Key: ${key}\r\n`, 'POST'),
      ['405'],
    ],
    [
      'foreign-origin',
      upgrade(
        '/api/relay/ws',
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nOrigin: https://evil.example\r\n`,
      ),
      ['403'],
    ],
    [
      'no-origin',
      upgrade(
        '/api/relay/ws',
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n`,
      ),
      ['403'],
    ],
    ['other-path', upgrade('/api/relay/wss', `${good}Sec-WebSocket-Key: ${key}\r\n`), ['404']],
    [
      'bad-protocol',
      upgrade(
        '/api/relay/ws',
        `${good}Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Protocol: a,,b\r\n`,
      ),
      ['400'],
    ],
  ];
  if ((await idle()) !== 0)
    h.log.fail(where, 'the socket opened after the saturation still counts');
  for (let round = 0; round < 10; round++) {
    for (const [sub, request, statuses] of probes) {
      const answer = await rawExchange(Number(port), request);
      const status =
        /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ??
        `no status (${JSON.stringify(answer.slice(0, 40))})`;
      h.log.socket('bad-handshake');
      h.log.outcome('bad-handshake', `${status}`);
      if (!statuses.includes(status))
        h.log.fail(where, `handshake ${sub}: answered ${status}, expected ${statuses.join('|')}`);
      if (status === '403' && !answer.includes('"code":"forbidden"')) {
        h.log.fail(where, `handshake ${sub}: 403 without the documented JSON body`);
      }
    }
  }
  if (h.relay.stats().unauthenticated !== 0) {
    h.log.fail(where, 'malformed handshakes were counted as unauthenticated sockets');
  }
}

/** Opens an upgrade; answers '101' (then closes it) or '<status> <error.code>'. */
export function upgradeStatus(
  wsUrl: string,
  origin: string,
  localAddress?: string,
): Promise<{ label: string; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, { origin, perMessageDeflate: false, localAddress });
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ label: 'timeout', body: '' });
    }, 5_000);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.close(1000);
      resolve({ label: '101', body: '' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        let code: string;
        try {
          code = (JSON.parse(body) as { error: { code: string } }).error.code;
        } catch {
          code = 'no JSON body';
        }
        resolve({ label: `${res.statusCode} ${code}`, body });
        ws.terminate();
      });
    });
    ws.once('error', () => undefined);
  });
}

export type { Category };
