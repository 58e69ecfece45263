/**
 * One server under load, in its own process (the bench pins it to one core with taskset):
 * `node --expose-gc bench/relay/server.mjs ours|peerjs|floor`. Talks to the bench over IPC:
 * reports its port, issues tokens (ours), and reports CPU time and memory on request.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const kind = process.argv[2];
export const PROJECT = { id: 'bench', token: 'bench-project-token-0123456789abcdef' };

// BENCH_ALLOC_PROFILE=file: a sampling profile of every allocation (collected ones included)
// from start to stop, written to that file (open it in Chrome DevTools, Memory tab).
const allocations = process.env.BENCH_ALLOC_PROFILE && (await startAllocationProfile());
const started = await start(kind);
process.send({ type: 'ready', port: started.port });

process.on('message', async (message) => {
  try {
    if (message.type === 'tokens') {
      const tokens = [];
      for (let i = 0; i < message.count; i += 1) {
        const { jwtToken } = await started.relay.issueToken({
          project: PROJECT.id,
          resource: `u${i}`,
          expiresInMinutes: 60,
        });
        tokens.push(jwtToken);
      }
      process.send({ type: 'tokens', tokens });
    } else if (message.type === 'usage') {
      if (message.gc) {
        globalThis.gc?.();
        globalThis.gc?.();
      }
      process.send({ type: 'usage', ...usage(), stats: started.stats?.() });
    } else if (message.type === 'snapshot') {
      // A heap snapshot after a full GC, for bench/relay/heapProfile.mjs.
      globalThis.gc?.();
      globalThis.gc?.();
      const { writeHeapSnapshot } = await import('node:v8');
      process.send({ type: 'snapshot', path: writeHeapSnapshot(message.path) });
    } else if (message.type === 'stop') {
      await allocations?.stop(process.env.BENCH_ALLOC_PROFILE);
      await started.close();
      process.exit(0);
    }
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
  }
});

function usage() {
  const cpu = process.cpuUsage();
  const status = readFileSync('/proc/self/status', 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
  const memory = process.memoryUsage();
  return {
    cpuMicros: cpu.user + cpu.system,
    systemMicros: cpu.system,
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    peakRss: hwm,
  };
}

async function start(kind) {
  if (kind === 'ours') {
    const { createRelayServer, RedisStore } = await import('../../dist/server/index.js');
    // Two nodes on one Redis (the cross-node run): store and cluster there.
    const redis = process.env.BENCH_REDIS_URL;
    const relay = await createRelayServer({
      ...(redis ? { store: await RedisStore.open(redis), cluster: { url: redis } } : {}),
      projects: [PROJECT],
      // The load is many messages per socket, and thousands of sockets connecting at once, from
      // one address: the per-socket rate limit (50/s by default) and the per-address caps on
      // unauthenticated sockets (32) and HTTP connections (128), abuse guards all, would refuse
      // it. Everything else keeps its default.
      limits: {
        messagesPerSecond: 1_000_000,
        messageBurst: 1_000_000,
        maxSessionsPerProject: 20_000,
        maxUnauthenticatedPerAddress: 1_000_000,
        maxConnectionsPerAddress: 1_000_000,
      },
    });
    const url = await relay.listen({ port: 0, host: '127.0.0.1' });
    return {
      port: Number(new URL(url).port),
      relay,
      stats: () => relay.stats(),
      close: () => relay.close(),
    };
  }
  if (kind === 'peerjs') {
    const { PeerServer } = await import('peer');
    const server = await new Promise((resolve) => {
      // concurrent_limit is 5,000 by default; raised so 10,000 sessions can be compared.
      PeerServer({ port: 0, host: '127.0.0.1', path: '/', concurrent_limit: 100_000 }, resolve);
    });
    return {
      port: server.address().port,
      close: () =>
        new Promise((resolve) => {
          server.closeAllConnections?.();
          server.close(resolve);
        }),
    };
  }
  if (kind === 'floor') {
    // The floor: a bare ws server that forwards each frame, unchanged, to the socket named in it.
    const server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
    const sockets = new Map();
    wss.on('connection', (ws, req) => {
      const id = new URL(req.url, 'http://x').searchParams.get('id');
      sockets.set(id, ws);
      ws.on('close', () => sockets.get(id) === ws && sockets.delete(id));
      ws.on('message', (data) => {
        const text = data.toString();
        sockets.get(JSON.parse(text).dst)?.send(text);
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: server.address().port,
      stats: () => ({ sockets: sockets.size }),
      close: () =>
        new Promise((resolve) => {
          server.closeAllConnections?.();
          server.close(resolve);
        }),
    };
  }
  throw new Error(`unknown server kind "${kind}" (ours, peerjs or floor)`);
}

async function startAllocationProfile() {
  const { Session } = await import('node:inspector');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return {
    async stop(path) {
      const { profile } = await post('HeapProfiler.stopSampling');
      writeFileSync(path, JSON.stringify(profile));
    },
  };
}
