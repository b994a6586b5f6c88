// How the browser builds (the ES module index.js, bundlers, the classic script) load the wasm:
// without a top-level `await`, so that the module is usable at once by any bundler target and
// by a classic <script>. The .wasm is fetched and compiled in the background; until it is
// ready, `Engine` objects queue their calls and replay them, in order, on the real wasm
// Manager (js/wasm.js's class) as soon as it exists, calling the `pump` they were given (the
// constructor's third argument) after each, as index.js does after its own calls. Nothing here
// knows the Manager's methods but these: `emit` returns the ack id the core will assign (ids
// count from 0 in each namespace, reset when it is left), checked on replay; `command`
// connects or disconnects a namespace (making it active or not), or closes; the questions
// about the state (`socket`, `engine`) are answered from what was queued — nothing is
// connected yet — rather than queued; and `drain`/`input` (index.js's I/O) go to the real Manager once it exists.
import { initSync, Manager } from './wasm.js';

// Where the .wasm is: next to the classic <script> that is running (the classic build, or an
// app bundled as one, e.g. by esbuild's default format), else next to this ES module (the
// pattern bundlers such as Vite and webpack turn into an emitted asset).
const script = typeof document !== 'undefined' && document.currentScript;
const wasmUrl = script && script.src
  ? new URL('sockeye_wasm_bg.wasm', script.src)
  : new URL('sockeye_wasm_bg.wasm', import.meta.url);

let ready = false;
const waiting = [];
// Surfaces an error to the page without unwinding through the caller.
const report = (e) => setTimeout(() => { throw e; });
const NOTHING = new Uint8Array(0);

/** A received attachment as socket.io-client gives it in browsers: an `ArrayBuffer`. */
export const received = (u8) => u8.buffer;

/** The wasm Manager, or its stand-in until the wasm is ready. */
export class Engine {
  constructor(...args) {
    // A constructor that returns an object yields that object: once ready, the real thing.
    if (ready) return new Manager(...args);
    this._a = args;
    this._p = args[2];
    this._q = [];
    this._ids = new Map();
    this._active = new Set();
    this._r = null;
    this._m = null;
    waiting.push(this);
  }
}

const QUERIES = {
  socket: (e, nsp) => (e._active.has(nsp) ? '0' : undefined),
  engine: () => undefined,
  drain: (e) => (e._m ? e._m.drain() : NOTHING),
  input: (e, ...args) => e._m.input(...args),
};

function queue(e, name, args) {
  if (name in QUERIES) return QUERIES[name](e, ...args);
  let id = -1;
  if (name === 'emit' && args[3] & 1) {
    id = e._ids.get(args[0]) || 0;
    e._ids.set(args[0], id + 1);
  } else if (name === 'command') {
    // src/manager.rs's `command`: 0 connect, 2 disconnect namespace `nsp`, 3 close.
    const [kind, nsp] = args;
    if (kind === 0) e._active.add(nsp);
    else if (kind === 2) {
      e._ids.delete(nsp);
      e._active.delete(nsp);
    } else if (kind === 3) e._ids.clear();
  }
  e._q.push([name, args, id]);
  return id;
}

for (const name of Object.getOwnPropertyNames(Manager.prototype)) {
  const d = Object.getOwnPropertyDescriptor(Manager.prototype, name);
  if (name === 'constructor' || typeof d.value !== 'function') continue;
  Engine.prototype[name] = function (...args) {
    return this._r ? this._r[name](...args) : queue(this, name, args);
  };
}

// Fetched and compiled here, then instantiated by js/wasm.js's `initSync` (instantiating a
// compiled module is allowed on a browser's main thread; no streaming compile with its
// MIME-type fallback in every bundle).
fetch(wasmUrl).then((r) => {
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.arrayBuffer();
}).then((bytes) => WebAssembly.compile(bytes)).then((module) => {
  initSync({ module });
  ready = true;
  for (const e of waiting.splice(0)) {
    const r = new Manager(...e._a);
    e._m = r;
    // Calls made while replaying (by listeners of events the replay causes) queue behind.
    for (let i = 0; i < e._q.length; i += 1) {
      const [name, args, id] = e._q[i];
      try {
        const got = r[name](...args);
        if (name === 'emit' && got !== id) {
          report(new Error(got === -2 ? 'offline buffer full'
            : `sockeye-client: ack id ${got} where ${id} was promised`));
        }
        e._p();
      } catch (err) {
        report(err);
      }
    }
    e._r = r;
    e._q = null;
  }
}, (err) => {
  report(new Error(`sockeye-client: cannot load ${wasmUrl}: ${err && err.message}`));
});
