/**
 * The load generator, in its own process (pinned to the other core): N raw WebSocket clients
 * speaking one server's protocol — ours (JSON-RPC: relay.connect, call.invite/answer,
 * call.signal, relay.ping with acks, as relaycall/core does), PeerJS's (OPEN, CANDIDATE,
 * HEARTBEAT, as the peerjs client does) or the floor's ({dst, payload}). Sessions are paired;
 * each sends call-signal-sized messages to its partner. Driven over IPC, phase by phase.
 */
import { WebSocket } from 'ws';

/** A trickle ICE candidate as simple-peer emits it: the typical signal of a call. */
const CANDIDATE =
  '"type":"candidate","candidate":{"candidate":"candidate:842163049 1 udp 1677729535 ' +
  '192.168.1.23 54400 typ srflx raddr 10.0.0.5 rport 54400 generation 0 ufrag Xs4a ' +
  'network-cost 999","sdpMLineIndex":0,"sdpMid":"0","usernameFragment":"Xs4a"}';
/** Keep-alive interval of both real clients (relaycall/core and peerjs), in ms. */
const KEEPALIVE_MS = 5_000;
/** relaycall/core acknowledges every 32 notifications between pings (a notification, no reply). */
const ACK_EVERY = 32;

let protocol;
let clients = [];
const errors = [];
let onDelivered = null;
let latencies = null;
let keepalive;

process.on('message', async (message) => {
  try {
    const result = await handle(message);
    process.send({ type: 'done', phase: message.type, ...result });
  } catch (error) {
    process.send({ type: 'failed', phase: message.type, error: String(error?.stack ?? error) });
  }
});

async function handle(message) {
  switch (message.type) {
    case 'connect':
      return connectAll(message);
    case 'burst':
      return burst(message);
    case 'steady':
      return steady(message);
    case 'check':
      return {
        open: clients.filter((c) => c.ws.readyState === WebSocket.OPEN).length,
        errors: errors.length,
        firstErrors: errors.slice(0, 5),
      };
    case 'settle':
      // Idle, as a deployment is between calls: keep-alives (and their acks) go out meanwhile.
      await new Promise((resolve) => setTimeout(resolve, message.ms));
      return {};
    case 'close':
      clearInterval(keepalive);
      for (const c of clients) c.closing = true;
      await Promise.all(
        clients.map(
          (c) =>
            new Promise((resolve) => {
              if (c.ws.readyState === WebSocket.CLOSED) return resolve();
              c.ws.once('close', resolve);
              c.ws.close(1000);
            }),
        ),
      );
      return {};
    default:
      throw new Error(`unknown phase ${message.type}`);
  }
}

// ---- protocols -------------------------------------------------------------------------

const protocols = {
  ours: {
    url: (port) => `ws://127.0.0.1:${port}/api/relay/ws`,
    onOpen(c, tokens) {
      c.ws.send(rpc(c, 'relay.connect', `{"project":"bench","token":"${tokens[c.index]}"}`));
    },
    onMessage(c, text) {
      // Parsed as relaycall/core does; a turn's messages arrive as one JSON-RPC batch.
      const parsed = JSON.parse(text);
      if (Array.isArray(parsed)) for (const message of parsed) this.handle(c, message);
      else this.handle(c, parsed);
    },
    handle(c, message) {
      if (message.id !== undefined) {
        if (message.error) errors.push(`ours: ${JSON.stringify(message).slice(0, 200)}`);
        const pending = c.pending;
        if (pending && message.id === pending.id) {
          c.pending = null;
          pending.resolve(message.result);
        }
        return;
      }
      const { params } = message;
      if (typeof params.seq === 'number') c.lastSeq = params.seq;
      if (c.lastSeq - c.ackedSeq >= ACK_EVERY) {
        c.ackedSeq = c.lastSeq;
        c.ws.send(`{"jsonrpc":"2.0","method":"relay.ping","params":{"ack":${c.lastSeq}}}`);
      }
      if (message.method === 'call.signal') delivered(c, params.signal.t);
      else if (message.method === 'call.incoming') {
        c.callId = params.callId;
        c.onIncoming?.();
      }
    },
    async setup(pairs) {
      // A call per pair, as relaycall places it: invite, the callee answers.
      await window(pairs, 256, async ([caller, callee]) => {
        const incoming = new Promise((resolve) => (callee.onIncoming = resolve));
        const reply = await request(caller, 'call.invite', `{"to":"u${callee.index}"}`);
        caller.callId = reply.callId;
        await incoming;
        await request(callee, 'call.answer', `{"callId":"${callee.callId}"}`);
      });
    },
    frame: (c, t) =>
      rpc(c, 'call.signal', `{"callId":"${c.callId}","signal":{${CANDIDATE},"t":${t}}}`),
    keepalive: (c) => {
      c.ackedSeq = c.lastSeq;
      c.ws.send(rpc(c, 'relay.ping', `{"ack":${c.lastSeq}}`));
    },
  },
  peerjs: {
    url: (port, c) => `ws://127.0.0.1:${port}/peerjs?key=peerjs&id=u${c.index}&token=t${c.index}`,
    onOpen() {},
    onMessage(c, text) {
      if (text.startsWith('{"type":"OPEN"')) c.ready();
      else if (text.startsWith('{"type":"CANDIDATE"')) delivered(c, timeOf(text));
      else errors.push(`peerjs: ${text.slice(0, 200)}`);
    },
    async setup() {},
    frame: (c, t) =>
      `{"type":"CANDIDATE","dst":"u${c.partner.index}","payload":{${CANDIDATE},"t":${t}}}`,
    keepalive: (c) => c.ws.send('{"type":"HEARTBEAT"}'),
  },
  floor: {
    url: (port, c) => `ws://127.0.0.1:${port}/?id=u${c.index}`,
    onOpen(c) {
      c.ready();
    },
    onMessage(c, text) {
      delivered(c, timeOf(text));
    },
    async setup() {},
    frame: (c, t) => `{"dst":"u${c.partner.index}","payload":{${CANDIDATE},"t":${t}}}`,
    keepalive: () => {},
  },
};

function rpc(c, method, params) {
  c.nextId += 1;
  return `{"jsonrpc":"2.0","id":${c.nextId},"method":"${method}","params":${params}}`;
}

function request(c, method, params) {
  return new Promise((resolve) => {
    c.ws.send(rpc(c, method, params));
    c.pending = { id: c.nextId, resolve };
  });
}

// ---- phases ----------------------------------------------------------------------------

async function connectAll({ kind, port, count, tokens, concurrency }) {
  protocol = protocols[kind];
  errors.length = 0;
  clients = Array.from({ length: count }, (_, index) => ({
    index,
    nextId: 0,
    lastSeq: 0,
    ackedSeq: 0,
    inflight: 0,
    sent: 0,
    quota: 0,
    partner: null,
  }));
  for (let i = 0; i + 1 < count; i += 2) {
    clients[i].partner = clients[i + 1];
    clients[i + 1].partner = clients[i];
  }
  const started = performance.now();
  await window(clients, concurrency, (c) => open(c, port, tokens));
  const connectMs = performance.now() - started;
  const setupStarted = performance.now();
  await protocol.setup(pairsOf(clients));
  const setupMs = performance.now() - setupStarted;
  // Staggered like real clients, whose timers start at different times.
  let next = 0;
  const perTick = Math.max(1, Math.ceil(clients.length / (KEEPALIVE_MS / 100)));
  keepalive = setInterval(() => {
    for (let k = 0; k < perTick; k += 1) {
      const c = clients[next];
      next = (next + 1) % clients.length;
      if (c.ws.readyState === WebSocket.OPEN) protocol.keepalive(c);
    }
  }, 100);
  return { connectMs, setupMs, errors: errors.length };
}

function open(c, port, tokens) {
  return new Promise((resolve, reject) => {
    // Several nodes: sessions alternate between them, so every pair spans two nodes.
    const target = Array.isArray(port) ? port[c.index % port.length] : port;
    const ws = new WebSocket(protocol.url(target, c), { perMessageDeflate: false });
    c.ws = ws;
    c.ready = () => {
      c.ready = () => {};
      resolve();
    };
    ws.on('open', () => {
      protocol.onOpen(c, tokens);
      if (protocol === protocols.ours) {
        c.pending = { id: c.nextId, resolve: () => c.ready() };
      }
    });
    ws.on('message', (data) => protocol.onMessage(c, data.toString()));
    ws.on('error', (error) => {
      errors.push(`socket ${c.index}: ${error.message}`);
      reject(error);
    });
    ws.on('close', (code) => {
      if (!c.closing) errors.push(`socket ${c.index} closed with ${code}`);
    });
  });
}

/** The send time a PeerJS or floor message carries (its payload's last key). */
function timeOf(text) {
  return Number.parseFloat(text.slice(text.lastIndexOf('"t":') + 4));
}

function delivered(c, sentAt) {
  const sender = c.partner;
  sender.inflight -= 1;
  if (latencies) latencies.push(performance.now() - sentAt);
  onDelivered?.(sender);
}

function send(c) {
  c.inflight += 1;
  c.sent += 1;
  c.ws.send(protocol.frame(c, performance.now().toFixed(3)));
}

/** Every session sends `perSession` messages, keeping `inFlight` unanswered at most. */
function burst({ messages, inFlight, timeoutMs }) {
  const perSession = Math.max(1, Math.ceil(messages / clients.length));
  const total = perSession * clients.length;
  let done = 0;
  return new Promise((resolve) => {
    const started = performance.now();
    const timer = setTimeout(() => finish(true), timeoutMs);
    const finish = (timedOut) => {
      clearTimeout(timer);
      onDelivered = null;
      const seconds = (performance.now() - started) / 1000;
      resolve({ delivered: done, total, seconds, rate: done / seconds, timedOut });
    };
    for (const c of clients) c.quota = perSession;
    onDelivered = (sender) => {
      done += 1;
      if (sender.quota > 0) {
        sender.quota -= 1;
        send(sender);
      }
      if (done === total) finish(false);
    };
    for (const c of clients) {
      for (let k = 0; k < inFlight && c.quota > 0; k += 1) {
        c.quota -= 1;
        send(c);
      }
    }
  });
}

/** Sends at a fixed total rate, round robin over the sessions; records each message's latency. */
function steady({ rate, seconds, warmupSeconds }) {
  return new Promise((resolve) => {
    let sent = 0;
    let next = 0;
    const started = performance.now();
    const measureFrom = started + warmupSeconds * 1000;
    let measuring = false;
    let measuredSent = 0;
    const recorded = [];
    const timer = setInterval(() => {
      const now = performance.now();
      if (!measuring && now >= measureFrom) {
        measuring = true;
        latencies = recorded;
        measuredSent = 0;
      }
      const due = Math.floor(((now - started) / 1000) * rate) - sent;
      for (let k = 0; k < due; k += 1) {
        send(clients[next]);
        next = (next + 1) % clients.length;
        sent += 1;
        if (measuring) measuredSent += 1;
      }
      if (now - started >= (seconds + warmupSeconds) * 1000) {
        clearInterval(timer);
        // Late messages count as lost when they have not arrived within a second.
        setTimeout(() => {
          latencies = null;
          const stream = recorded.slice();
          resolve({
            sent: measuredSent,
            received: stream.length,
            actualRate: sent / ((now - started) / 1000),
            latencies: stream,
          });
        }, 1_000);
      }
    }, 1);
  });
}

// ---- helpers -----------------------------------------------------------------------------

function pairsOf(list) {
  const pairs = [];
  for (let i = 0; i + 1 < list.length; i += 2) pairs.push([list[i], list[i + 1]]);
  return pairs;
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function window(items, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
