/**
 * The bystander call: alice and bob, two ordinary sessions on real sockets, in a call through
 * the Relay under attack. Every ~50 ms alice sends bob a numbered signal and bob echoes it
 * back; each must arrive, in order, with the next `seq`, and its one-way latency is recorded.
 */
import { TestClient } from '../../server/helpers.js';
import { sleep } from './socket.js';

export interface BystanderReport {
  exchanges: number;
  aliceToBob: number[];
  bobToAlice: number[];
  failures: string[];
  durationMs: number;
}

const TICK_MS = 50;
const LOST_MS = 5_000;

export class Bystanders {
  readonly aliceToBob: number[] = [];
  readonly bobToAlice: number[] = [];
  readonly failures: string[] = [];
  /** Stops the sender. */
  private stopped = false;
  /** Stops the receivers, once every signal sent is accounted for. */
  private done = false;
  private sent = 0;
  private loops: Promise<void>[] = [];
  private started = 0;

  private constructor(
    readonly alice: TestClient,
    readonly bob: TestClient,
    readonly callId: string,
    readonly sessions: { alice: string; bob: string },
  ) {}

  static async start(
    wsUrl: string,
    origin: string,
    project: string,
    issue: (resource: string) => Promise<string>,
  ): Promise<Bystanders> {
    const alice = await TestClient.open(wsUrl, { origin });
    const bob = await TestClient.open(wsUrl, { origin });
    const a = await alice.call('relay.connect', { project, token: await issue('alice') });
    const b = await bob.call('relay.connect', { project, token: await issue('bob') });
    const { callId } = await alice.call('call.invite', { to: 'bob' });
    await bob.next('call.incoming');
    await bob.call('call.answer', { callId });
    await alice.next('call.answered');
    const bystanders = new Bystanders(alice, bob, String(callId), {
      alice: String(a.sessionId),
      bob: String(b.sessionId),
    });
    bystanders.run();
    return bystanders;
  }

  private run(): void {
    this.started = performance.now();
    const { alice, bob, callId } = this;
    const fail = (message: string) => {
      if (this.failures.length < 20) this.failures.push(message);
      this.stopped = true;
      this.done = true;
    };
    // alice → bob, every TICK_MS.
    const send = async () => {
      for (let n = 0; !this.stopped; n++) {
        const tick = performance.now();
        try {
          await withTimeout(
            alice.call('call.signal', { callId, signal: { n, sentAt: tick } }),
            `alice's signal ${n}`,
          );
          this.sent = n + 1;
          if (n % 20 === 19) await alice.call('relay.ping', { ack: alice.lastSeq });
        } catch (error) {
          fail(`alice could not send signal ${n}: ${(error as Error).message}`);
          return;
        }
        await sleep(Math.max(0, TICK_MS - (performance.now() - tick)));
      }
    };
    // bob receives each in order and echoes it.
    const echo = async () => {
      let seq = bob.lastSeq;
      for (let n = 0; ; n++) {
        let params: Record<string, unknown>;
        try {
          params = await withTimeout(bob.next('call.signal'), `bob's signal ${n}`, () => this.done);
        } catch (error) {
          if (!this.done) fail(`bob: ${(error as Error).message}`);
          return;
        }
        const signal = params.signal as { n: number; sentAt: number };
        this.aliceToBob.push(performance.now() - signal.sentAt);
        if (signal.n !== n) fail(`bob got signal ${signal.n}, expected ${n}`);
        if (params.seq !== ++seq)
          fail(`bob's signal ${n} has seq ${String(params.seq)}, expected ${seq}`);
        try {
          await bob.call('call.signal', { callId, signal: { n, sentAt: performance.now() } });
          if (n % 20 === 19) await bob.call('relay.ping', { ack: bob.lastSeq });
        } catch (error) {
          fail(`bob could not echo signal ${n}: ${(error as Error).message}`);
          return;
        }
      }
    };
    // alice receives every echo in order.
    const receive = async () => {
      let seq = alice.lastSeq;
      for (let n = 0; ; n++) {
        let params: Record<string, unknown>;
        try {
          params = await withTimeout(
            alice.next('call.signal'),
            `the echo of ${n}`,
            () => this.done,
          );
        } catch (error) {
          if (!this.done) fail(`alice: ${(error as Error).message}`);
          return;
        }
        const signal = params.signal as { n: number; sentAt: number };
        this.bobToAlice.push(performance.now() - signal.sentAt);
        if (signal.n !== n) fail(`alice got echo ${signal.n}, expected ${n}`);
        if (params.seq !== ++seq)
          fail(`alice's echo ${n} has seq ${String(params.seq)}, expected ${seq}`);
      }
    };
    this.loops = [send(), echo(), receive()];
  }

  /** Stops sending, lets the last echoes arrive, hangs up; resolves the report. */
  async stop(): Promise<BystanderReport> {
    const durationMs = performance.now() - this.started;
    this.stopped = true;
    await this.loops[0];
    // Every signal sent reaches bob, and its echo alice, before the receivers stop.
    const all = () => this.aliceToBob.length === this.sent && this.bobToAlice.length === this.sent;
    const deadline = performance.now() + LOST_MS;
    while (!all() && !this.done && performance.now() < deadline) await sleep(10);
    this.done = true;
    await Promise.all(this.loops);
    if (!all()) {
      this.failures.push(
        `alice sent ${this.sent} signals; ${this.aliceToBob.length} reached bob, ${this.bobToAlice.length} echoes reached alice`,
      );
    }
    await this.alice.call('call.hangup', { callId: this.callId });
    const ended = await withTimeout(this.bob.next('call.ended'), 'call.ended').catch(
      () => undefined,
    );
    if (ended?.reason !== 'hangup')
      this.failures.push(`bob got ${JSON.stringify(ended)} after the hangup`);
    return {
      exchanges: Math.min(this.aliceToBob.length, this.bobToAlice.length),
      aliceToBob: this.aliceToBob,
      bobToAlice: this.bobToAlice,
      failures: this.failures,
      durationMs,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.alice.close(), this.bob.close()]);
  }
}

/** Rejects when `promise` takes over LOST_MS; polls `stop` so a stopped loop can leave. */
async function withTimeout<T>(promise: Promise<T>, what: string, stop?: () => boolean): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        const started = performance.now();
        timer = setTimeout(
          () => reject(new Error(`${what} did not arrive within ${LOST_MS} ms`)),
          LOST_MS,
        );
        poll = setInterval(() => {
          if (stop?.())
            reject(new Error(`stopped after ${Math.round(performance.now() - started)} ms`));
        }, 20);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
}
