// sockeye-client: socket.io-client's API over the Sockeye wasm core.
// The protocol (Engine.IO v4 / Socket.IO v5), reconnection, acks and offline buffering run in
// WebAssembly (sockeye_wasm.js). This module does the I/O the core asks for (fetch, WebSocket,
// setTimeout: bytes in, bytes out, never a protocol frame built or parsed here) and adds event
// emitters, JSON and binary placeholders, and ack callbacks.
// `Engine` is the wasm Manager as each build loads it (load/web.js in browsers and bundlers,
// load/node.js in Node; build.sh picks one as ./engine.js).
// `received(u8)` is how a received binary attachment is handed to the app: an `ArrayBuffer`
// in browsers, a Node `Buffer` in Node (as socket.io-client, whose engine uses binaryType
// `nodebuffer` there).
import { Engine, received } from './engine.js';

/** Socket.IO protocol revision. */
export const protocol = 5;

const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting',
  'newListener', 'removeListener']);

const isBlob = (v) => typeof Blob !== 'undefined' && v instanceof Blob;
const isBinary = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v) || isBlob(v);

/**
 * `[json, attachments]`: binary values become `{"_placeholder":true,"num":n}`; attachments
 * are `Uint8Array`s, or `Blob`s still to be read.
 */
function encode(args) {
  const att = [];
  const json = JSON.stringify(args, (_k, v) => {
    if (!isBinary(v)) return v;
    att.push(ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
      : isBlob(v) ? v : new Uint8Array(v));
    return { _placeholder: true, num: att.length - 1 };
  });
  return [json, att];
}

/** The arguments of a JSON array, placeholders replaced by binary values (`received`). */
function decode(json, att) {
  const parsed = JSON.parse(json, (_k, v) => (v && v._placeholder === true
    && typeof v.num === 'number' && att[v.num] ? received(att[v.num]) : v));
  return Array.isArray(parsed) ? parsed : [];
}

/** socket.io-client's `TransportError`: `xhr poll error`, `websocket error`, ... */
function transportError(message, description) {
  return Object.assign(new Error(message), { type: 'TransportError', description });
}

/** Surfaces an error to the page without unwinding through the caller. */
const report = (e) => setTimeout(() => { throw e; });

/** Attachments as the wasm takes them: one buffer, each its length (u32 LE) then its bytes. */
function pack(att) {
  const all = new Uint8Array(att.reduce((n, a) => n + 4 + a.length, 0));
  const view = new DataView(all.buffer);
  let at = 0;
  for (const a of att) { view.setUint32(at, a.length, true); all.set(a, at + 4); at += 4 + a.length; }
  return all;
}

// The records of `Engine.drain()` (wasm-client/src/records.rs), by tag: the kinds of their
// fields (n: number, s: string, r: bytes, b: attachments). Tags 0-6 are I/O to do, 7 on
// events, handled by the Manager method of the same index in EVENTS (after the class).
const FIELDS = ['ns', 'nss', 'ns', 's', 'r', '', 'n', '', '', '', 's', 's', 'ssn', 'sns', 'ss',
  'ssbn', 'snsb', 'snn', 'ssb', 'n', 'n', '', '', 's'];
// ignoreBOM: a string that starts with U+FEFF (an error message, an event's text) keeps it,
// as it does in socket.io-client.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The records in `buf`, each `[tag, ...fields]`. */
function records(buf) {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = [];
  let i = 0;
  const u32 = () => { i += 4; return view.getUint32(i - 4, true); };
  const bytes = () => { const n = u32(); i += n; return buf.slice(i - n, i); };
  while (i < buf.length) {
    const rec = [buf[i]];
    i += 1;
    for (const k of FIELDS[rec[0]]) {
      if (k === 'n') { rec.push(view.getFloat64(i, true)); i += 8; } else if (k === 's') rec.push(utf8.decode(bytes()));
      else if (k === 'r') rec.push(bytes());
      else rec.push(Array.from({ length: u32() }, bytes));
    }
    out.push(rec);
  }
  return out;
}

/** A minimal event emitter (component-emitter's API, as socket.io-client uses). */
class Emitter {
  constructor() { this._l = new Map(); }
  on(ev, fn) {
    if (!this._l.has(ev)) this._l.set(ev, []);
    this._l.get(ev).push(fn);
    return this;
  }
  once(ev, fn) {
    const w = (...a) => { this.off(ev, w); fn.apply(this, a); };
    w.fn = fn;
    return this.on(ev, w);
  }
  off(ev, fn) {
    if (ev === undefined) this._l.clear();
    else if (fn === undefined) this._l.delete(ev);
    else {
      const l = this._l.get(ev) || [];
      const i = l.findIndex((f) => f === fn || f.fn === fn);
      if (i >= 0) l.splice(i, 1);
    }
    return this;
  }
  listeners(ev) { return (this._l.get(ev) || []).slice(); }
  hasListeners(ev) { return this.listeners(ev).length > 0; }
  emitReserved(ev, ...args) {
    // Silenced by `closeOnBeforeunload` while the page unloads.
    if (!(this.io || this)._quiet) for (const fn of this.listeners(ev)) fn.apply(this, args);
    return true;
  }
}
Emitter.prototype.addEventListener = Emitter.prototype.on;
Emitter.prototype.removeListener = Emitter.prototype.off;
Emitter.prototype.removeEventListener = Emitter.prototype.off;
Emitter.prototype.removeAllListeners = Emitter.prototype.off;

const num = (v) => (typeof v === 'number' ? v : NaN);
const bool = (v) => (typeof v === 'boolean' ? +v : NaN);

/**
 * The options the wasm reads, one number each in src/options.rs's order (`NaN`: missing or of
 * the wrong type), then the transports (0 polling, 1 websocket).
 */
function config(o) {
  return new Float64Array([bool(o.upgrade), bool(o.reconnection), num(o.reconnectionAttempts),
    num(o.reconnectionDelay), num(o.reconnectionDelayMax), num(o.randomizationFactor),
    num(o.timeout), num(o.ackTimeout), bool(o.rememberUpgrade),
    ...(Array.isArray(o.transports) ? o.transports.map((t) => ['polling', 'websocket'].indexOf(t)) : [])]);
}

function parseUri(uri) {
  // As socket.io-client's url(): no URL is the page's origin (not its path or query); a
  // path is on the page's host; a URL without a scheme takes the page's (else https).
  const loc = typeof location !== 'undefined' ? location : null;
  if (uri == null) uri = loc ? `${loc.protocol}//${loc.host}` : 'http://localhost';
  else if (uri.charAt(0) === '/') {
    uri = uri.charAt(1) === '/' ? `${loc ? loc.protocol : 'https:'}${uri}` : `${loc ? loc.host : 'localhost'}${uri}`;
  }
  if (!/^(https?|wss?):\/\//.test(uri)) uri = `${loc ? `${loc.protocol}//` : 'https://'}${uri}`;
  return new URL(uri);
}

/**
 * The Engine.IO connection as socket.io-client's `manager.engine` shows it: `id`,
 * `transport.name`, and the events `open`, `ping`, `upgrade`, `close`. A new one per
 * (re)connection attempt.
 */
class EngineSocket extends Emitter {
  constructor(io) { super(); this.io = io; }
  get id() { return this.io._engine()[1]; }
  get transport() { const name = this.io._engine()[0]; return name && { name }; }
}

/**
 * One connection to a Socket.IO server, shared by the sockets of its namespaces. It performs
 * the I/O the wasm Manager asks for, and its `_on*` methods receive the wasm Manager's events
 * (wasm-client/src/records.rs).
 */
export class Manager extends Emitter {
  constructor(uri, opts) {
    super();
    if (uri && typeof uri === 'object') { opts = uri; uri = undefined; }
    opts = opts || {};
    opts.path = opts.path || '/socket.io';
    this.opts = opts;
    this.nsps = {};
    const url = parseUri(uri);
    // As socket.io-client: the URL's query is used when the options have none.
    if (url.search && !opts.query) opts.query = url.search.slice(1);
    this.uri = `${url.protocol}//${url.host}`;
    this.engine = new EngineSocket(this);
    const r = crypto.getRandomValues(new Uint32Array(2));
    // The third argument is for load/web.js's stand-in (the wasm's constructor takes two).
    this._e = new Engine(config(opts), r[0] * 2 ** 21 + (r[1] >>> 11), () => this._pump());
    // Polling requests' credentials and headers (browsers set no headers on a WebSocket).
    this._req = { credentials: opts.withCredentials === true ? 'include' : 'same-origin', headers: opts.extraHeaders };
    // The current WebSocket, the timer, and what the transport last reported (socket.io-client's
    // words for it and its context) for the events it causes.
    this._ws = null;
    this._t = undefined;
    this._cause = undefined;
    this._n = 0;
    if (opts.closeOnBeforeunload && typeof addEventListener === 'function') {
      // As engine.io-client: the connection closes silently (no `disconnect`) on unload.
      addEventListener('beforeunload', () => { this._quiet = true; this._cmd(3); });
    }
    if (opts.autoConnect !== false) this.open();
  }

  /** The socket of namespace `nsp` (created on first use). */
  socket(nsp, opts) {
    const s = this.nsps[nsp];
    if (!s) return (this.nsps[nsp] = new Socket(this, nsp, opts));
    if (this.opts.autoConnect !== false && !s.active) s.connect();
    return s;
  }

  /** Opens the connection if there is none; `fn(err?)` when it opens or fails. */
  open(fn) {
    if (fn) {
      const done = (err) => { this.off('open', done).off('error', done); fn(err); };
      this.on('open', done).on('error', done);
    }
    this._cmd(1);
    return this;
  }

  /** Closes the connection (the sockets stay, disconnected; no reconnection). */
  close() { this._cmd(3); return this; }

  /** The current transport (`"polling"` or `"websocket"`), if connected. */
  get transport() { return this._engine()[0]; }

  /** `[transport, sid]` of the Engine.IO connection (each `undefined` when there is none). */
  _engine() { return (this._e.engine() || '').split(' ').map((v) => v || undefined); }

  _opt(key, v, def) {
    if (v === undefined) return this.opts[key] == null ? def : this.opts[key];
    this.opts[key] = v;
    this._call('reconfigure', config(this.opts));
    return this;
  }

  /**
   * The wasm Manager's `command` (src/manager.rs): 0 connect namespace `nsp`, 1 open the
   * connection, 2 disconnect `nsp`, 3 close the connection.
   */
  _cmd(kind, nsp) { this._call('command', kind, nsp || ''); }

  /** Calls the wasm Manager, then does what it asks for. */
  _call(name, ...args) {
    const r = this._e[name](...args);
    this._pump();
    return r;
  }

  /**
   * Performs the wasm Manager's transmits, re-arms the timer and dispatches its events until
   * it is quiet. Listeners may call back into the manager (their calls pump in turn).
   */
  _pump() {
    for (;;) {
      const recs = records(this._e.drain());
      const events = recs.filter(([tag]) => tag > 6);
      for (const rec of recs) if (rec[0] < 7) this._io(...rec);
      if (!events.length) return;
      const cause = this._cause;
      this._cause = undefined;
      for (const [tag, ...f] of events) {
        try { EVENTS[tag - 7].call(this, ...f, cause); } catch (e) { report(e); }
      }
    }
  }

  /** Reports what the I/O did to the wasm Manager (see `input` in src/manager.rs). */
  _in(kind, gen, text, data) { return this._e.input(kind, gen, text, data); }

  /** One I/O record of `drain()`. */
  _io(tag, a, b, c) {
    if (tag < 2) this._poll(a, b, tag ? c : null);
    else if (tag === 2) this._open(a, b);
    else if (tag < 5) { if (this._ws) try { this._ws.send(a); } catch (_) { /* its close follows */ } } else if (tag === 5) this._close();
    else {
      clearTimeout(this._t);
      this._t = a < 0 ? undefined : setTimeout(() => { this._t = undefined; this._in(7, 0); this._pump(); }, a);
    }
  }

  /**
   * The URL of a request of connection `gen` on `transport` (handshake when `sid` is empty).
   * As engine.io-client, `path`, `query`, `addTrailingSlash`, `timestampRequests` and
   * `timestampParam` are read for every new connection: a `query` changed since is used from
   * the next (re)connection on.
   */
  _url(gen, transport, sid) {
    const o = this.opts;
    if (gen !== this._gen) {
      this._gen = gen;
      const path = typeof o.path === 'string' ? o.path : '/socket.io';
      let base = `${path.endsWith('/') ? path.slice(0, -1) : path}${o.addTrailingSlash === false ? '' : '/'}?`;
      const q = o.query;
      if (typeof q === 'string') {
        const s = q.charAt(0) === '?' ? q.slice(1) : q;
        if (s) base += `${s}&`;
      } else if (q && typeof q === 'object') {
        for (const [k, v] of Object.entries(q)) if (v !== undefined) base += `${encodeURIComponent(k)}=${encodeURIComponent(v)}&`;
      }
      this._base = `${base}EIO=4`;
      const param = typeof o.timestampParam === 'string' ? o.timestampParam : 't';
      this._stamp = [o.timestampRequests !== false && param, o.timestampRequests === true && param];
    }
    const ws = transport === 'websocket';
    const origin = this.uri.replace(/^(ws|http)/, ws ? 'ws' : 'http');
    let url = `${origin}${this._base}&transport=${transport}`;
    const stamp = this._stamp[+ws];
    if (stamp) { this._n = (this._n + 1) % 2 ** 32; url += `&${stamp}=${this._n}`; }
    return sid ? `${url}&sid=${encodeURIComponent(sid)}` : url;
  }

  /** A polling `GET` (`body` null) or `POST` of connection `gen`. */
  _poll(gen, sid, body) {
    const post = body !== null;
    const init = { method: post ? 'POST' : 'GET', cache: 'no-store', credentials: this._req.credentials, headers: Object.assign({}, this._req.headers) };
    if (post) { init.body = body; init.headers['content-type'] = 'text/plain;charset=UTF-8'; }
    const done = (res) => {
      if (typeof res === 'string') this._in(post ? 1 : 0, gen, res);
      // socket.io-client's `description` of an `xhr poll error`: the HTTP status, 0 for a
      // network error.
      else if (this._in(2, gen)) this._cause = [post ? 'xhr post error' : 'xhr poll error', res];
      this._pump();
    };
    fetch(this._url(gen, 'polling', sid), init).then((r) => (r.ok ? r.text() : r.status)).then(done, () => done(0));
  }

  /** Opens a WebSocket for connection `gen` (an upgrade probe of session `sid`, if any). */
  _open(gen, sid) {
    this._close();
    let ws;
    try {
      ws = new WebSocket(this._url(gen, 'websocket', sid));
      ws.binaryType = 'arraybuffer';
    } catch (e) {
      // An unusable URL: a failed socket (the rest of the records go on; _pump drains again).
      this._cause = ['websocket error', e];
      this._in(5, 0);
      return;
    }
    this._ws = ws;
    // Events of a socket that is no longer the current one are dropped.
    const on = (f) => (ev) => { if (this._ws === ws) { f(ev); this._pump(); } };
    ws.onopen = on(() => this._in(3, 0));
    ws.onmessage = on(({ data }) => {
      if (typeof data === 'string') this._in(4, 0, data);
      else if (data instanceof ArrayBuffer) this._in(4, 0, undefined, new Uint8Array(data));
    });
    ws.onerror = on((ev) => { this._close(); this._cause = ['websocket error', ev]; this._in(5, 0); });
    ws.onclose = on((ev) => { this._ws = null; this._cause = ['websocket connection closed', ev]; this._in(6, 0); });
  }

  /** Closes the current WebSocket; its handlers stop reporting. */
  _close() {
    const ws = this._ws;
    if (!ws) return;
    this._ws = null;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try { ws.close(); } catch (_) { /* already closing */ }
  }

  reconnection(v) { return this._opt('reconnection', v, true); }
  reconnectionAttempts(v) { return v === undefined ? this.opts.reconnectionAttempts || Infinity : this._opt('reconnectionAttempts', v); }
  reconnectionDelay(v) { return this._opt('reconnectionDelay', v, 1000); }
  reconnectionDelayMax(v) { return this._opt('reconnectionDelayMax', v, 5000); }
  randomizationFactor(v) { return this._opt('randomizationFactor', v, 0.5); }
  timeout(v) { return this._opt('timeout', v, 20000); }

  /** Emits socket.io-client's `packet` event (a decoded packet) if anyone listens. */
  _packet(type, nsp, data, id) {
    if (this.hasListeners('packet')) this.emitReserved('packet', { type, nsp, data, id });
  }

  _onOpen() { this.engine.emitReserved('open'); this.emitReserved('open'); }
  _onPing() { this.engine.emitReserved('ping'); this.emitReserved('ping'); }
  _onUpgrade(name) {
    this.engine.emitReserved('upgrade', this.engine.transport);
    this.emitReserved('upgrade', name);
  }
  _onClose(reason, cause) {
    const [what, context] = cause || [];
    const desc = reason === 'transport error' ? transportError(what, context)
      : reason === 'transport close' ? { description: what || 'transport closed by the server', context }
        : undefined;
    this._desc = desc;
    if (desc instanceof Error) this.emitReserved('error', desc);
    this.engine.emitReserved('close', reason, desc);
    this.emitReserved('close', reason, desc);
  }
  _onOpenFailed(why, cause) {
    // `why` is the core's (`timeout`, `parse error`), else the transport's failure.
    this._err = why ? new Error(why)
      : transportError(cause ? cause[0] : 'transport error', cause && cause[1]);
    this.emitReserved('error', this._err);
  }
  _onConnect(nsp, sid, recovered) {
    const s = this.nsps[nsp];
    this._packet(0, nsp, { sid }, undefined);
    if (!s) return;
    s.recovered = recovered === 1;
    s._drain(true);
    s.emitReserved('connect');
  }
  _onConnectError(nsp, refused, data) {
    // A failed connection attempt reached the sockets through the manager's `error` (see
    // `Socket.connect`); only a server's refusal is the namespace's own.
    if (!refused) return;
    // A server refusal: {"message": ..., "data": ...}. The namespace stays down.
    const s = this.nsps[nsp];
    const err = new Error(data);
    try {
      const p = JSON.parse(data);
      err.message = p && p.message !== undefined ? p.message : data;
      if (p && p.data !== undefined) err.data = p.data;
    } catch (_) { /* not JSON: the raw text is the message */ }
    this._packet(4, nsp, { message: err.message, data: err.data }, undefined);
    if (s) s.emitReserved('connect_error', err);
  }
  _onDisconnect(nsp, reason) {
    const s = this.nsps[nsp];
    if (reason === 'io server disconnect') this._packet(1, nsp, undefined, undefined);
    if (s) {
      s.emitReserved('disconnect', reason,
        reason === 'transport close' || reason === 'transport error' ? this._desc : undefined);
    }
  }
  _onEvent(nsp, json, att, id) {
    if (id < 0) id = undefined;
    const s = this.nsps[nsp];
    const args = decode(json, att);
    this._packet(att.length ? 5 : 2, nsp, args.slice(), id);
    if (!s) return;
    if (id !== undefined) {
      let sent = false;
      args.push((...res) => {
        if (sent) return;
        sent = true;
        const [j, a] = encode(res);
        // Refused if the namespace is gone meanwhile.
        this._call('emit', nsp, j, pack(a), 4, id); // flag::REPLY
      });
    }
    for (const fn of s._any.slice()) fn.apply(s, args);
    s.emitReserved(...args);
  }
  _onAck(nsp, id, json, att) {
    const args = decode(json, att);
    this._packet(att.length ? 6 : 3, nsp, args.slice(), id);
    const s = this.nsps[nsp];
    const entry = s && s.acks.get(id);
    if (!entry) return;
    s.acks.delete(id);
    if (entry.withError) args.unshift(null);
    entry.ack.apply(s, args);
  }
  _onAckFailed(nsp, id, timedOut) {
    timedOut = timedOut === 1;
    const s = this.nsps[nsp];
    const entry = s && s.acks.get(id);
    if (!entry) return;
    s.acks.delete(id);
    if (entry.withError) {
      entry.ack.call(s, new Error(timedOut ? 'operation has timed out' : 'socket has been disconnected'));
    }
  }
  _onSent(nsp, json, att) {
    const s = this.nsps[nsp];
    if (s && s._anyOut.length) s._out(decode(json, att));
  }
  _onReconnectAttempt(n) {
    this.engine = new EngineSocket(this);
    this.emitReserved('reconnect_attempt', n);
  }
  _onReconnect(n) { this.emitReserved('reconnect', n); }
  _onReconnectError() { this.emitReserved('reconnect_error', this._err); }
  _onReconnectFailed() { this.emitReserved('reconnect_failed'); }
  _onAuthRequest(nsp) {
    const s = this.nsps[nsp];
    const give = (auth) => {
      if (this._call('provideAuth', nsp, auth == null ? undefined : JSON.stringify(auth)) === false && s) {
        s.emitReserved('connect_error', new Error('auth must be a JSON object'));
      }
    };
    // `socket.auth` as it is now: a function is asked, an object is sent (both may have
    // changed since the last connection, as in socket.io-client).
    const auth = s && s.auth;
    if (typeof auth === 'function') auth(give);
    else give(auth);
  }
}

/**
 * A namespace of a connection: socket.io-client's `Socket`. Its state (`connected`, `id`,
 * `active`) is read from the wasm Manager.
 */
export class Socket extends Emitter {
  constructor(io, nsp, opts) {
    super();
    this.io = io;
    this.nsp = nsp;
    this.auth = opts && opts.auth !== undefined ? opts.auth : io.opts.auth;
    this.recovered = false;
    this.flags = {};
    // Ack callbacks by id (ids, timeouts and failures are the core's).
    this.acks = new Map();
    this._any = [];
    this._anyOut = [];
    // Emits made before the first connect(), replayed by it.
    this._pre = [];
    // With `retries`: emits waiting for their ack, one in flight at a time.
    this._opts = Object.assign({}, io.opts, opts);
    this._queue = [];
    // The last emit still reading a Blob: later emits wait for it (emit order is call order).
    this._wait = null;
    if (io.opts.autoConnect !== false) this.connect();
  }

  /** The wasm's word on this namespace: `undefined` if not active, `0` if not connected, else `1` and the id. */
  _s() { return this.io._e.socket(this.nsp); }
  get connected() { return (this._s() || '')[0] === '1'; }
  get disconnected() { return !this.connected; }
  get id() { const s = this._s(); return s && s[0] === '1' ? s.slice(1) : undefined; }
  get active() { return this._s() !== undefined; }

  /** Connects the namespace (and the connection, if needed, even after it gave up). */
  connect() {
    if (this.connected) return this;
    // As socket.io-client's `subEvents`: the socket hears of a failed connection attempt as
    // one of its manager's `error` listeners, so its `connect_error` comes in the order the
    // listeners were registered (before those the app adds later).
    if (!this._onerror) {
      this._onerror = (err) => { if (!this.connected) this.emitReserved('connect_error', err); };
      this.io.on('error', this._onerror);
    }
    this.io._cmd(0, this.nsp);
    const pre = this._pre;
    this._pre = [];
    for (const [args, flags] of pre) this._emit(args, flags);
    return this;
  }

  /** Leaves the namespace; the connection closes when no namespace is left. */
  disconnect() {
    if (this._onerror) {
      this.io.off('error', this._onerror);
      this._onerror = null;
    }
    this.io._cmd(2, this.nsp);
    return this;
  }

  /** Emits `ev`; a last function argument receives the ack. */
  emit(ev, ...args) {
    if (RESERVED.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const flags = this.flags;
    this.flags = {};
    if (this._opts.retries && !flags.fromQueue && !flags.volatile) this._enqueue([ev, ...args], flags);
    else this._emit([ev, ...args], flags);
    return this;
  }

  /**
   * `retries`: the emit is sent again (with `ackTimeout`) until acked, at most `retries`
   * more times; packets go one at a time, in order (socket.io-client's queue).
   */
  _enqueue(args, flags) {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
    const packet = { tries: 0, pending: false, args, flags: Object.assign({ fromQueue: true, withError: true }, flags) };
    args.push((err, ...res) => {
      if (packet !== this._queue[0]) return;
      if (err === null) {
        this._queue.shift();
        if (ack) ack(null, ...res);
      } else if (packet.tries > this._opts.retries) {
        this._queue.shift();
        if (ack) ack(err);
      }
      packet.pending = false;
      this._drain();
    });
    this._queue.push(packet);
    this._drain();
  }

  _drain(force) {
    const packet = this._queue[0];
    if (!this.connected || !packet || (packet.pending && !force)) return;
    packet.pending = true;
    packet.tries += 1;
    this._emit(packet.args.slice(), packet.flags);
  }

  /** `emit('message', ...args)`. */
  send(...args) { return this.emit('message', ...args); }

  /** Emits `ev` and resolves with the server's ack (rejects on timeout or disconnection). */
  emitWithAck(ev, ...args) {
    const flags = Object.assign({ withError: true }, this.flags);
    this.flags = {};
    return new Promise((resolve, reject) => {
      args.push((err, res) => (err ? reject(err) : resolve(res)));
      if (this._opts.retries && !flags.volatile) this._enqueue([ev, ...args], flags);
      else this._emit([ev, ...args], flags);
    });
  }

  /** The next emit's ack fails after `ms` milliseconds (the callback gets an error first). */
  timeout(ms) { this.flags.timeout = ms; return this; }

  /** The next emit is dropped unless connected now (its ack callback is kept). */
  get volatile() { this.flags.volatile = true; return this; }

  /** Accepted for compatibility; compression is the transport's business. */
  compress() { return this; }

  _emit(args, flags) {
    if (!this.active && !this.connected) {
      this._pre.push([args, flags]);
      return;
    }
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
    const [json, att] = encode(args);
    if (!this._wait && !att.some(isBlob)) {
      this._send(args, json, att, ack, flags);
      return;
    }
    // Blobs are read first (as socket.io-client's parser hands them to the transport whole);
    // this emit, and every later one, waits its turn.
    const p = (this._wait || Promise.resolve())
      .then(() => Promise.all(att.map((a) => (isBlob(a) ? a.arrayBuffer().then((b) => new Uint8Array(b)) : a))))
      .then((list) => {
        if (this._wait === p) this._wait = null;
        this._send(args, json, list, ack, flags);
      });
    this._wait = p;
  }

  _send(args, json, att, ack, flags) {
    const now = this.connected;
    const timeout = flags.timeout !== undefined ? flags.timeout : this._opts.ackTimeout;
    const withError = flags.withError || timeout !== undefined;
    // src/manager.rs's `flag`: 1 ACK, 2 VOLATILE.
    const id = this.io._call('emit', this.nsp, json, pack(att), (ack ? 1 : 0) | (flags.volatile ? 2 : 0),
      ack && timeout !== undefined ? timeout : -1);
    if (id < -1) {
      // The offline buffer is full (or the namespace was closed meanwhile).
      const error = new Error(id === -2 ? 'offline buffer full' : 'namespace is not active');
      if (ack && withError) ack.call(this, error);
      else throw error;
      return;
    }
    if (ack) this.acks.set(id, { ack, withError });
    // Sent now (a buffered emit is reported by `_onSent` when it goes out).
    if (now) this._out(args);
  }

  _out(args) { for (const fn of this._anyOut.slice()) fn.apply(this, args); }

  /** Listens to every incoming event: `fn(event, ...args)`. */
  onAny(fn) { this._any.push(fn); return this; }
  /** `onAny`, first in line. */
  prependAny(fn) { this._any.unshift(fn); return this; }
  /** Removes one catch-all listener, or all of them. */
  offAny(fn) { this._any = fn ? this._any.filter((f) => f !== fn) : []; return this; }
  /** The catch-all listeners. */
  listenersAny() { return this._any.slice(); }
  /** Listens to every outgoing event, as it is sent. */
  onAnyOutgoing(fn) { this._anyOut.push(fn); return this; }
  /** `onAnyOutgoing`, first in line. */
  prependAnyOutgoing(fn) { this._anyOut.unshift(fn); return this; }
  /** Removes one outgoing catch-all listener, or all of them. */
  offAnyOutgoing(fn) { this._anyOut = fn ? this._anyOut.filter((f) => f !== fn) : []; return this; }
  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing() { return this._anyOut.slice(); }
}
// The Manager's handlers of the wasm's events, by record tag - 7 (as methods: `this` is the
// Manager; `_` names, shortened by the minifier).
const EVENTS = ((m) => [m._onOpen, m._onPing, m._onUpgrade, m._onClose, m._onOpenFailed,
  m._onConnect, m._onConnectError, m._onDisconnect, m._onEvent, m._onAck, m._onAckFailed,
  m._onSent, m._onReconnectAttempt, m._onReconnect, m._onReconnectError, m._onReconnectFailed,
  m._onAuthRequest])(Manager.prototype);

Socket.prototype.open = Socket.prototype.connect;
Socket.prototype.close = Socket.prototype.disconnect;
Manager.prototype.connect = Manager.prototype.open;
Manager.prototype.disconnect = Manager.prototype.close;

const cache = {};

/**
 * Connects to `uri` (default: the page's origin); its path names the namespace. Sockets of
 * the same server share one connection unless `forceNew` or `multiplex: false`.
 */
export function io(uri, opts) {
  if (uri && typeof uri === 'object') { opts = uri; uri = undefined; }
  opts = opts || {};
  const url = parseUri(uri);
  const nsp = url.pathname || '/';
  const key = `${url.protocol}//${url.host}${opts.path || '/socket.io'}`;
  const reuse = !opts.forceNew && opts.multiplex !== false;
  let manager = cache[key];
  if (!reuse || !manager || manager.nsps[nsp]) {
    url.pathname = '/';
    manager = new Manager(url.href, opts);
    if (reuse) cache[key] = manager;
  }
  return manager.socket(nsp, opts);
}

export { io as connect };
export default io;
