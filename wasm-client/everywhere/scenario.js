// The round trip every entry runs (browser pages of every build, Node with import and
// require): a plain script (no import/export) that defines `globalThis.scenario`, so that a
// classic <script>, a bundled module and Node can all load it.
//
// scenario(io, url, opts) connects with `io(url, opts)` and, before anything else (so before
// the wasm is ready where it loads asynchronously), emits three events with ack callbacks and
// one volatile event; then waits for `connect`, checks the acks arrive in order, echoes text
// and binary (`echo` acks with its arguments: sockeye-demo and the test socket.io server
// both do), disconnects, and resolves with what it saw.
globalThis.scenario = async function scenario(io, url, opts) {
  const t0 = typeof performance !== 'undefined' ? performance.now() : 0;
  const s = io(url, Object.assign({ forceNew: true }, opts));
  const log = [];
  const connectedAtOnce = s.connected;
  const early = [1, 2, 3].map((n) => new Promise((resolve) => {
    s.emit('echo', 'early', n, (...args) => { log.push(`ack ${n}`); resolve(args); });
  }));
  s.volatile.emit('echo', 'volatile while offline');
  const withTimeout = (p, ms, what) => {
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  };
  await withTimeout(new Promise((resolve) => s.once('connect', resolve)), 10000, 'connect');
  log.push('connect');
  const earlyAcks = await withTimeout(Promise.all(early), 5000, 'early acks');
  const text = await withTimeout(new Promise((resolve) => {
    s.emit('echo', 'hi', 1, { a: [true, null] }, (...args) => resolve(args));
  }), 5000, 'text echo');
  const bin = await s.timeout(5000).emitWithAck('echo', { b: new Uint8Array([1, 2, 255]), n: 7 });
  if (!(opts && opts.transports) && s.io.transport !== 'websocket') {
    await withTimeout(new Promise((resolve) => s.io.once('upgrade', resolve)), 5000, 'upgrade');
  }
  const out = {
    ok: true,
    connectedAtOnce,
    id: s.id,
    earlyAcks,
    text,
    bin: Array.from(new Uint8Array(bin.b)),
    binIsArrayBuffer: bin.b instanceof ArrayBuffer,
    binKind: bin.b.constructor.name,
    binN: bin.n,
    transport: s.io.transport,
  };
  // In a browser: whether the .wasm arrived after io() was called (the queued path ran).
  if (typeof performance !== 'undefined' && performance.getEntriesByType) {
    const wasm = performance.getEntriesByType('resource').find((e) => /\.wasm($|\?)/.test(e.name));
    if (wasm) out.wasmAfterIo = wasm.responseEnd > t0;
  }
  const down = new Promise((resolve) => s.once('disconnect', resolve));
  s.disconnect();
  out.reason = await withTimeout(down, 5000, 'disconnect');
  log.push('disconnect');
  out.connectedAfter = s.connected;
  out.log = log;
  return out;
};

/** Runs the scenario and stores a JSON-safe result in `globalThis.result`. */
globalThis.runScenario = function runScenario(io, url, opts) {
  return globalThis.scenario(io, url, opts).then((r) => {
    globalThis.result = r;
    return r;
  }, (e) => {
    globalThis.result = { error: String(e && e.stack ? e.stack : e) };
    return globalThis.result;
  });
};
