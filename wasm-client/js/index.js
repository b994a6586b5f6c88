// sockeye-client: socket.io-client's API over the Sockeye wasm core.
// The protocol (Engine.IO v4 / Socket.IO v5), transports, reconnection, acks and offline
// buffering run in WebAssembly (sockeye_wasm.js); this module adds event emitters, JSON and
// binary placeholders, and ack callbacks.
// `Engine` is the wasm Manager as each build loads it (load/web.js in browsers and bundlers,
// load/node.js in Node; build.sh picks one as ./engine.js).
import { Engine } from './engine.js';

// Event kinds reported by the wasm Manager (wasm-client/src/events.rs).
const OPEN = 0, UPGRADE = 1, CONNECT = 2, CONNECT_ERROR = 3, DISCONNECT = 4, EVENT = 5, ACK = 6,
  ACK_FAILED = 7, CLOSE = 8, RECONNECT_ATTEMPT = 9, RECONNECT = 10, RECONNECT_ERROR = 11,
  RECONNECT_FAILED = 12, AUTH_REQUEST = 13;

/** Socket.IO protocol revision. */
export const protocol = 5;

const RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting',
  'newListener', 'removeListener']);

// Surfaces a listener's exception to the page without unwinding through the wasm caller.
const report = (e) => setTimeout(() => { throw e; });

const isBinary = (v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v);

/** `[json, attachments]`: binary values become `{"_placeholder":true,"num":n}`. */
function encode(args) {
  const att = [];
  const json = JSON.stringify(args, (_k, v) => {
    if (!isBinary(v)) return v;
    att.push(v instanceof ArrayBuffer ? new Uint8Array(v)
      : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return { _placeholder: true, num: att.length - 1 };
  });
  return [json, att];
}

/** The arguments of a JSON array, placeholders replaced by `ArrayBuffer`s. */
function decode(json, att) {
  const parsed = JSON.parse(json, (_k, v) => (v && v._placeholder === true
    && typeof v.num === 'number' && att[v.num] ? att[v.num].buffer : v));
  return Array.isArray(parsed) ? parsed : [];
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
    for (const fn of this.listeners(ev)) fn.apply(this, args);
    return true;
  }
}
Emitter.prototype.addEventListener = Emitter.prototype.on;
Emitter.prototype.removeListener = Emitter.prototype.off;
Emitter.prototype.removeEventListener = Emitter.prototype.off;
Emitter.prototype.removeAllListeners = Emitter.prototype.off;

function parseUri(uri) {
  // As socket.io-client's url(): no URL is the page's origin (not its path or query); a
  // path is on the page's host; a URL without a scheme takes the page's (else https).
  const loc = typeof location !== 'undefined' ? location : null;
  if (uri == null) uri = loc ? `${loc.protocol}//${loc.host}` : 'http://localhost';
  else if (uri.charAt(0) === '/') {
    uri = uri.charAt(1) === '/' ? `${loc ? loc.protocol : 'https:'}${uri}` : `${loc ? loc.host : 'localhost'}${uri}`;
  }
  if (!/^(https?|wss?):\/\//.test(uri)) uri = `${loc ? `${loc.protocol}//` : 'https://'}${uri}`;
  const url = new URL(uri);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  return url;
}

/**
 * One connection to a Socket.IO server, shared by the sockets of its namespaces.
 */
export class Manager extends Emitter {
  constructor(uri, opts) {
    super();
    if (uri && typeof uri === 'object') { opts = uri; uri = undefined; }
    opts = Object.assign({ path: '/socket.io' }, opts);
    this.opts = opts;
    this.nsps = {};
    const url = parseUri(uri);
    const query = new URLSearchParams(url.search);
    const q = typeof opts.query === 'string' ? new URLSearchParams(opts.query) : opts.query;
    for (const [k, v] of (q instanceof URLSearchParams ? q : Object.entries(q || {}))) {
      query.set(k, v);
    }
    query.set('EIO', '4');
    this.uri = `${url.protocol}//${url.host}${opts.path.replace(/\/$/, '')}/?${query}`;
    const r = crypto.getRandomValues(new Uint32Array(2));
    const seed = r[0] * 2 ** 21 + (r[1] >>> 11);
    this._e = new Engine(this.uri, opts, seed, (k, n, a, b, c) => {
      try { this._on(k, n, a, b, c); } catch (e) { report(e); }
    });
  }

  /** The socket of namespace `nsp` (created on first use). */
  socket(nsp, opts) {
    if (!this.nsps[nsp]) this.nsps[nsp] = new Socket(this, nsp, opts);
    return this.nsps[nsp];
  }

  /** The current transport (`"polling"` or `"websocket"`), if connected. */
  get transport() { return this._e.transport(); }

  _on(kind, nsp, a, b, c) {
    switch (kind) {
      case OPEN: this.emitReserved('open'); break;
      case UPGRADE: this.emitReserved('upgrade', this.transport); break;
      case CLOSE: this.emitReserved('close', a); break;
      case RECONNECT_ATTEMPT: this.emitReserved('reconnect_attempt', a); break;
      case RECONNECT: this.emitReserved('reconnect', a); break;
      case RECONNECT_ERROR: this.emitReserved('reconnect_error', new Error('reconnect error')); break;
      case RECONNECT_FAILED: this.emitReserved('reconnect_failed'); break;
      default: {
        const s = this.nsps[nsp];
        if (kind === CONNECT_ERROR && b === undefined) this.emitReserved('error', new Error(a));
        if (s) s._on(kind, a, b, c);
      }
    }
  }
}

/**
 * A namespace of a connection: socket.io-client's `Socket`.
 */
export class Socket extends Emitter {
  constructor(io, nsp, opts) {
    super();
    this.io = io;
    this.nsp = nsp;
    this.auth = opts && opts.auth !== undefined ? opts.auth : io.opts.auth;
    opts = opts || {};
    this.connected = false;
    this.recovered = false;
    this.id = undefined;
    this.active = false;
    this.flags = {};
    this.acks = new Map();
    this._any = [];
    this._anyOut = [];
    // Emits made before the first connect(), replayed by it.
    this._pre = [];
    // With `retries`: emits waiting for their ack, one in flight at a time.
    this._opts = Object.assign({}, io.opts, opts);
    this._queue = [];
    if (io.opts.autoConnect !== false) this.connect();
  }

  get disconnected() { return !this.connected; }

  /** Connects the namespace (and the connection, if needed). */
  connect() {
    if (this.active) return this;
    this.active = true;
    try {
      // An auth callback is asked again before every (re)connection, as in socket.io-client.
      if (typeof this.auth === 'function') this.io._e.connect_with_auth_request(this.nsp);
      else this.io._e.connect(this.nsp, this.auth == null ? undefined : JSON.stringify(this.auth));
    } catch (e) {
      this.active = false;
      this.emitReserved('connect_error', new Error(String(e)));
      return this;
    }
    const pre = this._pre;
    this._pre = [];
    for (const [args, flags] of pre) this._emit(args, flags);
    return this;
  }

  /** Leaves the namespace; the connection closes when no namespace is left. */
  disconnect() {
    this.active = false;
    this.io._e.disconnect(this.nsp);
    this.connected = false;
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

  /** The next emit is dropped unless connected now. */
  get volatile() { this.flags.volatile = true; return this; }

  /** Accepted for compatibility; compression is the transport's business. */
  compress() { return this; }

  _emit(args, flags) {
    if (!this.active && !this.io._e.connected(this.nsp)) {
      this._pre.push([args, flags]);
      return;
    }
    let ack = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
    for (const fn of this._anyOut.slice()) fn.apply(this, args);
    const [json, att] = encode(args);
    const e = this.io._e;
    if (flags.volatile) {
      e.emitVolatile(this.nsp, json, att);
      return;
    }
    if (!ack) {
      try { e.emit(this.nsp, json, att, false, -1); } catch (err) { /* buffer full: dropped */ }
      return;
    }
    const timeout = flags.timeout !== undefined ? flags.timeout : this._opts.ackTimeout;
    const withError = flags.withError || timeout !== undefined;
    try {
      const id = e.emit(this.nsp, json, att, true, timeout === undefined ? -1 : timeout);
      this.acks.set(id, { ack, withError });
    } catch (err) {
      if (withError) ack.call(this, new Error(String(err)));
    }
  }

  _on(kind, a, b, c) {
    switch (kind) {
      case AUTH_REQUEST:
        this.auth((auth) => {
          try {
            this.io._e.provide_auth(this.nsp, auth == null ? undefined : JSON.stringify(auth));
          } catch (e) {
            this.emitReserved('connect_error', new Error(String(e)));
          }
        });
        break;
      case CONNECT:
        this.connected = true;
        this.id = a;
        this.recovered = b;
        this._drain(true);
        this.emitReserved('connect');
        break;
      case CONNECT_ERROR: {
        const err = new Error(a);
        if (b !== undefined) {
          // A server refusal: {"message": ..., "data": ...}. The namespace stays down.
          this.active = false;
          try {
            const p = JSON.parse(b);
            err.message = p && p.message !== undefined ? p.message : b;
            if (p && p.data !== undefined) err.data = p.data;
          } catch (_) { err.message = b; }
        }
        this.emitReserved('connect_error', err);
        break;
      }
      case DISCONNECT:
        this.connected = false;
        this.id = undefined;
        if (a === 'io server disconnect' || a === 'io client disconnect') this.active = false;
        // As socket.io-client: acks sent on the lost connection will not come.
        for (const [id, entry] of this.acks) {
          this.acks.delete(id);
          if (entry.withError) entry.ack.call(this, new Error('socket has been disconnected'));
        }
        this.emitReserved('disconnect', a);
        break;
      case EVENT: {
        const args = decode(a, b);
        if (c !== undefined) {
          let sent = false;
          args.push((...res) => {
            if (sent) return;
            sent = true;
            const [json, att] = encode(res);
            try { this.io._e.ack(this.nsp, c, json, att); } catch (_) { /* disconnected */ }
          });
        }
        for (const fn of this._any.slice()) fn.apply(this, args);
        this.emitReserved(...args);
        break;
      }
      case ACK: {
        const entry = this.acks.get(a);
        if (!entry) break;
        this.acks.delete(a);
        const args = decode(b, c);
        if (entry.withError) args.unshift(null);
        entry.ack.apply(this, args);
        break;
      }
      case ACK_FAILED: {
        const entry = this.acks.get(a);
        if (!entry) break;
        this.acks.delete(a);
        if (entry.withError) {
          entry.ack.call(this, new Error(b === 'timeout' ? 'operation has timed out'
            : 'socket has been disconnected'));
        }
        break;
      }
      default:
    }
  }

  /** Listens to every incoming event: `fn(event, ...args)`. */
  onAny(fn) { this._any.push(fn); return this; }
  /** `onAny`, first in line. */
  prependAny(fn) { this._any.unshift(fn); return this; }
  /** Removes one catch-all listener, or all of them. */
  offAny(fn) { this._any = fn ? this._any.filter((f) => f !== fn) : []; return this; }
  /** The catch-all listeners. */
  listenersAny() { return this._any.slice(); }
  /** Listens to every outgoing event. */
  onAnyOutgoing(fn) { this._anyOut.push(fn); return this; }
  /** `onAnyOutgoing`, first in line. */
  prependAnyOutgoing(fn) { this._anyOut.unshift(fn); return this; }
  /** Removes one outgoing catch-all listener, or all of them. */
  offAnyOutgoing(fn) { this._anyOut = fn ? this._anyOut.filter((f) => f !== fn) : []; return this; }
  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing() { return this._anyOut.slice(); }
}
Socket.prototype.open = Socket.prototype.connect;
Socket.prototype.close = Socket.prototype.disconnect;

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
