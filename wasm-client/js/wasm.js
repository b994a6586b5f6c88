// The wasm Manager as the loaders (load/) hand it to index.js: a class over the wasm's plain
// exports (src/abi.rs), written by hand instead of wasm-bindgen's generated class (whose
// per-method shims weigh more on both sides). The wasm's imports are plain functions too:
// the clock and the host's JSON and base64 (host.js), their text and answers passed through
// wasm memory; this module instantiates the wasm itself (no wasm-bindgen glue).
//
// Bytes go in as blocks this module allocates with the wasm's `sk_alloc` and writes; the call
// they are passed to takes them over (`ptr` 0: none). What a call answers in bytes is left by
// the wasm in the manager's slot: the call returns its length (negative: none), `sk_out`
// where it is, and it is copied out at once. What an import answers is kept here: the import
// returns its length (negative: none), and the wasm, having allocated as much, has `take`
// copy it.
import { json, b64decode, b64encode } from './host.js';

let wasm;
let kept;

const utf8 = new TextEncoder();
// ignoreBOM: a leading U+FEFF is text like any other (JSON.parse refuses it, a quote keeps it).
const text = new TextDecoder('utf-8', { ignoreBOM: true });
const NONE = [0, 0];

/** The `n` bytes of wasm memory at `ptr` (a view). */
const mem = (ptr, n) => new Uint8Array(wasm.memory.buffer, ptr >>> 0, n);
/** The UTF-8 text of `n` bytes at `ptr`. */
const read = (ptr, n) => text.decode(mem(ptr, n));
/** Keeps an import's answer (bytes, a string as UTF-8, `undefined` for none): its length. */
function keep(a) {
  if (a === undefined) return -1;
  kept = typeof a === 'string' ? utf8.encode(a) : a;
  return kept.length;
}

const imports = {
  sk: {
    now: () => performance.now(),
    json: (t, n, op, k, kn) => keep(json(read(t, n), op, read(k, kn))),
    b64decode: (t, n) => keep(b64decode(read(t, n))),
    b64encode: (u, n) => keep(b64encode(mem(u, n))),
    take: (ptr) => mem(ptr, kept.length).set(kept),
  },
};

/** Instantiates the wasm: `{ module }`, its bytes or a compiled `WebAssembly.Module`. */
export function initSync({ module }) {
  if (!(module instanceof WebAssembly.Module)) module = new WebAssembly.Module(module);
  wasm = new WebAssembly.Instance(module, imports).exports;
}

/** `u8` copied into a block of wasm memory: `[ptr, len]`. */
function put(u8, size = 1, View = Uint8Array) {
  const ptr = wasm.sk_alloc(u8.length * size, size) >>> 0;
  new View(wasm.memory.buffer, ptr, u8.length).set(u8);
  return [ptr, u8.length];
}
const str = (s) => (s == null ? NONE : put(utf8.encode(s)));

/** The answer of `n` bytes the last call left in `slot` (`undefined` if `n` is negative). */
function out(slot, n) {
  return n < 0 ? undefined
    : new Uint8Array(wasm.memory.buffer, wasm.sk_out(slot) >>> 0, n).slice();
}
const answer = (slot, n) => (n < 0 ? undefined : text.decode(out(slot, n)));

// A manager is freed when its object is unreachable.
const slots = typeof FinalizationRegistry === 'undefined' ? null
  : new FinalizationRegistry((slot) => wasm.sk_free(slot));

export class Manager {
  /** `opts`: the options as a `Float64Array` (index.js's `config`); `seed`: the jitter's. */
  constructor(opts, seed) {
    this._s = wasm.sk_new(...put(opts, 8, Float64Array), seed);
    if (slots) slots.register(this, this._s);
  }

  command(kind, nsp) { wasm.sk_command(this._s, kind, ...str(nsp)); }

  provideAuth(nsp, auth) { return wasm.sk_provide_auth(this._s, ...str(nsp), ...str(auth)) !== 0; }

  reconfigure(opts) { wasm.sk_reconfigure(this._s, ...put(opts, 8, Float64Array)); }

  emit(nsp, data, att, flags, n) {
    return wasm.sk_emit(this._s, ...str(nsp), ...str(data), ...put(att), flags, n);
  }

  socket(nsp) { return answer(this._s, wasm.sk_socket(this._s, ...str(nsp))); }

  engine() { return answer(this._s, wasm.sk_engine(this._s)); }

  input(kind, gen, t, data) {
    return wasm.sk_input(this._s, kind, gen, ...str(t), ...(data == null ? NONE : put(data))) !== 0;
  }

  drain() { return out(this._s, wasm.sk_drain(this._s)); }
}
