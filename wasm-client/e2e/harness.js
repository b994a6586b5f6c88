// Test harness: the official Node socket.io server, a static file server for the package,
// and headless Chromium (Debian's, driven by playwright-core).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { Server } from 'socket.io';
import { chromium } from 'playwright-core';
import { before, after } from 'node:test';
import { fileURLToPath } from 'node:url';

export { freePort } from '../../tests/support/sockeye-demo.mjs';

/**
 * Starts a socket.io 4.8 server on `port` speaking the test contract:
 *  - `echo` (...args, ack): acks with the same arguments.
 *  - `ask` (event, ...args): emits `event` with args and an ack to the client, then emits
 *    `answer` with what the client acked.
 *  - `say` (event, ...args): emits `event` with args (no ack).
 *  - `transport` (ack): acks with the Engine.IO transport name.
 *  - `store` (value): appends value to `received`.
 *  - `bye`: disconnects the socket (server side).
 *  - `drop`: closes the underlying connection (as a network failure would).
 *  - `noack` (ack): never acks.
 *  - `flaky` (value, ack): acks `value` on every second call only (per socket); each call
 *    is recorded in `received` as `flaky <value>`.
 * Namespace `/admin` requires `auth.token === 'secret'`, else refuses with message
 * `unauthorized` and data `{ reason: 'bad token' }`.
 */
export function startSocketIo(port, opts = {}) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    cors: { origin: true, credentials: true },
    pingInterval: 2000,
    pingTimeout: 2000,
    ...opts,
  });
  const received = [];
  const contract = (socket) => {
    socket.on('echo', (...args) => {
      const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      if (ack) ack(...args);
    });
    socket.on('ask', async (event, ...args) => {
      const res = await socket.timeout(5000).emitWithAck(event, ...args).catch((e) => `error: ${e.message}`);
      socket.emit('answer', res);
    });
    socket.on('say', (event, ...args) => socket.emit(event, ...args));
    socket.on('transport', (ack) => ack(socket.conn.transport.name));
    socket.on('store', (v) => received.push(v));
    socket.on('bye', () => socket.disconnect());
    socket.on('drop', () => socket.conn.close());
    socket.on('noack', () => {});
    let flakyCalls = 0;
    socket.on('flaky', (value, ack) => {
      received.push(`flaky ${value}`);
      flakyCalls += 1;
      if (flakyCalls % 2 === 0) ack(value);
    });
  };
  io.on('connection', contract);
  const admin = io.of('/admin');
  admin.use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === 'secret') return next();
    const err = new Error('unauthorized');
    err.data = { reason: 'bad token' };
    return next(err);
  });
  admin.on('connection', (socket) => {
    contract(socket);
    socket.emit('welcome', `admin ${socket.handshake.auth.token}`);
  });
  return new Promise((resolve) => {
    httpServer.listen(port, '127.0.0.1', () => resolve({
      io,
      received,
      url: `http://127.0.0.1:${port}`,
      // io.close() sends every client its close packet; connections still open a second
      // later (keep-alive, a poll in flight) are cut so that close() always finishes.
      close: () => new Promise((r) => {
        io.close(() => r());
        setTimeout(() => httpServer.closeAllConnections(), 1000).unref();
      }),
    }));
  });
}

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

/**
 * Serves `root` over HTTP, plus `/test.html` that imports `module` as `window.sio`. A bare
 * `module` name (e.g. `sockeye-client`) resolves through an import map to
 * `/node_modules/<module>/index.js`, as a bundler would resolve an installed package.
 */
export function startStatic(root, module) {
  const bare = !module.startsWith('/') && !module.startsWith('.');
  const importMap = bare
    ? `<script type="importmap">${JSON.stringify({ imports: { [module]: `/node_modules/${module}/index.js` } })}</script>`
    : '';
  const page = `<!doctype html><meta charset="utf-8"><title>sockeye-client test</title>
${importMap}
<script type="module">
import * as sio from '${module}';
window.sio = sio;
// Resolves with the arguments of the next \`ev\` on \`emitter\`; rejects after \`ms\`.
window.next = (emitter, ev, ms = 8000) => new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error('timed out waiting for ' + ev)), ms);
  emitter.once(ev, (...args) => { clearTimeout(t); resolve(args); });
});
window.ready = true;
</script>`;
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (p === '/test.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
      return;
    }
    const file = path.join(root, path.normalize(p));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}`,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
    }));
  });
}

/** Headless Debian Chromium with the flags of shared/README §4 and a fresh profile. */
export async function launchChromium() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockeye-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A new page with the package loaded (`window.sio`); browser errors fail loudly. */
export async function openPage(context, staticUrl) {
  const page = await context.newPage();
  // Uncaught exceptions in the page (a panic in the wasm would be one).
  page.errors = [];
  page.on('pageerror', (e) => { page.errors.push(e); console.error('page error:', e); });
  await page.goto(`${staticUrl}/test.html`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 10000 });
  return page;
}

/** Resolves once `check()` is true; rejects after `ms`. */
export async function eventually(check, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not true after ${ms} ms: ${check}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A broken Engine.IO server on `port`: long-polling GETs are answered in turn from
 * `bodies` (then held open), POSTs with `ok`. CORS allows any origin.
 */
export function startScripted(port, bodies) {
  let next = 0;
  const held = [];
  const server = http.createServer((req, res) => {
    res.setHeader('access-control-allow-origin', req.headers.origin || '*');
    res.setHeader('access-control-allow-credentials', 'true');
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-headers', 'content-type');
      res.end();
      return;
    }
    req.resume();
    if (req.method === 'POST') {
      req.on('end', () => res.end('ok'));
      return;
    }
    if (next < bodies.length) res.end(bodies[next++]);
    else held.push(res);
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise((r) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
    }));
  });
}

/** Fast reconnection, so that restarts take well under a second. */
export const FAST = { reconnectionDelay: 100, reconnectionDelayMax: 200 };

/** Test options: a hung test fails instead of holding the run. */
export const T = { timeout: 60000 };

/**
 * Registers hooks that launch Chromium and serve the package under test (`SOCKEYE_PKG`,
 * default `wasm-client/pkg`, loaded as `SOCKEYE_MODULE`, default `/index.js`) for the whole
 * file; returns `newPage()`, a fresh page with the package loaded as `window.sio`.
 */
export function usePackagePages() {
  const pkg = process.env.SOCKEYE_PKG
    || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'pkg');
  const module = process.env.SOCKEYE_MODULE || '/index.js';
  let browser;
  let files;
  before(async () => {
    browser = await launchChromium();
    files = await startStatic(pkg, module);
  });
  after(async () => {
    await browser.close();
    await files.close();
  });
  return () => openPage(browser.context, files.url);
}
