// Shared by the tests of this folder: the packed sockeye-client installed in a scratch app,
// a static file server (with a slow .wasm, extra headers), the servers and Chromium of
// ../e2e/harness.js and tests/support/sockeye-demo.mjs.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { freePort, startSocketIo, launchChromium, T } from '../e2e/harness.js';
export { startDemo, killDemos } from '../../tests/support/sockeye-demo.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG = path.resolve(HERE, '..', 'pkg');

/** The npm tarball under test: `SOCKEYE_TARBALL`, else the one wasm-client/build.sh packed. */
export function tarball() {
  if (process.env.SOCKEYE_TARBALL) return process.env.SOCKEYE_TARBALL;
  const found = fs.existsSync(PKG) && fs.readdirSync(PKG).find((f) => /^sockeye-client-.*\.tgz$/.test(f));
  if (!found) throw new Error(`no sockeye-client tarball in ${PKG}: run wasm-client/build.sh`);
  return path.join(PKG, found);
}

/**
 * A scratch app (a directory under .work/, inside this folder so that `ws`, `esbuild` and
 * `vite` resolve from its node_modules) with the tarball unpacked as
 * node_modules/sockeye-client, as `npm install <tarball>` lays it out.
 */
export function scratchApp(name) {
  const work = path.join(HERE, '.work');
  fs.mkdirSync(work, { recursive: true });
  const dir = fs.mkdtempSync(path.join(work, `${name}-`));
  const mod = path.join(dir, 'node_modules', 'sockeye-client');
  fs.mkdirSync(mod, { recursive: true });
  execFileSync('tar', ['-xzf', tarball(), '-C', mod, '--strip-components=1']);
  return { dir, module: mod, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const TYPES = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.html': 'text/html', '.css': 'text/css',
};

/**
 * Serves the files of `root` (plus `pages`, path -> HTML text) on a free port. `headers` are
 * added to every HTML answer (e.g. a Content-Security-Policy); `.wasm` files are answered
 * after `wasmDelay` ms, so that a page's first calls run before the wasm is ready.
 */
export function serveStatic(root, { pages = {}, headers = {}, wasmDelay = 0 } = {}) {
  const requested = [];
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requested.push(p);
    if (p === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (pages[p] !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html', ...headers });
      res.end(pages[p]);
      return;
    }
    const file = path.join(root, path.normalize(p === '/' ? '/index.html' : p));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      res.end();
      return;
    }
    const ext = path.extname(file);
    const send = () => {
      res.writeHead(200, { 'content-type': TYPES[ext] || 'application/octet-stream', ...(ext === '.html' ? headers : {}) });
      fs.createReadStream(file).pipe(res);
    };
    if (ext === '.wasm' && wasmDelay) setTimeout(send, wasmDelay);
    else send();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}`,
      requested,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
    }));
  });
}

/**
 * Opens `url` in a new page of `context`, waits for `window.result` (set by the page's app:
 * `{ ok: true, ... }` or `{ error }`), and returns it with the page's uncaught errors and
 * console errors.
 */
export async function runPage(context, url, ms = 20000) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e && e.message ? e.message : e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await page.goto(url);
    let result;
    try {
      await page.waitForFunction(() => window.result !== undefined, null, { timeout: ms });
      result = await page.evaluate(() => window.result);
    } catch (e) {
      result = { timedOut: true };
    }
    return { result, errors };
  } finally {
    await page.close();
  }
}
