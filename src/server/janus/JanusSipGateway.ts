import type { Clock } from '../clock.js';
import type { IncomingSipCall, SipDial, SipGateway, SipLeg } from '../sip/SipGateway.js';
import type { ResolvedTrunk } from '../sip/SipOptions.js';
import type { JanusConnection } from './JanusConnection.js';
import type { JanusEvent, JanusHandle } from './JanusHandle.js';
import type { JanusSession } from './JanusSession.js';
import { JanusSipLeg } from './JanusSipLeg.js';
import { SpareSipLegs } from './SpareSipLegs.js';
import { janusToken } from './janusToken.js';

const SIP = 'janus.plugin.sip';
/** Lifetime of the Janus tokens the gateway signs, in ms; a fresh one goes with each request. */
const TOKEN_MS = 3_600_000;
/** A trunk registration that failed is tried again after this, in ms. */
const REREGISTER_MS = 30_000;
/**
 * Handles beside each trunk's registered one, so that as many calls can come in at once: Janus
 * gives an incoming call to a free one of them, and answers 486 when all are busy.
 */
const INBOUND_HELPERS = 3;
/**
 * How long after Janus announces an incoming call the Relay waits before answering or refusing
 * it, in ms (see JanusSipLeg's `settled`): Janus keeps the call's transaction microseconds after
 * the announcement, milliseconds when its threads are starved.
 */
const INCOMING_SETTLE_MS = 150;
/** Legs kept ready per trunk and kind of call (see SpareSipLegs). */
const SPARE_LEGS = 2;

/** The user part of a SIP URI ('sip:+1555@host' → '+1555'), or the URI when it has none. */
function userOf(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return undefined;
  const match = /^sips?:([^@;>]+)@/.exec(uri.replace(/^.*</, ''));
  return match ? decodeURIComponent(match[1]!) : undefined;
}

interface Trunk {
  project: string;
  trunk: ResolvedTrunk;
  session: JanusSession | undefined;
  /** The incoming call on each handle now (one call at a time per handle). */
  current: Map<JanusHandle, JanusSipLeg>;
  /** Helpers attached for the registration now (see INBOUND_HELPERS). */
  helpers: boolean;
  retry: unknown;
}

/**
 * The SIP gateway on Janus's SIP plugin: a Janus session and handle per dialled call (its SIP
 * identity is the project's caller ID, through the trunk's proxy for numbers), and per trunk
 * with routes one registered handle that receives the trunk's calls. Registrations are made
 * again whenever Janus comes back.
 */
export class JanusSipGateway implements SipGateway {
  readonly #trunks: Trunk[] = [];
  /** Ready legs per trunk: [straight to `sip:` hosts, through the proxy]. */
  readonly #spare = new Map<ResolvedTrunk, [SpareSipLegs | undefined, SpareSipLegs | undefined]>();
  #incoming: ((call: IncomingSipCall) => void) | undefined;
  #closed = false;

  constructor(
    private readonly janus: JanusConnection,
    private readonly secret: string,
    private readonly clock: Clock,
  ) {
    janus.onAvailability((available) => {
      if (available) for (const trunk of this.#trunks) void this.#register(trunk);
    });
  }

  get available(): boolean {
    return this.janus.available;
  }

  start(trunks: Map<string, ResolvedTrunk>, incoming: (call: IncomingSipCall) => void): void {
    this.#incoming = incoming;
    for (const [project, trunk] of trunks) {
      if (Object.keys(trunk.routes).length === 0) continue;
      const entry: Trunk = {
        project,
        trunk,
        session: undefined,
        current: new Map(),
        helpers: false,
        retry: undefined,
      };
      this.#trunks.push(entry);
      if (this.janus.available) void this.#register(entry);
    }
  }

  async dial(trunk: ResolvedTrunk, dial: SipDial): Promise<SipLeg> {
    let spare = this.#spare.get(trunk)?.[dial.viaProxy ? 1 : 0];
    if (!spare) {
      const pair = this.#spare.get(trunk) ?? [undefined, undefined];
      spare = new SpareSipLegs(() => this.#prepare(trunk, dial.viaProxy), SPARE_LEGS);
      pair[dial.viaProxy ? 1 : 0] = spare;
      this.#spare.set(trunk, pair);
    }
    const leg = spare.take() ?? (await this.#prepare(trunk, dial.viaProxy));
    // Not before: the SIP plugin would start the spares' stacks ahead of this INVITE.
    leg.whenInvited(() => spare.refill());
    return leg;
  }

  /**
   * A leg on a session and SIP handle of its own, with the project's caller ID: through the
   * trunk's proxy (with its credentials) for numbers, straight to the URI's host for `sip:`.
   */
  async #prepare(trunk: ResolvedTrunk, viaProxy: boolean): Promise<JanusSipLeg> {
    const session = await this.#session();
    try {
      const handle = await session.attach(SIP);
      const leg = new JanusSipLeg(handle, session);
      handle.onEvent((event) => leg.dispatch(event));
      session.onGone(() => leg.lost());
      const register: Record<string, unknown> = {
        request: 'register',
        username: `sip:${trunk.numbers[0]!}@${trunk.domain}`,
      };
      // Janus sends calls to the outbound proxy; `proxy` alone only serves registrations.
      if (viaProxy) Object.assign(register, { proxy: trunk.proxy, outbound_proxy: trunk.proxy });
      if (viaProxy && trunk.password) {
        // Credentials for the trunk's digest challenges, without a REGISTER of its own.
        Object.assign(register, {
          send_register: false,
          secret: trunk.password,
          authuser: trunk.username,
        });
      } else {
        register.type = 'guest';
      }
      await handle.message(register);
      return leg;
    } catch (error) {
      await session.destroy();
      throw error;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const pair of this.#spare.values()) {
      await Promise.all(pair.map((spare) => spare?.close() ?? Promise.resolve()));
    }
    for (const trunk of this.#trunks) {
      this.clock.clearTimeout(trunk.retry);
      await trunk.session?.destroy();
    }
  }

  #session(): Promise<JanusSession> {
    return this.janus.createSession(() =>
      janusToken(this.secret, this.clock.now() + TOKEN_MS, [SIP]),
    );
  }

  async #register(entry: Trunk): Promise<void> {
    if (this.#closed) return;
    this.clock.clearTimeout(entry.retry);
    await entry.session?.destroy();
    entry.session = undefined;
    entry.helpers = false;
    const { trunk } = entry;
    try {
      const session = await this.#session();
      entry.session = session;
      const handle = await session.attach(SIP);
      handle.onEvent((event) => this.#trunkEvent(entry, handle, event));
      session.onGone(() => {
        for (const leg of entry.current.values()) leg.lost();
        entry.current.clear();
      });
      await handle.message({
        request: 'register',
        username: `sip:${trunk.username}@${trunk.domain}`,
        secret: trunk.password,
        authuser: trunk.username,
        proxy: trunk.proxy,
        outbound_proxy: trunk.proxy,
      });
    } catch {
      this.#retry(entry);
    }
  }

  #retry(entry: Trunk): void {
    if (this.#closed) return;
    this.clock.clearTimeout(entry.retry);
    entry.retry = this.clock.setTimeout(() => {
      if (this.janus.available) void this.#register(entry);
    }, REREGISTER_MS);
  }

  #trunkEvent(entry: Trunk, handle: JanusHandle, event: JanusEvent): void {
    const result = event.data.result as Record<string, unknown> | undefined;
    const name = result?.event;
    if (name === 'registration_failed') {
      this.#retry(entry);
      return;
    }
    if (name === 'registered' && typeof result?.master_id === 'number' && !entry.helpers) {
      entry.helpers = true;
      void this.#attachHelpers(entry, result.master_id);
      return;
    }
    if (name === 'incomingcall' && result) {
      const settled = new Promise<void>((resolve) =>
        this.clock.setTimeout(resolve, INCOMING_SETTLE_MS),
      );
      const leg = new JanusSipLeg(handle, undefined, settled);
      entry.current.set(handle, leg);
      const caller = userOf(result.username);
      const headers = result.headers as Record<string, unknown> | undefined;
      const called = userOf(result.callee) ?? userOf(headers?.To);
      this.#incoming?.({
        project: entry.project,
        from: caller?.startsWith('+')
          ? caller
          : typeof result.username === 'string'
            ? result.username
            : 'unknown',
        to: called,
        offer: event.jsep?.type === 'offer' ? event.jsep.sdp : undefined,
        leg,
      });
      return;
    }
    entry.current.get(handle)?.dispatch(event);
    if (name === 'hangup') entry.current.delete(handle);
  }

  async #attachHelpers(entry: Trunk, masterId: number): Promise<void> {
    const { session, trunk } = entry;
    try {
      for (let i = 0; i < INBOUND_HELPERS && session && !session.gone; i++) {
        const helper = await session.attach(SIP);
        helper.onEvent((event) => this.#trunkEvent(entry, helper, event));
        await helper.message({
          request: 'register',
          type: 'helper',
          master_id: masterId,
          username: `sip:${trunk.username}@${trunk.domain}`,
        });
      }
    } catch {
      // Fewer helpers: fewer calls at once, the registration still takes one.
    }
  }
}
