// sockeye-client in headless Chromium against sockeye-demo, loaded every way a page can:
// an app bundled by esbuild (its defaults: an IIFE for browsers; and --format=esm) and by Vite
// (`vite build`, no config), the classic script (`<script src>`, global `io`), the ES module
// itself; then the Content-Security-Policy a page needs. The packed tarball is installed in a
// scratch app; the .wasm is served late, so that every page calls io() and emits before the
// wasm is ready (the result says whether it did).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  HERE, T, freePort, scratchApp, startDemo, killDemos, startSocketIo, launchChromium, serveStatic,
  runPage,
} from './support.js';

const BIN = path.join(HERE, 'node_modules', '.bin');
const WASM_DELAY = 400;
const MAIN = `import { io } from 'sockeye-client';
import './scenario.js';
runScenario(io, new URLSearchParams(location.search).get('server'), {});
`;

let app;
let demo;
let browser;
before(async () => {
  app = scratchApp('web');
  fs.copyFileSync(path.join(HERE, 'scenario.js'), path.join(app.dir, 'scenario.js'));
  fs.writeFileSync(path.join(app.dir, 'main.js'), MAIN);
  demo = await startDemo(await freePort(), { args: ['--cors-any'] });
  browser = await launchChromium();
});
after(async () => {
  if (browser) await browser.close();
  if (demo) await demo.close();
  killDemos();
  if (app) app.remove();
});

function assertRoundTrip({ result: r, errors }) {
  assert.deepEqual(errors, []);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.wasmAfterIo, true, 'the page called io() before the .wasm arrived');
  assert.equal(r.connectedAtOnce, false);
  assert.deepEqual(r.earlyAcks, [['early', 1], ['early', 2], ['early', 3]]);
  assert.deepEqual(r.text, ['hi', 1, { a: [true, null] }]);
  assert.deepEqual(r.bin, [1, 2, 255]);
  assert.equal(r.binIsArrayBuffer, true);
  assert.equal(r.transport, 'websocket');
  assert.equal(r.reason, 'io client disconnect');
  assert.deepEqual(r.log, ['connect', 'ack 1', 'ack 2', 'ack 3', 'disconnect']);
}

/** Serves `dir`, opens `page` with `?server=`, returns what the page saw. */
async function visit(dir, page, opts = {}) {
  const files = await serveStatic(dir, { wasmDelay: WASM_DELAY, ...opts });
  try {
    const seen = await runPage(browser.context, `${files.url}${page}?server=${encodeURIComponent(demo.url)}`);
    seen.requested = files.requested;
    return seen;
  } finally {
    await files.close();
  }
}

for (const format of [undefined, 'esm']) {
  test(`esbuild (${format ? `--format=${format}` : 'default options'}), the .wasm copied next to the bundle`, T, async () => {
    const out = path.join(app.dir, `dist-esbuild-${format || 'default'}`);
    fs.mkdirSync(out);
    execFileSync(path.join(BIN, 'esbuild'), ['main.js', '--bundle', `--outfile=${out}/app.js`,
      ...(format ? [`--format=${format}`] : [])], { cwd: app.dir, stdio: 'pipe' });
    fs.copyFileSync(path.join(app.module, 'sockeye_wasm_bg.wasm'), path.join(out, 'sockeye_wasm_bg.wasm'));
    fs.writeFileSync(path.join(out, 'index.html'), `<!doctype html><meta charset="utf-8">
<script ${format === 'esm' ? 'type="module" ' : ''}src="app.js"></script>`);
    assertRoundTrip(await visit(out, '/index.html'));
  });
}

test('vite build (no config): the .wasm is an emitted asset', T, async () => {
  const root = path.join(app.dir, 'vite-app');
  fs.mkdirSync(root);
  fs.copyFileSync(path.join(app.dir, 'scenario.js'), path.join(root, 'scenario.js'));
  fs.writeFileSync(path.join(root, 'main.js'), MAIN);
  fs.writeFileSync(path.join(root, 'index.html'), `<!doctype html><meta charset="utf-8">
<script type="module" src="./main.js"></script>`);
  execFileSync(process.execPath, [path.join(BIN, 'vite'), 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'pipe' });
  const assets = fs.readdirSync(path.join(root, 'dist', 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `assets: ${assets}`);
  const seen = await visit(path.join(root, 'dist'), '/index.html');
  assert.ok(seen.requested.some((p) => /^\/assets\/.*\.wasm$/.test(p)), seen.requested.join(' '));
  assertRoundTrip(seen);
});

const CLASSIC = `<!doctype html><meta charset="utf-8">
<script src="/node_modules/sockeye-client/sockeye-client.min.js"></script>
<script src="/scenario.js"></script>
<script src="/classic-main.js"></script>`;
const ESM = `<!doctype html><meta charset="utf-8">
<script type="module" src="/esm-main.js"></script>`;

function writePageScripts() {
  fs.writeFileSync(path.join(app.dir, 'classic-main.js'), `
window.globals = { type: typeof io, Manager: typeof io.Manager, Socket: typeof io.Socket,
  connect: io.connect === io, io: io.io === io, protocol: io.protocol };
runScenario(io, new URLSearchParams(location.search).get('server'), {});
`);
  fs.writeFileSync(path.join(app.dir, 'esm-main.js'), `
import { io } from '/node_modules/sockeye-client/index.js';
import '/scenario.js';
runScenario(io, new URLSearchParams(location.search).get('server'), {});
`);
}

test('classic script: global io, usable at once; the .wasm found next to the script', T, async () => {
  writePageScripts();
  const files = await serveStatic(app.dir, { pages: { '/classic.html': CLASSIC }, wasmDelay: WASM_DELAY });
  try {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${files.url}/classic.html?server=${encodeURIComponent(demo.url)}`);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    const [result, globals] = await page.evaluate(() => [window.result, window.globals]);
    await page.close();
    assert.deepEqual(globals, {
      type: 'function', Manager: 'function', Socket: 'function', connect: true, io: true, protocol: 5,
    });
    assert.ok(files.requested.includes('/node_modules/sockeye-client/sockeye_wasm_bg.wasm'), files.requested.join(' '));
    assertRoundTrip({ result, errors });
  } finally {
    await files.close();
  }
});

// Compiling WebAssembly needs 'wasm-unsafe-eval' in script-src; nothing else beyond the
// page's own scripts ('self'). Without it, the page must fail (and say why).
for (const [name, html] of [['classic script', CLASSIC], ['ES module', ESM]]) {
  test(`CSP, ${name}: script-src 'self' 'wasm-unsafe-eval' works, script-src 'self' fails`, T, async () => {
    writePageScripts();
    const ok = await visit(app.dir, '/page.html', {
      pages: { '/page.html': html },
      headers: { 'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:*" },
    });
    assertRoundTrip(ok);
    const refused = await visit(app.dir, '/page.html', {
      pages: { '/page.html': html },
      headers: { 'content-security-policy': "default-src 'self'; script-src 'self'; connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:*" },
    });
    assert.equal(refused.result.ok, undefined);
    assert.match(refused.result.error || '', /timed out: connect/);
    assert.ok(refused.errors.some((e) => /sockeye-client: cannot load .*sockeye_wasm_bg\.wasm.*(WebAssembly|wasm)/i.test(e)),
      refused.errors.join('\n'));
  });
}

test('before the wasm is ready: acks on two namespaces of one connection, a volatile emit dropped', T, async () => {
  const sio = await startSocketIo(await freePort());
  fs.writeFileSync(path.join(app.dir, 'ns-main.js'), `
import { io } from '/node_modules/sockeye-client/index.js';
const url = new URLSearchParams(location.search).get('server');
const t0 = performance.now();
const root = io(url);
const admin = io(url + '/admin', { auth: { token: 'secret' } });
const echo = (s, ...args) => new Promise((resolve) => s.emit('echo', ...args, (...r) => resolve(r)));
const acks = [echo(root, 'root', 0), echo(admin, 'admin', 0), echo(root, 'root', 1), echo(admin, 'admin', 1)];
root.volatile.emit('store', 'volatile before ready');
root.emit('store', 'kept before ready');
Promise.all(acks).then(async (acks) => {
  const wasm = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'));
  const shared = root.io === admin.io;
  await new Promise((r) => setTimeout(r, 200));
  root.disconnect();
  admin.disconnect();
  window.result = { acks, shared, wasmAfterIo: wasm.responseEnd > t0 };
}, (e) => { window.result = { error: String(e) }; });
`);
  try {
    const files = await serveStatic(app.dir, {
      pages: { '/ns.html': '<!doctype html><script type="module" src="/ns-main.js"></script>' },
      wasmDelay: WASM_DELAY,
    });
    try {
      const { result, errors } = await runPage(browser.context, `${files.url}/ns.html?server=${encodeURIComponent(sio.url)}`);
      assert.deepEqual(errors, []);
      assert.deepEqual(result, {
        acks: [['root', 0], ['admin', 0], ['root', 1], ['admin', 1]], shared: true, wasmAfterIo: true,
      });
      assert.deepEqual(sio.received, ['kept before ready']);
    } finally {
      await files.close();
    }
  } finally {
    await sio.close();
  }
});
