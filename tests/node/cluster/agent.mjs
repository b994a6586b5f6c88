// A Node process driven by the Rust cluster tests (tests/tests/cluster_redis.rs) through
// stdin/stdout, one JSON object a line:
//
//   in:  {"id": 1, "op": "client", ...}      out: {"id": 1, "ok": RESULT} or {"id": 1, "err": "..."}
//
// Commands run concurrently (a `wait` does not hold up the others). It can host, in any
// mix: socket.io-client sockets (`client`, `emit`, `wait`, `events`, `close`), one socket.io
// 4.8 server with @socket.io/redis-adapter 8.3 (`server`, `srv`), and one
// @socket.io/redis-emitter 5.1 (`emitter`, `emit_by_emitter`). Binary values cross the JSON
// pipe as {"$bin": [bytes]}. Exits when stdin closes.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import { io as ioc } from "socket.io-client";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { Emitter } from "@socket.io/redis-emitter";
import { createClient } from "redis";

/** JSON → values: {"$bin": [..]} becomes a Buffer. */
function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === "object") {
    if (Array.isArray(v.$bin) && Object.keys(v).length === 1) return Buffer.from(v.$bin);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

/** Values → JSON: binary becomes {"$bin": [..]}. */
function encode(v) {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { $bin: Array.from(v) };
  if (v instanceof ArrayBuffer) return { $bin: Array.from(new Uint8Array(v)) };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  }
  return v;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- clients ---------------------------------------------------------------------------

/** name → {socket, log: [{event, args, t}], mute: Set, answer} */
const clients = new Map();

function client(name) {
  const c = clients.get(name);
  if (!c) throw new Error(`no client ${name}`);
  return c;
}

async function connectClient({ name, url, nsp = "/", mute = [], answer, opts = {} }) {
  const socket = ioc(url + nsp, {
    forceNew: true,
    reconnection: false,
    transports: ["websocket"],
    ...opts,
  });
  const c = { socket, log: [], mute: new Set(mute), answer: answer ?? name };
  clients.set(name, c);
  socket.onAny((event, ...args) => {
    const cb = typeof args.at(-1) === "function" ? args.pop() : null;
    c.log.push({ event, args: encode(args), t: performance.now() });
    if (cb && !c.mute.has(event)) cb(c.answer);
  });
  socket.on("disconnect", (reason) => {
    c.log.push({ event: "$disconnect", args: [reason], t: performance.now() });
  });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name}: connect timed out`)), 5000);
    socket.once("connect", () => (clearTimeout(t), resolve()));
    socket.once("connect_error", (e) => (clearTimeout(t), reject(e)));
  });
  return { id: socket.id };
}

async function emit({ name, event, args = [], ack = false, timeout = 5000 }) {
  const { socket } = client(name);
  if (!ack) {
    socket.emit(event, ...decode(args));
    return null;
  }
  return encode(await socket.timeout(timeout).emitWithAck(event, ...decode(args)));
}

/** Waits until client `name` got `count` events `event` (whose first argument equals `arg`,
 *  if given); returns their argument lists. */
async function wait({ name, event, count = 1, arg, timeout = 5000 }) {
  const c = client(name);
  const pick = () =>
    c.log.filter(
      (e) => e.event === event && (arg === undefined || isDeepStrictEqual(e.args[0], arg)),
    );
  const deadline = Date.now() + timeout;
  while (pick().length < count) {
    if (Date.now() > deadline) {
      const seen = JSON.stringify(c.log.map((e) => [e.event, e.args]));
      throw new Error(`${name}: ${count} × ${event} not received in ${timeout} ms; log: ${seen}`);
    }
    await sleep(5);
  }
  return pick().map((e) => e.args);
}

/** Sends `n` chats from `from` to `room`, one after the other (each once `to` got the
 *  previous one) or all at once (`burst`); returns the texts `to` received, in order, and
 *  each message's send → receive time in ms. */
async function chatLatency({ from, to, room, n, burst = false, timeout = 10000 }) {
  const sender = client(from).socket;
  const rx = client(to);
  const sent = new Map();
  const got = [];
  const deadline = Date.now() + timeout;
  const onChat = (msg) => {
    if (msg && msg.room === room && sent.has(msg.text)) {
      got.push({ text: msg.text, ms: performance.now() - sent.get(msg.text) });
    }
  };
  rx.socket.on("chat", onChat);
  try {
    for (let i = 0; i < n; i++) {
      const text = `m${i}`;
      sent.set(text, performance.now());
      sender.emit("chat", { room, text });
      if (!burst) {
        while (got.length <= i) {
          if (Date.now() > deadline) throw new Error(`chat ${i} not received`);
          await new Promise((r) => setImmediate(r));
        }
      }
    }
    while (got.length < n) {
      if (Date.now() > deadline) throw new Error(`${got.length}/${n} chats received`);
      await sleep(2);
    }
  } finally {
    rx.socket.off("chat", onChat);
  }
  return { texts: got.map((g) => g.text), ms: got.map((g) => g.ms) };
}

// ---- server ----------------------------------------------------------------------------

let server = null; // { io, ssLog, pub, sub, http }

async function startServer({ port, redis }) {
  const pub = createClient({ url: redis });
  const sub = pub.duplicate();
  pub.on("error", () => {});
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const http = createServer();
  const io = new Server(http, { adapter: createAdapter(pub, sub) });
  const ssLog = [];
  // The demo contract of the README, as Sockeye's `sockeye::demo` has it.
  io.on("connection", (socket) => {
    socket.on("join", async (room, cb) => {
      await socket.join(room);
      const members = (await io.in(room).fetchSockets()).length;
      cb?.({ room, members });
      socket.to(room).emit("joined", { id: socket.id, room });
    });
    socket.on("leave", async (room, cb) => {
      await socket.leave(room);
      io.emit("lobby", "User left");
      io.in(room).emit("left", { id: socket.id, room });
      cb?.({ room });
    });
    socket.on("chat", (msg, cb) => {
      io.in(msg.room).emit("chat", { room: msg.room, from: socket.id, text: msg.text });
      cb?.({ ok: true });
    });
    socket.on("echo", (...args) => {
      const cb = typeof args.at(-1) === "function" ? args.pop() : null;
      cb?.(...args);
    });
  });
  // Server-side events from the other servers: logged, and answered when asked.
  io.on("ss", (...args) => {
    const cb = typeof args.at(-1) === "function" ? args.pop() : null;
    ssLog.push(encode(args));
    cb?.({ node: "node", got: encode(args) });
  });
  await new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", resolve);
  });
  server = { io, ssLog, pub, sub, http };
  return { uid: io.of("/").adapter.uid };
}

function sel(op, { rooms = [], except = [] }) {
  for (const r of rooms) op = op.to(r);
  for (const r of except) op = op.except(r);
  return op;
}

/** Server operations: `what` names one; `rooms`/`except` select sockets. */
async function srv(req) {
  if (!server) throw new Error("no server");
  const { io } = server;
  const op = sel(io.of(req.nsp ?? "/"), req);
  switch (req.what) {
    case "emit":
      op.emit(req.event, ...decode(req.args ?? []));
      return null;
    case "fetch": {
      const sockets = await (req.local ? op.local : op).fetchSockets();
      return sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort() }));
    }
    case "socketsJoin":
      op.socketsJoin(req.join);
      return null;
    case "socketsLeave":
      op.socketsLeave(req.leave);
      return null;
    case "disconnectSockets":
      op.disconnectSockets();
      return null;
    case "serverSideEmit":
      io.serverSideEmit(req.event, ...decode(req.args ?? []));
      return null;
    case "serverSideEmitWithAck":
      return encode(await io.serverSideEmitWithAck(req.event, ...decode(req.args ?? [])));
    case "emitWithAck": {
      const answers = await op.timeout(req.timeout ?? 2000).emitWithAck(req.event, ...decode(req.args ?? []));
      return encode(answers);
    }
    case "emitWithAckCount": {
      // With clients that do not answer: the error and how many answers came in.
      return await new Promise((resolve) => {
        op.timeout(req.timeout ?? 1000).emit(req.event, ...decode(req.args ?? []), (err, answers) => {
          resolve({ error: err ? String(err.message ?? err) : null, answers: encode(answers) });
        });
      });
    }
    case "ssLog":
      return server.ssLog;
    default:
      throw new Error(`unknown srv ${req.what}`);
  }
}

// ---- emitter ---------------------------------------------------------------------------

let emitter = null;
let emitterClient = null;

async function startEmitter({ redis }) {
  const c = createClient({ url: redis });
  c.on("error", () => {});
  await c.connect();
  emitterClient = c;
  emitter = new Emitter(c);
  return null;
}

async function emitByEmitter(req) {
  if (!emitter) throw new Error("no emitter");
  let op = emitter.of(req.nsp ?? "/");
  op = sel(op, req);
  switch (req.what) {
    case "emit":
      op.emit(req.event, ...decode(req.args ?? []));
      break;
    case "socketsJoin":
      op.socketsJoin(req.join);
      break;
    case "socketsLeave":
      op.socketsLeave(req.leave);
      break;
    case "disconnectSockets":
      op.disconnectSockets();
      break;
    case "serverSideEmit":
      emitter.of(req.nsp ?? "/").serverSideEmit(req.event, ...decode(req.args ?? []));
      break;
    default:
      throw new Error(`unknown emitter op ${req.what}`);
  }
  // node-redis pipelines commands: a PING behind the PUBLISH means it was sent.
  await emitterClient.ping();
  return null;
}

// ---- the pipe --------------------------------------------------------------------------

const ops = {
  client: connectClient,
  emit,
  wait,
  events: ({ name }) => client(name).log.map(({ event, args }) => ({ event, args })),
  close: ({ name }) => (client(name).socket.disconnect(), null),
  chat_latency: chatLatency,
  server: startServer,
  srv,
  emitter: startEmitter,
  emit_by_emitter: emitByEmitter,
};

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const rl = createInterface({ input: process.stdin });
rl.on("line", async (line) => {
  let req;
  try {
    req = JSON.parse(line);
  } catch {
    return;
  }
  try {
    const fn = ops[req.op];
    if (!fn) throw new Error(`unknown op ${req.op}`);
    reply({ id: req.id, ok: (await fn(req)) ?? null });
  } catch (e) {
    reply({ id: req.id, err: String(e?.stack ?? e) });
  }
});
rl.on("close", () => process.exit(0));
