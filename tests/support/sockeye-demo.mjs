// Shared by the browser test suites (wasm-client/e2e, tests/e2e-demo): free ports and the
// `sockeye-demo` binary started as a child process. Node built-ins only, so that any test
// package can import it by relative path.
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The demo binary: `SOCKEYE_DEMO`, else the debug build. */
export const DEMO = process.env.SOCKEYE_DEMO || path.join(ROOT, 'target', 'debug', 'sockeye-demo');

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const running = new Set();

/**
 * Starts `cmd args` (with `env` added to the environment) and resolves once its output
 * matches `ready`, with `{ child, output(), close() }`; `close()` stops it with SIGTERM.
 * Rejects if it exits first or is not ready within 30 s.
 */
export function startProcess(cmd, args, ready, env = {}) {
  const name = path.basename(cmd);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start:\n${out}`));
    }, 30000);
    const onData = (d) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({
          child,
          output: () => out,
          close: () => new Promise((r) => {
            if (child.exitCode !== null || child.signalCode !== null) { r(); return; }
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}):\n${out}`));
    });
  });
}

/**
 * Starts `sockeye-demo` on `port` (serving `staticDir` if given, with the extra command-line
 * `args`, e.g. `['--cors-any']`) and resolves once it logs that it listens, with
 * `{ url, close() }`; `close()` stops it with SIGTERM.
 */
export async function startDemo(port, { staticDir, args: extra = [] } = {}) {
  const args = ['--port', String(port), '--host', '127.0.0.1', ...extra];
  if (staticDir) args.push('--static', staticDir);
  const demo = await startProcess(DEMO, args, /listening/);
  return { url: `http://127.0.0.1:${port}`, close: demo.close };
}

/** Kills every process started here still running (for an `after` hook). */
export function killDemos() {
  for (const child of running) child.kill('SIGKILL');
}
