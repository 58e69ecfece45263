/**
 * The PeerJS server (`peer`) for the call-setup bench, in a worker thread: its housekeeping
 * timers never stop, so terminating the worker is the only way to let the bench process exit.
 * Posts `{ port }` once listening on 127.0.0.1 (port 0: a free one).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PeerServer } from 'peer';

PeerServer({ host: '127.0.0.1', port: 0, path: workerData.path, key: workerData.key }, (server) => {
  parentPort.postMessage({ port: server.address().port });
});
