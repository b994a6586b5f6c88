// The honest client of lib.mjs `honest()`: socket.io-client over WebSocket, `echo` with an ack
// every `every` ms (one at a time), in its own thread so that the attackers' work in the main
// thread does not inflate its figures. Measures the handshake (until `connect`) and each
// round trip; a round trip that fails (timeout, disconnect) counts as a failure and as `connectTimeout`.
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node', 'package.json'));
const { io } = require('socket.io-client');

const { url, every, connectTimeout = 10000 } = workerData;
const rtts = [];
let failures = 0;
let stopping = false;
const t0 = performance.now();
const socket = io(url, { transports: ['websocket'], reconnection: false, timeout: connectTimeout });
let handshakeMs;
socket.once('connect_error', (e) => parentPort.postMessage(`connect_error: ${e.message}`));
socket.once('connect', async () => {
  handshakeMs = performance.now() - t0;
  parentPort.postMessage('ready');
  let i = 0;
  while (!stopping) {
    const s = performance.now();
    try {
      const r = await socket.timeout(connectTimeout).emitWithAck('echo', { i });
      if (r?.i !== i) throw new Error('wrong echo');
      rtts.push(performance.now() - s);
    } catch {
      failures++;
      rtts.push(connectTimeout);
      if (!socket.connected) break;
    }
    i++;
    await new Promise((r) => setTimeout(r, every));
  }
});
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  stopping = true;
  const sorted = [...rtts].sort((a, b) => a - b);
  const connected = socket.connected;
  socket.close();
  parentPort.postMessage({
    handshakeMs,
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    p50: sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN,
    count: sorted.length,
    failures,
    connected,
  });
});
