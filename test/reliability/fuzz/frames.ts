/**
 * Hostile WebSocket frames for the Relay, each with the answer docs/PROTOCOL.md promises for it.
 *
 * A {@link FrameGen} keeps a model of one socket (authenticated or not, its calls, held early
 * signals, the run of malformed messages) and updates it as it generates, so every frame knows
 * its reply (JSON-RPC result or error code, or none for a notification) or the close code that
 * ends the socket. Room requests, with the model of the socket's rooms, are roomFrames.ts'.
 */
import { CloseCodes, RpcErrorCodes, resourceProblem } from 'relaycall/server';
import type { Rng } from './prng.js';
import { RoomGen, type RoomCategory, type RoomModel } from './roomFrames.js';

export type RpcId = string | number | null;
/** A reply: `'result'`, or the JSON-RPC error code. */
export type Outcome = 'result' | number;

/** Categories of hostile input, in the order the summary lists them. */
export const CATEGORIES = [
  'invalid-json',
  'invalid-utf8',
  'wrong-shape',
  'unknown-method',
  'bad-params',
  'huge-numbers',
  'huge-strings',
  'deep-nesting',
  'notification',
  'oversize',
  'binary',
  'malformed-run',
  'flood',
  'bad-token',
  'session-limit',
  'hijack-resume',
  'call-foreign',
  'hostile-signal',
  'room-params',
  'room-forbidden',
  'room-unknown',
  'room-limits',
  'room-valid',
  'slow-reader',
  'half-open',
  'bad-handshake',
  'upgrade-saturation',
  'reset-upgrade',
  'kick-off',
  'address-saturation',
  'slow-request',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface ExpectedReply {
  id: RpcId;
  accept: Outcome[];
  /** Close codes that may cut the reply off (the socket closes before answering it). */
  closeOk?: number[];
  /** Checks a result; returns what is wrong with it. */
  check?: (result: unknown) => string | undefined;
  /** Told of an error reply's JSON-RPC code. */
  onError?: (code: number) => void;
  /** Told when the reply was none of `accept` (or never came): the frame's model is wrong. */
  onUnexpected?: () => void;
}

export interface Frame {
  category: Category;
  /** Which variant of the category, for the failure report. */
  sub: string;
  data: string | Buffer;
  binary?: boolean;
  /** Sent as this many WebSocket fragments. */
  fragments?: number;
  /** The reply the frame must get; absent when it gets none (a notification). */
  reply?: ExpectedReply;
  /** Counts toward the run of malformed messages that closes with 4012. */
  malformed: boolean;
  /** A signal to the partner, forwarded unless refused with peer_backlogged. */
  forward?: boolean;
  /** A room.signal to the partner, forwarded unless refused with peer_backlogged. */
  roomForward?: boolean;
}

/** What a socket knows about itself; the generator updates it frame by frame. */
export interface SocketModel {
  authed: boolean;
  /** The socket's own resource (authenticated sockets). */
  resource: string;
  /** Answered call this session placed: signals on it are forwarded to the partner. */
  activeCallId?: string;
  /** Call this session placed that keeps ringing: signals on it are held. */
  ringingCallId?: string;
  /** At maxCallsPerSession: any further invite gets limit_exceeded. */
  callsFull: boolean;
  /** Signals held on the ringing call. */
  early: number;
  /** Signals sent to the partner on the active call (it receives these, less the refused). */
  forwarded: number;
  /** Of those, sent as notifications: refused ones get no reply, so the count is a range. */
  unconfirmed: number;
  /** Consecutive malformed messages (parse_error, invalid_request). */
  malformedRun: number;
  nextId: number;
  /** The session's rooms (protocol version 2), for sockets of lanes that connected. */
  rooms?: RoomModel;
}

export interface RefusedToken {
  token: string;
  /** `error.data.code` relay.connect answers it with (project = the test project). */
  code: 'auth_failed' | 'token_expired' | 'token_revoked';
  sub: string;
}

export interface FuzzEnv {
  project: string;
  limits: {
    maxFrameBytes: number;
    maxEarlySignals: number;
    messageBurst: number;
    maxResourceLength: number;
    maxMetadataBytes: number;
    maxMessageBytes: number;
    maxRoomParticipants: number;
    maxRoomsPerSession: number;
  };
  /** Calls of other sessions (the bystanders', other lanes'). */
  foreignCallIds(): readonly string[];
  /** Sessions of other resources (the bystanders', other lanes'). */
  foreignSessionIds(): readonly string[];
  /** Rooms of other lanes (they may end at any time). */
  foreignRoomIds(): readonly string[];
  /** Resources with sessions that lack rooms:join (the bystanders, the crowd): never rung. */
  roomless: readonly string[];
  /** Forged, expired, revoked and other-project JWTs. */
  refused: readonly RefusedToken[];
  /** Valid JWTs of other resources of the project. */
  decoys: readonly string[];
  /** Valid JWTs of resources already at maxSessionsPerResource. */
  crowd: readonly string[];
}

const E = RpcErrorCodes;
/** Not allowed in resource names. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
/** Placeholder value replaced by nested JSON text after stringifying. */
const DEEP = '\ue000deep\ue000';
const NOT_AUTH = E.notAuthenticated;
const MAX_STRING = 8192;
const MAX_DEPTH = 16;
const MALFORMED_LIMIT = 20;

/** A category of frames sent within a batch (everything but the socket-ending ones). */
export type BatchCategory =
  | 'invalid-json'
  | 'wrong-shape'
  | 'unknown-method'
  | 'bad-params'
  | 'huge-numbers'
  | 'huge-strings'
  | 'deep-nesting'
  | 'notification'
  | 'bad-token'
  | 'call-foreign'
  | 'hostile-signal'
  | RoomCategory;

export const AUTHED_BATCH_WEIGHTS: Record<BatchCategory, number> = {
  'invalid-json': 10,
  'wrong-shape': 10,
  'unknown-method': 8,
  'bad-params': 16,
  'huge-numbers': 6,
  'huge-strings': 5,
  'deep-nesting': 6,
  notification: 6,
  'bad-token': 7,
  'call-foreign': 10,
  'hostile-signal': 16,
  // Rooms (roomFrames.ts): every room.* method, for lanes with and without the room scopes.
  'room-params': 10,
  'room-forbidden': 4,
  'room-unknown': 7,
  'room-limits': 5,
  'room-valid': 12,
};

export const UNAUTHED_BATCH_WEIGHTS: Record<BatchCategory, number> = {
  'invalid-json': 14,
  'wrong-shape': 14,
  'unknown-method': 12,
  'bad-params': 14,
  'huge-numbers': 8,
  'huge-strings': 6,
  'deep-nesting': 8,
  notification: 8,
  // relay.connect ends an unauthenticated socket: it is a terminal, not a batch frame.
  'bad-token': 0,
  'call-foreign': 8,
  'hostile-signal': 8,
  // Room methods before relay.connect: all not_authenticated, whatever their params.
  'room-params': 3,
  'room-forbidden': 1,
  'room-unknown': 2,
  'room-limits': 1,
  'room-valid': 2,
};

export interface Built {
  data: string;
  id: RpcId | undefined;
}

export class FrameGen {
  /** Set while generating a notification: requests are built without an id. */
  private noId = false;
  /** Room requests (roomFrames.ts), with the model of the socket's rooms. */
  readonly roomFrames: RoomGen = new RoomGen(this);

  constructor(
    readonly rng: Rng,
    readonly model: SocketModel,
    readonly env: FuzzEnv,
  ) {}

  /** One frame of `category`; updates the model. */
  frame(category: BatchCategory): Frame {
    const frame = this.generate(category);
    const bytes =
      typeof frame.data === 'string' ? Buffer.byteLength(frame.data) : frame.data.length;
    if (bytes > this.env.limits.maxFrameBytes) {
      throw new Error(`generator bug: ${frame.category}/${frame.sub} is ${bytes} bytes`);
    }
    this.model.malformedRun = frame.malformed ? this.model.malformedRun + 1 : 0;
    if (this.rng.chance(0.04) && bytes >= 4)
      frame.fragments = this.rng.range(2, Math.min(12, bytes));
    return frame;
  }

  private generate(category: BatchCategory): Frame {
    switch (category) {
      case 'invalid-json':
        return this.invalidJson();
      case 'wrong-shape':
        return this.wrongShape();
      case 'unknown-method':
        return this.unknownMethod();
      case 'bad-params':
        return this.badParams();
      case 'huge-numbers':
        return this.hugeNumbers();
      case 'huge-strings':
        return this.hugeStrings();
      case 'deep-nesting':
        return this.deepNesting();
      case 'notification':
        return this.notification();
      case 'bad-token':
        return this.badTokenAuthed();
      case 'call-foreign':
        return this.callForeign();
      case 'hostile-signal':
        return this.hostileSignal();
      case 'room-params':
      case 'room-forbidden':
      case 'room-unknown':
      case 'room-limits':
      case 'room-valid':
        return this.roomFrames.frame(category);
    }
  }

  // ---- building blocks (the public ones are shared with roomFrames.ts) -----------------

  id(): RpcId | undefined {
    if (this.noId) return undefined;
    const n = this.model.nextId++;
    // Mostly integers; some strings, unicode (lone surrogates included) up to the 128 limit.
    if (this.rng.chance(0.7)) return n;
    return `${n}:${this.rng.unicode(this.rng.range(0, 100))}`;
  }

  request(method: unknown, params?: unknown, id: RpcId | undefined = this.id()): Built {
    const message: Record<string, unknown> = { jsonrpc: '2.0' };
    if (id !== undefined) message.id = id;
    message.method = method;
    if (params !== undefined) message.params = params;
    return { data: JSON.stringify(message), id };
  }

  out(category: Category, sub: string, built: Built, accept: Outcome[], malformed = false): Frame {
    const frame: Frame = {
      category: this.noId ? 'notification' : category,
      sub: this.noId ? `${category}/${sub}` : sub,
      data: built.data,
      malformed,
    };
    if (built.id !== undefined) frame.reply = { id: built.id, accept };
    return frame;
  }

  /**
   * A signal to the partner on the active call. The Relay forwards it, or refuses it with
   * peer_backlogged while the partner has not read what it was sent: the lane counts which
   * (see `forward` on the frame).
   */
  private forwarded(frame: Frame): Frame {
    if (!this.model.authed) return frame;
    this.model.forwarded += 1;
    frame.forward = true;
    frame.reply?.accept.push(E.peerBacklogged);
    return frame;
  }

  /** Outcome of a well-formed request for a non-connect method: its own, or not_authenticated. */
  when(authed: Outcome[]): Outcome[] {
    return this.model.authed ? authed : [NOT_AUTH];
  }

  ghost(): string {
    return this.rng.chance(0.5)
      ? `ghost-${this.rng.string(this.rng.range(1, 40))}`
      : `👻${this.rng.unicode(this.rng.range(1, 60)).replace(CONTROL_CHARACTERS, 'x')}`;
  }

  /** The outcome of an invite to `to`, a resource with no qualifying session if it is valid. */
  private inviteTo(to: string): Outcome {
    return resourceProblem(to, this.env.limits.maxResourceLength)
      ? E.invalidParams
      : this.inviteOutcome();
  }

  /** The outcome of a valid invite to a resource with no qualifying session. */
  private inviteOutcome(): Outcome {
    return this.model.callsFull ? E.limitExceeded : E.unavailable;
  }

  /** Any JSON value at most `depth` containers deep, roughly `budget` bytes or fewer. */
  private json(depth: number, budget: number): unknown {
    const r = this.rng;
    if (depth <= 0 || budget < 16 || r.chance(0.3)) {
      switch (r.int(9)) {
        case 0:
          return r.unicode(r.range(0, Math.min(64, budget)));
        case 1:
          return r.pick([0, -0, 1e308, -1e308, 5e-324, 2 ** 53, -(2 ** 63), 0.1 + 0.2]);
        case 2:
          return r.chance(0.5);
        case 3:
          return null;
        case 4:
          return `\ud800${r.string(3)}\udfff`;
        case 5:
          return r.string(r.range(0, Math.min(200, budget)));
        case 6:
          return r.int(1000);
        case 7:
          return 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\n';
        default:
          return '';
      }
    }
    const count = r.range(0, 4);
    const each = Math.floor(budget / (count + 1));
    if (r.chance(0.5)) return Array.from({ length: count }, () => this.json(depth - 1, each));
    const object: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const key = r.pick([
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        '',
        'type',
        'sdp',
        'candidate',
        r.unicode(r.range(1, 12)),
      ]);
      Object.defineProperty(object, key, {
        value: this.json(depth - 1, each),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  }

  /** JSON text of `levels` nested containers around `leaf` (built as text: stringifying is slow). */
  nestText(levels: number, leaf = '1'): string {
    return this.rng.chance(0.5)
      ? `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`
      : `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;
  }

  /** `built` with the {@link DEEP} placeholder value replaced by `text`. */
  private splice(built: Built, text: string): Built {
    return { ...built, data: built.data.replace(`"${DEEP}"`, text) };
  }

  /** {@link json}, retried smaller until its JSON text is at most `maxBytes` bytes. */
  payload(depth: number, maxBytes: number): unknown {
    for (let budget = maxBytes; budget >= 16; budget = Math.floor(budget / 2)) {
      const value = this.json(depth, budget);
      if (Buffer.byteLength(JSON.stringify(value) ?? '') <= maxBytes) return value;
    }
    return null;
  }

  /** `levels` nested containers, innermost holding `leaf`. */
  private nest(levels: number, leaf: unknown = 1): unknown {
    let value: unknown = leaf;
    const arrays = this.rng.chance(0.5);
    for (let i = 0; i < levels; i++) value = arrays ? [value] : { a: value };
    return value;
  }

  /** Deepest nesting whose frame stays well within the limit (objects take 6 bytes a level). */
  private maxLevels(): number {
    // The rest of the frame (an id of escaped unicode, a resource) stays under 1200 bytes.
    return Math.floor((this.env.limits.maxFrameBytes - 1200) / 6);
  }

  randomLevels(): number {
    const r = this.rng;
    return r.pick([MAX_DEPTH + 1, r.range(MAX_DEPTH + 1, 64), r.range(64, 1000), this.maxLevels()]);
  }

  /** A padded request of exactly `bytes` bytes (ASCII padding). */
  sized(bytes: number, make: (pad: string, id: RpcId | undefined) => Built): Built {
    const id = this.id();
    const base = make('', id);
    const padLength = Math.max(0, bytes - Buffer.byteLength(base.data));
    return make(this.rng.string(1, 'abcdefghijklmnopqrstuvwxyz').repeat(padLength), id);
  }

  nearLimit(): number {
    const max = this.env.limits.maxFrameBytes;
    return this.rng.chance(0.6) ? max - this.rng.int(32) : this.rng.range(MAX_STRING + 200, max);
  }

  // ---- categories ---------------------------------------------------------------------

  private invalidJson(): Frame {
    const r = this.rng;
    const valid = JSON.stringify({
      jsonrpc: '2.0',
      id: this.model.nextId++,
      method: r.pick(['relay.ping', 'call.signal', 'relay.connect', 'call.invite']),
      params: { callId: r.unicode(20), ack: 1 },
    });
    const variants: [string, () => string][] = [
      ['truncated', () => valid.slice(0, r.range(0, valid.length - 1))],
      ['garbage', () => `)${r.unicode(r.range(0, 300))}`],
      ['nan', () => '{"jsonrpc":"2.0","id":1,"method":"relay.ping","params":{"ack":NaN}}'],
      [
        'infinity',
        () => '{"jsonrpc":"2.0","id":2,"method":"relay.ping","params":{"ack":-Infinity}}',
      ],
      ['single-quotes', () => "{'jsonrpc':'2.0','id':3,'method':'relay.ping'}"],
      ['trailing-comma', () => '{"jsonrpc":"2.0","id":4,"method":"relay.ping",}'],
      ['comment', () => '{"jsonrpc":"2.0", /* hi */ "id":5,"method":"relay.ping"}'],
      ['unquoted', () => '{jsonrpc:"2.0",id:6,method:"relay.ping"}'],
      ['hex', () => '{"jsonrpc":"2.0","id":0x10,"method":"relay.ping"}'],
      ['leading-zero', () => '{"jsonrpc":"2.0","id":007,"method":"relay.ping"}'],
      ['raw-control', () => '{"jsonrpc":"2.0","id":8,"method":"relay.\u0001ping"}'],
      ['bad-escape', () => '{"jsonrpc":"2.0","id":9,"method":"\\x41\\u12"}'],
      ['bom', () => `\ufeff${valid}`],
      ['whitespace', () => ' \t\r\n'.repeat(r.range(0, 50))],
      ['two-values', () => `${valid}${valid}`],
      ['undefined', () => 'undefined'],
      ['lone-surrogate', () => `{"jsonrpc":"2.0","id":"\ud800`],
      ['unterminated-deep', () => '['.repeat(r.range(1, this.maxLevels()))],
    ];
    const [sub, make] = r.pick(variants);
    let data = make();
    try {
      JSON.parse(data);
      data = `)${data}`; // it parsed after all: make sure it does not
    } catch {
      // invalid, as intended
    }
    return {
      category: 'invalid-json',
      sub,
      data,
      reply: { id: null, accept: [E.parseError] },
      malformed: true,
    };
  }

  private wrongShape(): Frame {
    const r = this.rng;
    const n = this.model.nextId++;
    const invalid = (sub: string, data: string, id: RpcId = null): Frame => ({
      category: 'wrong-shape',
      sub,
      data,
      reply: { id, accept: [E.invalidRequest] },
      malformed: true,
    });
    const badId = r.pick<unknown>([
      null,
      1.5,
      2 ** 53,
      -(2 ** 60),
      true,
      {},
      [n],
      'x'.repeat(129),
      1e308,
    ]);
    switch (r.int(12)) {
      case 0:
        return invalid(
          'batch',
          JSON.stringify(
            Array.from({ length: r.range(0, 5) }, (_, i) => ({
              jsonrpc: '2.0',
              id: n * 10 + i,
              method: 'relay.ping',
            })),
          ),
        );
      case 1:
        return invalid(
          'primitive',
          JSON.stringify(r.pick([1, 'relay.ping', null, true, 1e308, -0])),
        );
      case 2:
        return invalid('no-jsonrpc', JSON.stringify({ id: n, method: 'relay.ping' }), n);
      case 3: {
        const jsonrpc = r.pick<unknown>(['1.0', 2, '2.00', null, '2.0 ', '', ['2.0']]);
        return invalid('bad-jsonrpc', JSON.stringify({ jsonrpc, id: n, method: 'relay.ping' }), n);
      }
      case 4:
        return invalid(
          'bad-id',
          JSON.stringify({ jsonrpc: '2.0', id: badId, method: 'relay.ping' }),
        );
      case 5: {
        const method = r.pick<unknown>([5, null, [], {}, true]);
        return invalid('method-type', JSON.stringify({ jsonrpc: '2.0', id: n, method }), n);
      }
      case 6:
        return invalid('no-method', JSON.stringify({ jsonrpc: '2.0', id: n, params: {} }), n);
      case 7:
        return invalid(
          'method-too-long',
          JSON.stringify({
            jsonrpc: '2.0',
            id: n,
            method: `relay.${'p'.repeat(r.range(123, 2000))}`,
          }),
          n,
        );
      case 8:
        // Duplicate keys: the last one wins.
        return invalid(
          'duplicate-key',
          `{"jsonrpc":"2.0","id":${n},"method":"relay.ping","method":5}`,
          n,
        );
      case 9:
        return invalid(
          'proto-key',
          `{"__proto__":{"jsonrpc":"2.0","method":"relay.ping"},"id":${n}}`,
          n,
        );
      case 10:
        return invalid(
          'bad-id-and-jsonrpc',
          JSON.stringify({ jsonrpc: 1, id: badId, method: 'x' }),
        );
      default:
        return invalid('empty-object', '{}');
    }
  }

  private unknownMethod(): Frame {
    const r = this.rng;
    const method = r.pick([
      'rpc.discover',
      'relay.connect ',
      'RELAY.PING',
      'relay.Ping',
      'call.invite\u0000',
      'call.signal\ud800',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      '',
      'relay.',
      'call.*',
      'relay.close',
      'call.forward',
      `x.${r.unicode(r.range(0, 100))}`,
    ]);
    const params = r.chance(0.5) ? this.payload(4, 500) : undefined;
    return this.out(
      'unknown-method',
      params === undefined || isObject(params) ? 'method' : 'method-params-not-object',
      this.request(method, params),
      this.when([unknownMethodOutcome(params)]),
    );
  }

  private badParams(): Frame {
    const r = this.rng;
    const m = this.model;
    const notObject = r.pick<unknown>([[], [1, 2], 'params', 42, null, true]);
    const badString = r.pick<unknown>([
      undefined,
      '',
      5,
      null,
      true,
      [],
      {},
      ['a'],
      'x'.repeat(MAX_STRING + 1),
    ]);
    const ownCall = m.ringingCallId ?? m.activeCallId ?? 'none';
    const variants: [string, () => [unknown, unknown, Outcome[]]][] = [
      [
        'not-object',
        () => [
          r.pick([
            'relay.ping',
            'relay.reauthenticate',
            'call.invite',
            'call.answer',
            'call.signal',
          ]),
          notObject,
          this.when([E.invalidParams]),
        ],
      ],
      [
        'ping-ack',
        () => {
          const ack = r.pick<unknown>([-1, 1.5, '3', null, true, [], {}, 1e308, 2 ** 53]);
          return ['relay.ping', { ack }, this.when([E.invalidParams])];
        },
      ],
      [
        'ping-junk',
        () => [
          'relay.ping',
          { ack: 0, junk: this.payload(6, 2000), [`k${r.unicode(8)}`]: 1 },
          this.when(['result']),
        ],
      ],
      [
        'reauth-token',
        () => ['relay.reauthenticate', { token: badString }, this.when([E.invalidParams])],
      ],
      [
        // Lanes' tokens have neither calls:list nor calls:assist: refused whatever the filter.
        'calls-list',
        () => [
          r.pick(['calls.list', 'calls.watch']),
          { state: r.pick<unknown>(['over', 1, null, undefined]), resource: badString },
          this.when([E.forbidden]),
        ],
      ],
      ['calls-unwatch', () => ['calls.unwatch', {}, this.when(['result'])]],
      [
        'assist-mode',
        () => [
          'call.assist',
          { callId: uuidLike(r), mode: r.pick<unknown>(['spy', 'MONITOR', 1, null, undefined]) },
          this.when([E.invalidParams]),
        ],
      ],
      [
        'assist-scope',
        () => [
          'call.assist',
          { callId: uuidLike(r), mode: r.pick(['monitor', 'whisper', 'barge']) },
          this.when([E.forbidden]),
        ],
      ],
      [
        'invite-to',
        () => [
          'call.invite',
          {
            to: r.pick<unknown>([
              undefined,
              5,
              '',
              'x'.repeat(this.env.limits.maxResourceLength + 1),
              'a\u0000b',
              'tab\tname',
              '\u0085',
              '\u009f',
              null,
              [],
              {},
            ]),
          },
          this.when([E.invalidParams]),
        ],
      ],
      [
        'invite-ghost',
        () => {
          // Ghost names may hold lone surrogates or bidi controls: those are refused.
          const to = this.ghost();
          return [
            'call.invite',
            { to, metadata: this.payload(MAX_DEPTH, 2000) },
            this.when([this.inviteTo(to)]),
          ];
        },
      ],
      [
        'invite-self',
        () => ['call.invite', { to: m.resource || 'self' }, this.when([this.inviteOutcome()])],
      ],
      [
        'callid-type',
        () => [
          r.pick([
            'call.answer',
            'call.reject',
            'call.hangup',
            'call.signal',
            'call.dtmf',
            'call.hold',
            'call.transfer',
            'call.assist',
            'call.message',
          ]),
          { callId: badString, signal: 1 },
          this.when([E.invalidParams]),
        ],
      ],
      [
        'reject-reason',
        () => [
          'call.reject',
          { callId: ownCall, reason: r.pick<unknown>(['nope', 'BUSY', 1, false, ['busy'], '']) },
          this.when([E.invalidParams]),
        ],
      ],
      [
        'answer-own',
        () => [
          'call.answer',
          { callId: ownCall },
          this.when([m.authed ? E.invalidState : NOT_AUTH]),
        ],
      ],
      [
        'reject-own',
        () => [
          'call.reject',
          { callId: ownCall, reason: r.pick([undefined, 'busy', 'declined']) },
          this.when([E.invalidState]),
        ],
      ],
      ['signal-missing', () => ['call.signal', { callId: ownCall }, this.when([E.invalidParams])]],
      [
        'message-missing',
        () => ['call.message', { callId: ownCall }, this.when([E.invalidParams])],
      ],
      [
        'message-huge',
        () => [
          'call.message',
          // Over maxMessageBytes: payload_too_large, before the call is looked at.
          { callId: ownCall, body: 'x'.repeat(this.env.limits.maxMessageBytes + r.range(0, 2000)) },
          this.when([E.invalidRequest]),
        ],
      ],
      ['connect-authed', () => ['relay.connect', this.payload(3, 500), [E.invalidState]]],
    ];
    const usable = variants.filter(
      ([sub]) =>
        (m.authed || sub !== 'connect-authed') &&
        (ownCall !== 'none' ||
          ![
            'answer-own',
            'reject-own',
            'reject-reason',
            'signal-missing',
            'message-missing',
            'message-huge',
          ].includes(sub)),
    );
    const [sub, make] = r.pick(usable);
    const [method, params, accept] = make();
    return this.out('bad-params', sub, this.request(method, params), accept);
  }

  private hugeNumbers(): Frame {
    const r = this.rng;
    const m = this.model;
    switch (r.int(6)) {
      case 0: {
        // Ids that are not safe integers: refused, answered with id null.
        const text = r.pick([
          '1e308',
          '-1e308',
          '9007199254740992',
          '-9007199254740993',
          '1.5',
          '1e400',
          `1${'0'.repeat(r.range(20, 4000))}`,
          '0.000000000000000000001',
        ]);
        if (this.noId) return this.hugeNumberParams();
        return {
          category: 'huge-numbers',
          sub: 'unsafe-id',
          data: `{"jsonrpc":"2.0","id":${text},"method":"relay.ping"}`,
          reply: { id: null, accept: [E.invalidRequest] },
          malformed: true,
        };
      }
      case 1: {
        // Integers in disguise: -0, 1.0, 0e5 are safe integers; the reply carries 0 or 1.
        if (this.noId) return this.hugeNumberParams();
        const [text, id] = r.pick<[string, number]>([
          ['-0', 0],
          ['-0.0', 0],
          ['0e5', 0],
          ['1.0', 1],
          ['1E0', 1],
        ]);
        return {
          category: 'huge-numbers',
          sub: 'integer-id',
          data: `{"jsonrpc":"2.0","id":${text},"method":"relay.ping"}`,
          reply: { id, accept: this.when(['result']) },
          malformed: false,
        };
      }
      case 2: {
        const signal = r.pick(['1e308', '-1e308', '5e-324', '-0', '1e400', `-${'9'.repeat(400)}`]);
        if (!m.activeCallId) return this.hugeNumberParams();
        const id = this.id();
        const idPart = id === undefined ? '' : `"id":${JSON.stringify(id)},`;
        const accept = this.when(['result']);
        return this.forwarded(
          this.out(
            'huge-numbers',
            'signal-number',
            {
              data: `{"jsonrpc":"2.0",${idPart}"method":"call.signal","params":{"callId":"${m.activeCallId}","signal":${signal}}}`,
              id,
            },
            accept,
          ),
        );
      }
      default:
        return this.hugeNumberParams();
    }
  }

  private hugeNumberParams(): Frame {
    const r = this.rng;
    const [text, ok] = r.pick<[string, boolean]>([
      ['1e308', false],
      ['-1', false],
      ['9007199254740992', false],
      ['1.5', false],
      ['1e400', false],
      ['-0', true],
      ['9007199254740991', true],
      ['0', true],
    ]);
    const id = this.id();
    const idPart = id === undefined ? '' : `"id":${JSON.stringify(id)},`;
    return this.out(
      'huge-numbers',
      ok ? 'ack-ok' : 'ack-bad',
      { data: `{"jsonrpc":"2.0",${idPart}"method":"relay.ping","params":{"ack":${text}}}`, id },
      this.when([ok ? 'result' : E.invalidParams]),
    );
  }

  private hugeStrings(): Frame {
    const r = this.rng;
    const m = this.model;
    const target = this.nearLimit();
    const variants = ['method', 'id', 'token', 'to', 'callId', 'junk', 'metadata'];
    if (m.activeCallId) variants.push('signal', 'signal');
    const sub = r.pick(variants);
    switch (sub) {
      case 'method': {
        if (this.noId) break;
        const id = this.model.nextId++;
        const built = this.sized(target, (pad) => this.request(`relay.${pad}`, undefined, id));
        return { ...this.out('huge-strings', sub, built, [E.invalidRequest]), malformed: true };
      }
      case 'id': {
        if (this.noId) break;
        const built = this.sized(Math.min(target, 4000), (pad) =>
          this.request('relay.ping', undefined, `id-${pad}`),
        );
        // An id over 128 characters is refused with id null.
        return {
          category: 'huge-strings',
          sub,
          data: built.data,
          reply: { id: null, accept: [E.invalidRequest] },
          malformed: true,
        };
      }
      case 'token':
        return this.out(
          'huge-strings',
          sub,
          this.sized(target, (pad, id) =>
            this.request(
              'relay.reauthenticate',
              { token: `${'e'.repeat(MAX_STRING + 1)}${pad}` },
              id,
            ),
          ),
          this.when([E.invalidParams]),
        );
      case 'to':
        return this.out(
          'huge-strings',
          sub,
          this.sized(target, (pad, id) =>
            this.request('call.invite', { to: `ghost-${'g'.repeat(200)}${pad}` }, id),
          ),
          this.when([E.invalidParams]),
        );
      case 'callId': {
        const method = r.pick(['call.answer', 'call.hangup', 'call.signal']);
        return this.out(
          'huge-strings',
          sub,
          this.sized(target, (pad, id) =>
            this.request(method, { callId: `${'c'.repeat(MAX_STRING + 1)}${pad}`, signal: 1 }, id),
          ),
          this.when([E.invalidParams]),
        );
      }
      case 'metadata': {
        const built = this.sized(target, (pad, id) =>
          this.request('call.invite', { to: 'ghost-metadata', metadata: { note: pad } }, id),
        );
        // Metadata is copied to every session rung, so it is capped far below a frame.
        const metadata = (JSON.parse(String(built.data)) as { params: { metadata: unknown } })
          .params.metadata;
        const tooBig =
          Buffer.byteLength(JSON.stringify(metadata)) > this.env.limits.maxMetadataBytes;
        return this.out(
          'huge-strings',
          sub,
          built,
          this.when([tooBig ? E.invalidParams : this.inviteOutcome()]),
        );
      }
      case 'signal': {
        const built = this.sized(target, (pad, id) =>
          this.request('call.signal', { callId: m.activeCallId, signal: { sdp: pad } }, id),
        );
        return this.forwarded(this.out('huge-strings', sub, built, this.when(['result'])));
      }
    }
    return this.out(
      'huge-strings',
      'junk',
      this.sized(target, (pad, id) => this.request('relay.ping', { junk: pad }, id)),
      this.when(['result']),
    );
  }

  private deepNesting(): Frame {
    const r = this.rng;
    const m = this.model;
    const levels = this.randomLevels();
    const variants = [
      'frame-array',
      'frame-object',
      'id',
      'params-junk',
      'signal',
      'metadata',
      'unknown-params',
    ];
    if (m.activeCallId) variants.push('signal-16', 'signal-16');
    const sub = this.noId
      ? r.pick(['params-junk', 'signal', 'metadata', 'unknown-params'])
      : r.pick(variants);
    const deep = this.nestText(levels);
    switch (sub) {
      case 'frame-array':
        return {
          category: 'deep-nesting',
          sub,
          data: `${'['.repeat(levels)}${']'.repeat(levels)}`,
          reply: { id: null, accept: [E.invalidRequest] },
          malformed: true,
        };
      case 'frame-object':
        return {
          category: 'deep-nesting',
          sub,
          data: `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`,
          reply: { id: null, accept: [E.invalidRequest] },
          malformed: true,
        };
      case 'id':
        return {
          category: 'deep-nesting',
          sub,
          data: `{"jsonrpc":"2.0","id":${deep},"method":"relay.ping"}`,
          reply: { id: null, accept: [E.invalidRequest] },
          malformed: true,
        };
      case 'params-junk':
        return this.out(
          'deep-nesting',
          sub,
          this.splice(this.request('relay.ping', { ack: 0, junk: DEEP }), deep),
          this.when(['result']),
        );
      case 'signal':
        return this.out(
          'deep-nesting',
          sub,
          this.splice(
            this.request('call.signal', {
              callId: m.activeCallId ?? m.ringingCallId ?? 'none',
              signal: DEEP,
            }),
            deep,
          ),
          this.when([E.invalidParams]),
        );
      case 'signal-16': {
        return this.forwarded(
          this.out(
            'deep-nesting',
            sub,
            this.request('call.signal', {
              callId: m.activeCallId,
              signal: this.nest(MAX_DEPTH, 'leaf'),
            }),
            this.when(['result']),
          ),
        );
      }
      case 'metadata':
        return this.out(
          'deep-nesting',
          sub,
          this.splice(this.request('call.invite', { to: this.ghost(), metadata: DEEP }), deep),
          this.when([E.invalidParams]),
        );
      default: {
        // Arrays or objects: params are checked for being an object before the method.
        const params: unknown = deep.startsWith('[') ? [] : {};
        return this.out(
          'deep-nesting',
          'unknown-params',
          this.splice(this.request(`x.deep.${r.int(100)}`, DEEP), deep),
          this.when([unknownMethodOutcome(params)]),
        );
      }
    }
  }

  private notification(): Frame {
    this.noId = true;
    try {
      const inner = this.rng.pick<BatchCategory>([
        'unknown-method',
        'bad-params',
        'huge-numbers',
        'huge-strings',
        'deep-nesting',
        'call-foreign',
        'hostile-signal',
        'room-params',
        'room-unknown',
        'room-limits',
        'room-valid',
        ...(this.model.authed ? (['bad-token'] as const) : []),
      ]);
      const frame = this.generate(inner);
      return { ...frame, category: 'notification', reply: undefined };
    } finally {
      this.noId = false;
    }
  }

  /** relay.connect and relay.reauthenticate with bad tokens on an authenticated socket. */
  private badTokenAuthed(): Frame {
    const r = this.rng;
    if (r.chance(0.3)) {
      // The socket is connected: any relay.connect is invalid_state (and the socket stays open).
      const refused = r.pick(this.env.refused);
      return this.out(
        'bad-token',
        'connect-again',
        this.request('relay.connect', { project: this.env.project, token: refused.token }),
        [E.invalidState],
      );
    }
    const pick = r.int(5);
    if (pick === 0) {
      return this.out(
        'bad-token',
        'reauth-decoy',
        this.request('relay.reauthenticate', { token: r.pick(this.env.decoys) }),
        [E.forbidden],
      );
    }
    if (pick === 1) {
      return this.out(
        'bad-token',
        'reauth-garbage',
        this.request('relay.reauthenticate', { token: garbageToken(r) }),
        [E.authFailed],
      );
    }
    const refused = r.pick(this.env.refused);
    return this.out(
      'bad-token',
      `reauth-${refused.code}`,
      this.request('relay.reauthenticate', { token: refused.token }),
      [E.authFailed],
    );
  }

  private callForeign(): Frame {
    const r = this.rng;
    const foreign = this.env.foreignCallIds();
    const callId =
      foreign.length > 0 && r.chance(0.7)
        ? r.pick(foreign)
        : r.pick([uuidLike(r), r.unicode(r.range(1, 60)), '00000000-0000-0000-0000-000000000000']);
    const method = r.pick([
      'call.answer',
      'call.reject',
      'call.hangup',
      'call.signal',
      'call.dtmf',
      'call.hold',
      'call.transfer',
    ]);
    const params: Record<string, unknown> = { callId };
    if (method === 'call.signal') params.signal = this.payload(4, 500);
    if (method === 'call.dtmf') params.tones = '1#';
    if (method === 'call.hold') params.held = r.chance(0.5);
    if (method === 'call.transfer') params.to = r.pick(['+15551234567', 'sip:a@b.example']);
    if (method === 'call.reject' && r.chance(0.5)) params.reason = r.pick(['busy', 'declined']);
    return this.out(
      'call-foreign',
      method,
      this.request(method, params),
      this.when([E.callNotFound]),
    );
  }

  private hostileSignal(): Frame {
    const r = this.rng;
    const m = this.model;
    const roll = r.int(10);
    const deep = roll === 0;
    const target = roll < 6 ? m.activeCallId : roll < 9 ? m.ringingCallId : undefined;
    const signal = deep
      ? this.nest(r.range(MAX_DEPTH + 1, 200), this.payload(2, 100))
      : this.payload(MAX_DEPTH, 3000);
    const params: Record<string, unknown> = { callId: target ?? 'no-such-call' };
    if (r.chance(0.97)) params.signal = signal;
    const built = this.request('call.signal', params);
    let accept: Outcome[];
    let sub: string;
    if (!('signal' in params)) {
      [accept, sub] = [this.when([E.invalidParams]), 'missing'];
    } else if (deep) {
      [accept, sub] = [this.when([E.invalidParams]), 'too-deep'];
    } else if (!m.authed) {
      [accept, sub] = [[NOT_AUTH], 'unauthenticated'];
    } else if (target === undefined) {
      [accept, sub] = [[E.callNotFound], 'no-call'];
    } else if (target === m.activeCallId) {
      return this.forwarded(this.out('hostile-signal', 'forwarded', built, ['result']));
    } else if (m.early < this.env.limits.maxEarlySignals) {
      m.early += 1;
      [accept, sub] = [['result'], 'held'];
    } else {
      [accept, sub] = [[E.limitExceeded], 'early-limit'];
    }
    if (Buffer.byteLength(built.data) > this.env.limits.maxFrameBytes) {
      throw new Error('generator bug: hostile signal over the frame limit');
    }
    return this.out('hostile-signal', sub, built, accept);
  }
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An unknown method's answer: params are checked (for being an object) before the method. */
function unknownMethodOutcome(params: unknown): Outcome {
  return params === undefined || isObject(params) ? E.methodNotFound : E.invalidParams;
}

/** A UUID-shaped string from the seeded generator. */
export function uuidLike(r: Rng): string {
  const hex = () => r.string(4, '0123456789abcdef');
  return `${hex()}${hex()}-${hex()}-4${hex().slice(1)}-a${hex().slice(1)}-${hex()}${hex()}${hex()}`;
}

/** A random string that is not a JWT of this Relay. */
export function garbageToken(r: Rng): string {
  const segment = () =>
    r.string(r.range(0, 80), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
  switch (r.int(5)) {
    case 0:
      return `${segment()}.${segment()}.${segment()}`;
    case 1:
      return `eyJhbGciOiJub25lIn0.${segment()}.`;
    case 2:
      return r.unicode(r.range(1, 200));
    case 3:
      return `${segment()}.`.repeat(r.range(1, 8)) || 'x';
    default:
      return `Bearer ${segment()}x`;
  }
}

// ---- socket-ending frames ------------------------------------------------------------

export type TerminalKind =
  | 'clean'
  | 'oversize'
  | 'binary'
  | 'invalid-utf8'
  | 'malformed-run'
  | 'flood'
  | 'bad-token'
  | 'session-limit'
  | 'hijack-resume'
  | 'half-open';

export const AUTHED_TERMINAL_WEIGHTS: Partial<Record<TerminalKind, number>> = {
  clean: 40,
  oversize: 12,
  binary: 10,
  'invalid-utf8': 10,
  'malformed-run': 14,
  flood: 6,
};

export const UNAUTHED_TERMINAL_WEIGHTS: Partial<Record<TerminalKind, number>> = {
  clean: 10,
  'bad-token': 30,
  'session-limit': 8,
  'hijack-resume': 6,
  oversize: 8,
  binary: 8,
  'invalid-utf8': 8,
  'malformed-run': 8,
  flood: 3,
  'half-open': 7,
};

export interface Terminal {
  kind: TerminalKind;
  category: Category;
  sub: string;
  /** Sent in order; for a flood, the first wave. */
  frames: Frame[];
  /** Close code the server must end the socket with; null when the client closes it. */
  close: number | null;
  /** For a flood: the next wave, as many as it takes until the Relay closes the socket. */
  nextWave?: () => Frame[];
}

export function terminal(gen: FrameGen, kind: TerminalKind, hijackToken: () => string): Terminal {
  const r = gen.rng;
  const m = gen.model;
  const max = gen.env.limits.maxFrameBytes;
  switch (kind) {
    case 'clean':
      return { kind, category: 'notification', sub: 'client-close', frames: [], close: null };
    case 'half-open':
      return {
        kind,
        category: 'half-open',
        sub: 'never-authenticates',
        frames: [],
        close: CloseCodes.authTimeout,
      };
    case 'oversize': {
      const size = r.pick([
        max + 1,
        max + r.range(2, 64),
        r.range(max + 1, 4 * max),
        r.range(4 * max, 256 * 1024),
      ]);
      const sub = r.pick(['json', 'text', 'fragmented', 'binary']);
      const frame: Frame = { category: 'oversize', sub, data: '', malformed: false };
      if (sub === 'json') {
        const base = JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'call.signal',
          params: { signal: '' },
        });
        frame.data = JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'call.signal',
          params: { signal: 's'.repeat(size - base.length) },
        });
      } else if (sub === 'text') {
        frame.data = r
          .string(256)
          .repeat(Math.ceil(size / 256))
          .slice(0, size);
      } else if (sub === 'fragmented') {
        // Every fragment is under the limit; their sum is not.
        frame.data = r
          .string(256)
          .repeat(Math.ceil(size / 256))
          .slice(0, size);
        frame.fragments = Math.max(2, Math.min(64, Math.ceil(size / r.range(1024, max))));
      } else {
        frame.data = r.bytes(size);
        frame.binary = true;
      }
      return { kind, category: 'oversize', sub, frames: [frame], close: CloseCodes.messageTooBig };
    }
    case 'binary': {
      const sub = r.pick(['random', 'json', 'empty', 'fragmented']);
      const data =
        sub === 'json'
          ? Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'relay.ping' }))
          : sub === 'empty'
            ? Buffer.alloc(0)
            : r.bytes(r.range(1, Math.min(max, 4096)));
      const frame: Frame = { category: 'binary', sub, data, binary: true, malformed: false };
      if (sub === 'fragmented' && data.length >= 2)
        frame.fragments = r.range(2, Math.min(8, data.length));
      return { kind, category: 'binary', sub, frames: [frame], close: CloseCodes.unsupportedData };
    }
    case 'invalid-utf8': {
      const bad = r.pick([
        [0xff],
        [0xc3, 0x28],
        [0xed, 0xa0, 0x80], // a UTF-16 surrogate (lone), encoded as if it were a code point
        [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
        [0xc0, 0xaf], // overlong '/'
        [0xe2, 0x82], // truncated sequence
      ]);
      const sub = `bytes-${bad.map((b) => b.toString(16)).join('')}`;
      const data = Buffer.concat([
        Buffer.from('{"jsonrpc":"2.0","id":1,"method":"relay.ping","params":{"x":"'),
        Buffer.from(bad),
        Buffer.from('"}}'),
      ]);
      const frame: Frame = { category: 'invalid-utf8', sub, data, malformed: false };
      if (r.chance(0.3)) frame.fragments = r.range(2, 6);
      return { kind, category: 'invalid-utf8', sub, frames: [frame], close: 1007 };
    }
    case 'malformed-run': {
      const frames: Frame[] = [];
      const before = m.malformedRun;
      while (m.malformedRun < MALFORMED_LIMIT) {
        const frame = gen.frame(r.chance(0.5) ? 'invalid-json' : 'wrong-shape');
        if (!frame.malformed)
          throw new Error('generator bug: malformed-run frame is not malformed');
        frames.push({ ...frame, category: 'malformed-run', sub: `${frame.category}/${frame.sub}` });
      }
      return {
        kind,
        category: 'malformed-run',
        sub: `run-of-${MALFORMED_LIMIT - before}`,
        frames,
        close: CloseCodes.protocolViolation,
      };
    }
    case 'flood': {
      const burst = gen.env.limits.messageBurst;
      const wave = (): Frame[] =>
        // Over the bucket even when it refilled entirely since the last wave: the burst
        // passes, the next burst + 1 are refused (the last closes), plus a margin. On a loaded
        // machine the bucket may also refill within a wave, so the Relay's other rule decides
        // (refusals for maxRateLimitedMs without a pause): lanes.ts floods until the close.
        Array.from({ length: 2 * burst + 21 }, () => {
          const id = m.nextId++;
          const notify = r.chance(0.1);
          const data = JSON.stringify({
            jsonrpc: '2.0',
            ...(notify ? {} : { id }),
            method: 'relay.ping',
          });
          const frame: Frame = {
            category: 'flood',
            sub: notify ? 'notification' : 'ping',
            data,
            malformed: false,
          };
          if (!notify) {
            frame.reply = {
              id,
              accept: [m.authed ? 'result' : NOT_AUTH, E.rateLimited],
              closeOk: [CloseCodes.rateLimited],
            };
          }
          return frame;
        });
      return {
        kind,
        category: 'flood',
        sub: m.authed ? 'authenticated' : 'unauthenticated',
        frames: wave(),
        nextWave: wave,
        close: CloseCodes.rateLimited,
      };
    }
    case 'session-limit': {
      const id = m.nextId++;
      return {
        kind,
        category: 'session-limit',
        sub: 'crowded-resource',
        frames: [
          {
            category: 'session-limit',
            sub: 'crowded-resource',
            data: JSON.stringify({
              jsonrpc: '2.0',
              id,
              method: 'relay.connect',
              params: { project: gen.env.project, token: r.pick(gen.env.crowd) },
            }),
            reply: { id, accept: [E.limitExceeded] },
            malformed: false,
          },
        ],
        close: CloseCodes.sessionLimit,
      };
    }
    case 'hijack-resume': {
      const id = m.nextId++;
      const foreign = gen.env.foreignSessionIds();
      const sessionId = foreign.length > 0 && r.chance(0.8) ? r.pick(foreign) : uuidLike(r);
      return {
        kind,
        category: 'hijack-resume',
        sub: 'foreign-session',
        frames: [
          {
            category: 'hijack-resume',
            sub: 'foreign-session',
            data: JSON.stringify({
              jsonrpc: '2.0',
              id,
              method: 'relay.connect',
              params: {
                project: gen.env.project,
                token: hijackToken(),
                sessionId,
                lastSeq: r.pick([0, 1, r.int(1000), 2 ** 53 - 1]),
              },
            }),
            reply: { id, accept: ['result'] },
            malformed: false,
          },
        ],
        close: null,
      };
    }
    case 'bad-token':
      return badConnect(gen);
  }
}

/** relay.connect refused on an unauthenticated socket: an error reply, then the documented close. */
function badConnect(gen: FrameGen): Terminal {
  const r = gen.rng;
  const m = gen.model;
  const project = gen.env.project;
  let params: unknown;
  let code: number;
  let close: number;
  let sub: string;
  const variant = r.int(10);
  if (variant < 3) {
    // Malformed params: invalid_params, closed with 4002.
    const token = garbageToken(r);
    [sub, params] = r.pick<[string, unknown]>([
      ['params-not-object', r.pick<unknown>([[], 'x', 5, null, true])],
      ['no-project', { token }],
      ['project-type', { project: r.pick<unknown>([5, null, [], {}, '']), token }],
      ['no-token', { project }],
      ['token-type', { project, token: r.pick<unknown>([5, null, [], {}, true]) }],
      ['empty-token', { project, token: '' }],
      ['token-too-long', { project, token: 'e'.repeat(MAX_STRING + 1) }],
      ['session-type', { project, token, sessionId: r.pick<unknown>([5, '', [], {}]) }],
      ['last-seq', { project, token, lastSeq: r.pick<unknown>([-1, 1.5, '3', 1e308, null]) }],
    ]);
    [code, close] = [E.invalidParams, CloseCodes.notAuthenticated];
  } else if (variant < 6) {
    sub = 'garbage';
    params = {
      project: r.chance(0.8) ? project : r.unicode(r.range(1, 30)),
      token: garbageToken(r),
    };
    [code, close] = [E.authFailed, CloseCodes.authFailed];
  } else {
    const refused = r.pick(gen.env.refused);
    sub = refused.code === 'auth_failed' ? `forged-${refused.sub}` : refused.code;
    params = { project, token: refused.token };
    code = E.authFailed;
    close =
      refused.code === 'token_expired'
        ? CloseCodes.tokenExpired
        : refused.code === 'token_revoked'
          ? CloseCodes.tokenRevoked
          : CloseCodes.authFailed;
  }
  // Also as a notification: no reply, but the socket is closed all the same.
  const notify = r.chance(0.15);
  const id = m.nextId++;
  const frame: Frame = {
    category: 'bad-token',
    sub: notify ? `${sub} (notification)` : sub,
    data: JSON.stringify({
      jsonrpc: '2.0',
      ...(notify ? {} : { id }),
      method: 'relay.connect',
      params,
    }),
    malformed: false,
  };
  if (!notify) frame.reply = { id, accept: [code] };
  return { kind: 'bad-token', category: 'bad-token', sub: frame.sub, frames: [frame], close };
}
