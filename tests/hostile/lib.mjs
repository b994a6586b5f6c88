// Shared by attacks.test.js, figures.mjs and soak.mjs: the server under test (a binary we
// start, or one already running), /proc figures, raw Engine.IO over polling, raw WebSocket
// frames, and an honest socket.io-client in a worker thread measuring its echo round trips.
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { freePort, DEMO } from '../support/sockeye-demo.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Packages installed for tests/node (socket.io-client 4.8.4, ws). */
export const nodeRequire = createRequire(path.join(HERE, '..', 'node', 'package.json'));
export const { io: ioClient } = nodeRequire('socket.io-client');
export const WebSocket = nodeRequire('ws');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Hostile polling bodies of about `max_payload` (1 MB), shared by the attacks and figures. */
export const bodies = {
  /** 500,000 one-byte packets (`6`): 999,999 bytes, just under max_payload. */
  tinyPackets: () => Array(500000).fill('6').join('\x1e'),
  /** 125,000 tiny events (`42["e"]`). */
  tinyEvents: () => Array(Math.floor(1e6 / 8)).fill('42["e"]').join('\x1e'),
  /** 60,000 CONNECTs, each to a different namespace. */
  connects: () => Array.from({ length: 60000 }, (_, i) => `40/n${i},`).join('\x1e'),
};
export { freePort, DEMO };

// ------------------------------------------------------------------------- the server

/**
 * The server under test: `SOCKEYE_URL` + `SOCKEYE_PID` (one already running: figures are read
 * from /proc/<pid>), else the binary `SOCKEYE_DEMO` (default target/debug/sockeye-demo)
 * started on a free port with `args`. Resolves `{ url, pid, close(), kill(signal), exited }`
 * (`exited`: a promise of the exit, for a server we started).
 */
export async function server(args = []) {
  if (process.env.SOCKEYE_URL) {
    const pid = Number(process.env.SOCKEYE_PID);
    if (!pid) throw new Error('SOCKEYE_URL needs SOCKEYE_PID (figures come from /proc/<pid>)');
    return { url: process.env.SOCKEYE_URL.replace(/\/$/, ''), pid, close: async () => {}, external: true };
  }
  return startDemo(args);
}

const children = new Set();
/** Starts the binary `bin` (default `SOCKEYE_DEMO`) on a free port; see `server()`. */
export async function startDemo(args = [], { bin = DEMO, wrap } = {}) {
  const port = await freePort();
  const argv = ['--port', String(port), '--host', '127.0.0.1', ...args];
  // `wrap`: a shell prefix, e.g. `ulimit -n 65536;` (soak.mjs).
  const child = wrap
    ? spawn('/bin/sh', ['-c', `${wrap} exec "$0" "$@"`, bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  const exited = new Promise((r) => child.once('exit', (code, signal) => { children.delete(child); r({ code, signal, at: Date.now() }); }));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sockeye-demo did not start:\n${log}`)), 30000);
    const onData = (d) => {
      if (log.length < 1 << 20) log += d;
      if (/listening/.test(log)) { clearTimeout(timer); resolve(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`sockeye-demo exited (${code}):\n${log}`)); });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    exited,
    log: () => log,
    kill: (sig = 'SIGTERM') => child.kill(sig),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
/** Kills every server still running (for an `after` hook). */
export function killDemos() { for (const c of children) c.kill('SIGKILL'); }

// ------------------------------------------------------------------------- /proc figures

/** Resident set size in MiB. */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}
/** CPU seconds so far (utime + stime). */
export function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15; CLK_TCK is 100
}
/** Open file descriptors. */
export function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Samples RSS every 50 ms until stopped: `{ stop() -> { peak, cpu } }` with CPU seconds used. */
export function monitor(pid) {
  const cpu0 = cpuSeconds(pid);
  let peak = rssMiB(pid);
  const t = setInterval(() => { try { peak = Math.max(peak, rssMiB(pid)); } catch { /* exited */ } }, 50);
  return {
    stop() {
      clearInterval(t);
      try { peak = Math.max(peak, rssMiB(pid)); } catch { /* exited */ }
      return { peak, cpu: cpuSeconds(pid) - cpu0 };
    },
  };
}

/** Waits (≤ `ms`) for RSS to fall to `limit` MiB; returns the last reading. */
export async function rssSettles(pid, limit, ms = 8000) {
  const end = Date.now() + ms;
  let r = rssMiB(pid);
  while (r > limit && Date.now() < end) { await sleep(200); r = rssMiB(pid); }
  return r;
}
/** Waits (≤ `ms`) for the fd count to fall to `limit`; returns the last reading. */
export async function fdsSettle(pid, limit, ms = 8000) {
  const end = Date.now() + ms;
  let n = fdCount(pid);
  while (n > limit && Date.now() < end) { await sleep(200); n = fdCount(pid); }
  return n;
}

// ------------------------------------------------------------------------- raw HTTP

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request; resolves `{ status, body, ms }` (`status` 0 and `error` when the connection failed). */
export function request(url, { method = 'GET', body, headers = {}, timeout = 30000, agent: a = agent } = {}) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body != null ? { 'content-type': 'text/plain;charset=UTF-8', 'content-length': Buffer.byteLength(body) } : {}) }, agent: a, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - t0 }));
      res.on('error', (e) => resolve({ status: 0, error: e.message, body: '', ms: Date.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.message, body: '', ms: Date.now() - t0 }));
    if (body != null) req.write(body);
    req.end();
  });
}

/** An Engine.IO polling session: `{ sid, url, ms }` (handshake answered `0{json}`). */
export async function pollingHandshake(base, headers = {}, a = agent) {
  const r = await request(`${base}/socket.io/?EIO=4&transport=polling`, { headers, agent: a });
  if (r.status !== 200 || r.body[0] !== '0') throw new Error(`handshake: ${r.status} ${r.body.slice(0, 200)}`);
  const { sid } = JSON.parse(r.body.slice(1));
  return { sid, url: `${base}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, ms: r.ms };
}

/** Runs `fn(i)` for i in [0, n) with at most `limit` at a time; resolves the results. */
export async function pool(n, limit, fn) {
  const out = new Array(n);
  let next = 0;
  const worker = async () => { while (next < n) { const i = next++; out[i] = await fn(i); } };
  await Promise.all(Array.from({ length: Math.min(n, limit) }, worker));
  return out;
}

// ------------------------------------------------------------------------- raw WebSocket

/** A client WebSocket frame (masked), text (`op` 1) by default. */
export function wsFrame(payload, op = 1, announced) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = announced ?? data.length;
  let head;
  if (len < 126) head = Buffer.from([0x80 | op, 0x80 | len]);
  else if (len < 65536) { head = Buffer.alloc(4); head[0] = 0x80 | op; head[1] = 0x80 | 126; head.writeUInt16BE(len, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x80 | op; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(len), 2); }
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/** A TCP connection that did the WebSocket upgrade of Engine.IO: resolves the socket. */
export function rawWebSocket(base) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const tcp = net.connect(Number(port), hostname);
    let head = '';
    const onData = (d) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        tcp.off('data', onData);
        if (!head.startsWith('HTTP/1.1 101')) { tcp.destroy(); reject(new Error(head.split('\r\n')[0])); return; }
        resolve(tcp);
      }
    };
    tcp.on('data', onData);
    tcp.on('error', reject);
    tcp.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      'Sec-WebSocket-Version: 13\r\n\r\n');
  });
}

/** Resolves true once `tcp` is closed by the peer (EOF, reset), false after `ms`. Data is discarded. */
export function closedWithin(tcp, ms) {
  return new Promise((resolve) => {
    if (tcp.destroyed || tcp.readableEnded) { resolve(true); return; }
    const t = setTimeout(() => resolve(false), ms);
    const done = () => { clearTimeout(t); resolve(true); };
    tcp.on('end', done);
    tcp.on('close', done);
    tcp.on('error', () => {});
    tcp.on('data', () => {});
    tcp.resume();
  });
}

// ------------------------------------------------------------------------- honest client

/**
 * Starts an honest socket.io-client (WebSocket) in a worker thread that does `echo` round
 * trips every `every` ms. `stop()` resolves `{ handshakeMs, max, p50, count, failures }`.
 */
export async function honest(url, { every = 20, connectTimeout = 10000 } = {}) {
  const w = new Worker(path.join(HERE, 'honest-worker.mjs'), { workerData: { url, every, connectTimeout } });
  await new Promise((resolve, reject) => {
    w.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
    w.once('error', reject);
  });
  return {
    stop: () => new Promise((resolve, reject) => {
      w.once('message', (m) => { w.terminate(); resolve(m); });
      w.once('error', reject);
      w.postMessage('stop');
    }),
  };
}

/** `fmt(x)`: one decimal. */
export const fmt = (x) => (typeof x === 'number' ? x.toFixed(1) : String(x));
