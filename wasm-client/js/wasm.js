// The wasm Manager as the loaders (load/) hand it to index.js: a class over the wasm's plain
// exports (src/abi.rs), written by hand instead of wasm-bindgen's generated class (whose
// per-method shims weigh more on both sides). wasm-bindgen's glue (sockeye_wasm.js) still
// instantiates the module and provides its imports.
//
// Bytes go in as blocks this module allocates with the wasm's `__wbindgen_malloc` and writes;
// the call they are passed to takes them over (`ptr` 0: none). What a call answers in bytes
// is left by the wasm in the manager's slot: the call returns its length (negative: none),
// `sk_out` where it is, and it is copied out at once.
import { initSync as instantiate } from './sockeye_wasm.js';

let wasm;

/** Instantiates the wasm: `{ module }`, its bytes or a compiled `WebAssembly.Module`. */
export function initSync(module) { wasm = instantiate(module); }

const utf8 = new TextEncoder();
const text = new TextDecoder();
const NONE = [0, 0];

/** `u8` copied into a block of wasm memory: `[ptr, len]`. */
function put(u8, size = 1, View = Uint8Array) {
  const ptr = wasm.__wbindgen_malloc(u8.length * size, size) >>> 0;
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
