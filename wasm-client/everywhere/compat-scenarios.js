// The scenarios of the compatibility suite (compat.test.js): a plain script (no
// import/export) defining `globalThis.compat`, loaded both by Node and by a page in Chromium.
// Each scenario drives a client given as `io` (socket.io-client's or sockeye-client's: the
// code is the same, only the import differs) against a server speaking the demo contract
// (README.md "Demo event contract") and returns a trace: the events the client saw, in order,
// with their arguments, disconnect reasons, errors and ack results. compat.test.js runs each
// scenario once per client and asserts the two traces are deep-equal.
//
// Normalised, because legitimately random (the same for both clients after normalisation):
//  - socket ids (`socket.id`, ids in event payloads): replaced by `<id:NAME>` labels of the
//    scenario's sockets, or `<other id>`;
//  - the room name (unique per run, so runs cannot see each other): `<room>`;
//  - timings: waits are bounded (a missing event becomes an `error` entry, which fails the
//    test on its own), never measured;
//  - reconnection attempt counts beyond the first: consecutive `reconnect_attempt` /
//    `reconnect_error` / manager `error` / `connect_error` entries are collapsed (the first attempt kept,
//    then `...`), and the attempt number of `reconnect` becomes `n` (how many attempts fail
//    before the server is back depends on the scheduler).
// Not recorded: the `description` argument of `disconnect` and `TransportError`s (its
// content is the platform's: a CloseEvent, an XHR status, ws's error), transport names.
(function () {
  const WAIT = 5000;

  function labeller(room) {
    const ids = new Map();
    return {
      name(socket, label) {
        if (socket.id) ids.set(socket.id, label);
      },
      str(v) {
        if (v === room) return '<room>';
        if (ids.has(v)) return `<id:${ids.get(v)}>`;
        return v;
      },
    };
  }

  /** A JSON-safe description of a value, telling apart the kinds of binary values. */
  function describe(v, lab) {
    if (v === undefined) return { undefined: true };
    if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'string') return lab ? lab.str(v) : v;
    if (typeof v === 'function') return { function: true };
    if (v instanceof ArrayBuffer) return { ArrayBuffer: Array.from(new Uint8Array(v)) };
    if (ArrayBuffer.isView(v)) {
      return { [v.constructor.name]: Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    if (v instanceof Error) return describeError(v, lab);
    if (Array.isArray(v)) return v.map((x) => describe(x, lab));
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = describe(v[k], lab);
    return out;
  }

  function describeError(e, lab) {
    if (!(e instanceof Error)) return { notAnError: describe(e, lab) };
    const out = { Error: e.message };
    if (e.type !== undefined) out.type = e.type;
    if (e.data !== undefined) out.data = describe(e.data, lab);
    return out;
  }

  /** A trace recorder: `watch(socket, label)` records the socket's and its manager's events. */
  function recorder(lab) {
    const log = [];
    const seenManagers = new Set();
    const add = (...entry) => log.push(entry);
    return {
      log,
      add,
      watch(s, label) {
        s.on('connect', () => {
          lab.name(s, label);
          add(label, 'connect', { connected: s.connected, id: typeof s.id === 'string' && s.id.length > 0 ? lab.str(s.id) : s.id });
        });
        s.on('disconnect', (reason) => add(label, 'disconnect', reason));
        s.on('connect_error', (e) => add(label, 'connect_error', describeError(e, lab)));
        s.onAny((ev, ...args) => add(label, 'event', ev, ...args.map((a) => describe(a, lab))));
        if (!seenManagers.has(s.io)) {
          seenManagers.add(s.io);
          const m = s.io;
          m.on('reconnect_attempt', (n) => add(label, 'manager', 'reconnect_attempt', n));
          m.on('reconnect_error', (e) => add(label, 'manager', 'reconnect_error', describeError(e, lab)));
          m.on('reconnect_failed', () => add(label, 'manager', 'reconnect_failed'));
          m.on('reconnect', (n) => add(label, 'manager', 'reconnect', n));
          m.on('error', (e) => add(label, 'manager', 'error', describeError(e, lab)));
        }
        return s;
      },
      /** Waits for `ev` on `emitter` (bounded); a miss is recorded as an `error` entry. */
      next(emitter, ev, ms = WAIT) {
        return new Promise((resolve) => {
          const t = setTimeout(() => {
            emitter.off(ev, on);
            add('error', `timed out waiting for ${ev}`);
            resolve(undefined);
          }, ms);
          const on = (...args) => { clearTimeout(t); resolve(args); };
          emitter.once(ev, on);
        });
      },
      /** An ack callback that records its arguments (bounded). */
      ack(what, ms = WAIT) {
        let done;
        const p = new Promise((resolve) => { done = resolve; });
        const t = setTimeout(() => { add('error', `no ack: ${what}`); done(); }, ms);
        const cb = (...args) => { clearTimeout(t); add('ack', what, ...args.map((a) => describe(a, lab))); done(); };
        return { cb, p };
      },
      async withAck(what, promise) {
        try {
          add('ack', what, describe(await promise, lab));
        } catch (e) {
          add('rejected', what, describeError(e, lab));
        }
      },
    };
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // Resolves once the connection runs on WebSocket (at once if it already does).
  const upgraded = (s) => new Promise((resolve, reject) => {
    const engine = s.io.engine;
    if (engine.transport && engine.transport.name === 'websocket') { resolve(); return; }
    const timer = setTimeout(() => reject(new Error('no upgrade to websocket')), WAIT);
    engine.once('upgrade', () => { clearTimeout(timer); resolve(); });
  });
  const state = (s) => ({ connected: s.connected, active: s.active, id: s.id === undefined ? 'undefined' : typeof s.id });

  const scenarios = {
    // connect + `connect` + socket.id; client disconnect(); connect() again.
    async connect(io, url, r) {
      const s = r.watch(io(url, { forceNew: true }), 'a');
      r.add('before connect', state(s));
      await r.next(s, 'connect');
      r.add('after connect', state(s));
      s.disconnect();
      r.add('after disconnect()', state(s));
      s.connect();
      await r.next(s, 'connect');
      r.add('connected again', state(s));
      s.disconnect();
    },

    // echo (acks with its arguments): text, callback and emitWithAck.
    async 'ack text'(io, url, r) {
      const s = r.watch(io(url, { forceNew: true }), 'a');
      await r.next(s, 'connect');
      const a = r.ack('echo text');
      s.emit('echo', 'hi', 1, 1.5, -0, true, null, { a: [true, null], 'é': 'ü😀' }, ['x', { y: 'z' }], a.cb);
      await a.p;
      await r.withAck('emitWithAck one', s.emitWithAck('echo', 'one'));
      await r.withAck('emitWithAck none', s.emitWithAck('echo'));
      await r.withAck('timeout().emitWithAck', s.timeout(WAIT).emitWithAck('echo', { k: 'v' }));
      s.disconnect();
    },

    // echo with binary: the kind of value that comes back (ArrayBuffer? Buffer?).
    async 'ack binary'(io, url, r) {
      const s = r.watch(io(url, { forceNew: true }), 'a');
      await r.next(s, 'connect');
      const a = r.ack('echo Uint8Array');
      s.emit('echo', new Uint8Array([1, 2, 255]), a.cb);
      await a.p;
      await r.withAck('echo ArrayBuffer', s.emitWithAck('echo', new Uint8Array([3, 4]).buffer));
      await r.withAck('echo nested', s.emitWithAck('echo', { b: new Uint8Array([5]), list: [new Uint8Array([6, 7]), 'text'], n: 7 }));
      await r.withAck('echo empty', s.emitWithAck('echo', new Uint8Array([])));
      s.disconnect();
    },

    // Rooms: join, another socket joins (`joined`), chat to the room (both get it), leave
    // (`lobby` to everyone, `left` to the room). One trace per socket: the interleaving of
    // two connections is not the client's to decide.
    async rooms(io, url, r, ctl, lab, room) {
      const a = r.watch(io(url, { forceNew: true }), 'a');
      await r.next(a, 'connect');
      await r.withAck('a join', a.emitWithAck('join', room));
      const joined = r.next(a, 'joined');
      const rb = recorder(lab);
      const b = rb.watch(io(url, { forceNew: true }), 'b');
      await rb.next(b, 'connect');
      await rb.withAck('b join', b.emitWithAck('join', room));
      await joined;
      const chatA = r.next(a, 'chat');
      const chatB = rb.next(b, 'chat');
      await rb.withAck('b chat', b.emitWithAck('chat', { room, text: 'hello', name: 'bee' }));
      await Promise.all([chatA, chatB]);
      const lobbyA = r.next(a, 'lobby');
      const lobbyB = rb.next(b, 'lobby');
      const left = rb.next(b, 'left');
      const l = r.ack('a leave');
      a.emit('leave', room, l.cb);
      await Promise.all([l.p, lobbyA, lobbyB, left]);
      a.disconnect();
      b.disconnect();
      r.add('b saw', rb.log);
    },

    // An event the server never acks: timeout().emitWithAck rejects, timeout().emit calls
    // back with the error. Against socket.io 4.8 only: sockeye-demo acks an unknown event at
    // once with `{ error: 'unknown event' }` (the traces are still compared, on that answer).
    async 'ack timeout'(io, url, r) {
      const s = r.watch(io(url, { forceNew: true }), 'a');
      await r.next(s, 'connect');
      await r.withAck('never acked (emitWithAck)', s.timeout(200).emitWithAck('nobody-acks', 1));
      const a = r.ack('never acked (emit)');
      s.timeout(200).emit('nobody-acks', 2, a.cb);
      await a.p;
      r.add('still connected', state(s));
      s.disconnect();
    },

    // A namespace the server does not have.
    async 'unknown namespace'(io, url, r) {
      const s = r.watch(io(`${url}/nope`, { forceNew: true }), 'a');
      await r.next(s, 'connect_error');
      await sleep(300); // no retry may follow
      r.add('after connect_error', state(s));
      s.disconnect();
      r.add('after disconnect()', state(s));
    },

    // The server disconnects the socket (test server's `bye`; sockeye-demo has no such event).
    async 'server disconnect'(io, url, r, ctl) {
      if (!ctl.bye) return r.add('skipped: the server has no server-side disconnect event');
      const s = r.watch(io(url, { forceNew: true, reconnectionDelay: 100 }), 'a');
      await r.next(s, 'connect');
      const down = r.next(s, 'disconnect');
      s.emit('bye');
      await down;
      await sleep(400); // no reconnection may follow
      r.add('after server disconnect', state(s));
      s.disconnect();
    },

    // The server goes away and comes back: disconnect reason, reconnect attempts (collapsed,
    // see above), reconnect, and the socket usable again.
    async reconnection(io, url, r, ctl) {
      // 1.5 s between attempts: the server is back (started after the first failure) before
      // the second, so both clients see one failed attempt, not as many as its start took.
      const s = r.watch(io(url, { forceNew: true, reconnectionDelay: 1500, reconnectionDelayMax: 1500, randomizationFactor: 0 }), 'a');
      await r.next(s, 'connect');
      // The server stops only once the connection has upgraded: on polling the first failure
      // is an `xhr poll error` (`transport error`), on WebSocket a `transport close` — which
      // one a client saw depended on how fast its upgrade went.
      await upgraded(s);
      const down = r.next(s, 'disconnect', 10000);
      // The state as the disconnect happens (not after the server's stop returned: by then
      // the first reconnection attempt may have begun, earlier or later by the clock).
      s.once('disconnect', () => r.add('while down', state(s)));
      await ctl.stop();
      await down;
      await r.next(s.io, 'reconnect_error');
      const back = r.next(s.io, 'reconnect', 10000);
      await ctl.start();
      await back;
      await r.next(s, 'connect');
      await r.withAck('echo after reconnect', s.timeout(WAIT).emitWithAck('echo', 'back'));
      s.disconnect();
    },
  };

  /** Collapses the random part of reconnection (see the top of the file). */
  function normalise(log) {
    const out = [];
    for (const e of log) {
      if (e[0] === 'b saw') {
        out.push([e[0], normalise(e[1])]);
        continue;
      }
      const flaky = (e[1] === 'manager' && ['reconnect_attempt', 'reconnect_error', 'error'].includes(e[2]))
        || e[1] === 'connect_error';
      if (flaky && e[2] === 'reconnect_attempt' && e[3] > 1) {
        if (!(out.length && out[out.length - 1][1] === '...')) out.push([e[0], '...']);
        continue;
      }
      const prev = out[out.length - 1];
      if (flaky && prev && prev[1] === '...') continue;
      if (e[1] === 'manager' && e[2] === 'reconnect') {
        out.push([e[0], 'manager', 'reconnect', 'n']);
        continue;
      }
      out.push(e);
    }
    return out;
  }

  let runs = 0;
  /** Runs scenario `name` with `io` against `url`; resolves with its normalised trace. */
  async function run(name, io, url, ctl) {
    runs += 1;
    const room = `compat-${Date.now().toString(36)}-${runs}-${Math.random().toString(36).slice(2)}`;
    const lab = labeller(room);
    const r = recorder(lab);
    try {
      await scenarios[name](io, url, r, ctl || {}, lab, room);
    } catch (e) {
      r.add('thrown', String(e && e.stack ? e.stack : e));
    }
    await sleep(50); // late events (a second disconnect, a stray retry) make it into the trace
    return JSON.parse(JSON.stringify(normalise(r.log)));
  }

  globalThis.compat = { names: Object.keys(scenarios), run };
})();
