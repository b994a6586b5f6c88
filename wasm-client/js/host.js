// The host's JSON and base64 for sockeye-core (its features `host-json` and `host-base64`):
// where the core looks into JSON text or polling's base64, it asks these functions (see
// core/src/host.rs). The shipped client calls them through plain wasm imports (js/wasm.js
// passes the text in and the answer out through wasm memory); the wasm crate's tests
// through wasm-bindgen (src/host.rs). Neither keeps protocol state.

/**
 * The answer to `op` about the JSON text `t`, `k` the member asked for (the ops are
 * core/src/json/host.rs's `op`: 0 the shape, 1 a string member, 2 an unsigned integer
 * member, 3 a member list of strings, 4 the last element if a string, 5 the members but `pid`
 * and `offset`, 6 `t` quoted); `undefined` for none.
 */
export function json(t, op, k) {
  if (op === 6) return JSON.stringify(t);
  let v;
  try { v = JSON.parse(t); } catch (_) { return; }
  const a = Array.isArray(v);
  const o = v !== null && typeof v === 'object' && !a;
  if (op === 0) {
    return a ? (typeof v[0] === 'number' ? 'n' : typeof v[0] === 'string' ? `e${v[0]}` : 'a')
      : o ? 'o' : typeof v === 'string' ? 's' : 'x';
  }
  if (op === 4) return a && typeof v[v.length - 1] === 'string' ? v[v.length - 1] : undefined;
  if (!o) return;
  if (op === 5) {
    return Object.keys(v).filter((n) => n !== 'pid' && n !== 'offset')
      .map((n) => `,${JSON.stringify(n)}:${JSON.stringify(v[n])}`).join('');
  }
  // A member of an object from JSON.parse: own, never undefined.
  const m = v[k];
  if (m === undefined) return;
  const ok = op === 1 ? typeof m === 'string'
    : op === 2 ? Number.isInteger(m) && m >= 0
      : Array.isArray(m) && m.every((s) => typeof s === 'string');
  return ok ? `+${op === 2 ? BigInt(m) : op === 3 ? m.map((s) => `${s}\0`).join('') : m}` : '-';
}

/** `s` decoded by `atob` (forgiving base64) as bytes; `undefined` if it is not base64. */
export function b64decode(s) {
  let t;
  try { t = atob(s); } catch (_) { return; }
  const u = new Uint8Array(t.length);
  for (let i = 0; i < t.length; i += 1) u[i] = t.charCodeAt(i);
  return u;
}
/** The bytes `u` in base64 (`btoa`). */
export function b64encode(u) {
  let t = '';
  for (let i = 0; i < u.length; i += 1) t += String.fromCharCode(u[i]);
  return btoa(t);
}
