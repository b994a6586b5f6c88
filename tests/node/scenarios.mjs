// Interop scenarios: the official socket.io-client against a sockeye server.
//
//   node node/scenarios.mjs URL SCENARIO
//
// Exits 0 when the scenario passes; prints what went wrong and exits 1 otherwise.
// Run by the Rust tests in tests/tests/js_client.rs, which start the server.
import { io } from "socket.io-client";
import assert from "node:assert/strict";

const [url, name] = process.argv.slice(2);
const clients = [];

function connect(nsp = "/", opts = {}) {
  const socket = io(url + nsp, { forceNew: true, reconnection: false, ...opts });
  clients.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

function once(socket, event) {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

function ack(socket, event, ...args) {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

async function echoRoundTrip(socket) {
  const res = await ack(socket, "echo", "hi", 1, { a: [true, null] });
  assert.deepEqual(res, "hi"); // emitWithAck resolves with the first argument
  const many = await new Promise((resolve) =>
    socket.emit("echo", "x", 2, { y: 3 }, (...args) => resolve(args)),
  );
  assert.deepEqual(many, ["x", 2, { y: 3 }]);
}

async function waitFor(cond, what) {
  for (let i = 0; i < 250; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * Connects with reconnection on, prints READY, and waits for the test to restart the
 * server: the graceful shutdown must reach the client as a `close` packet ("transport
 * close"), and the client must reconnect to the new server.
 */
async function restartReady(opts, waitUpgrade) {
  const s = io(url, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200, ...opts });
  clients.push(s);
  const upgraded = waitUpgrade
    ? new Promise((resolve) => s.io.on("open", () => s.io.engine.once("upgrade", resolve)))
    : Promise.resolve();
  await once(s, "connect");
  await upgraded;
  const firstId = s.id;
  const reason = once(s, "disconnect");
  console.log("READY");
  const [why] = await reason;
  assert.equal(why, "transport close");
  await once(s.io, "reconnect");
  assert.notEqual(s.id, firstId);
  await echoRoundTrip(s);
}

const scenarios = {
  async state_recovery() {
    // This test's server has connection state recovery on.
    const a = await connect("/", { transports: ["websocket"] });
    const b = await connect("/", { transports: ["websocket"] });
    await ack(a, "join", "r");
    assert.equal((await ack(b, "join", "r")).members, 2);
    const got = [];
    a.on("chat", (m) => got.push(m.text));
    await ack(b, "chat", { room: "r", text: "one" }); // gives `a` an offset
    await waitFor(() => got.length === 1, "the first chat");
    const id = a.id;
    a.io.engine.close(); // the transport drops
    // Wait until the server has noticed (b is alone in the room), then chat while a is away.
    let members = 2;
    while (members !== 1) members = (await ack(b, "join", "r")).members;
    await ack(b, "chat", { room: "r", text: "two" });
    a.connect();
    await once(a, "connect");
    assert.equal(a.recovered, true, "recovered");
    assert.equal(a.id, id);
    await waitFor(() => got.length === 2, "the missed chat");
    // Still in the room.
    await ack(b, "chat", { room: "r", text: "three" });
    await waitFor(() => got.length === 3, "the chat after recovery");
    assert.deepEqual(got, ["one", "two", "three"]);
    // A deliberate disconnect is not recovered.
    a.disconnect();
    a.connect();
    await once(a, "connect");
    assert.equal(a.recovered, false);
    assert.notEqual(a.id, id);
  },

  async server_wide_operations() {
    const [a, b] = await Promise.all([connect("/test"), connect("/test")]);
    const everyone = [once(a, "everyone"), once(b, "everyone")];
    a.on("poll", (q, cb) => cb("a:" + q));
    b.on("poll", (q, cb) => cb("b:" + q));
    const res = await ack(a, "admin");
    assert.equal(res.count, 2);
    assert.deepEqual(res.answers.sort(), ["a:vote?", "b:vote?"]);
    assert.equal(res.left, 0);
    for (const [n] of await Promise.all(everyone)) assert.equal(n, 2);
    const gone = [once(a, "disconnect"), once(b, "disconnect")];
    a.emit("disconnect_all");
    for (const [reason] of await Promise.all(gone)) assert.equal(reason, "io server disconnect");
  },

  async restart_ready() {
    await restartReady({}, true);
  },

  async restart_ready_polling() {
    await restartReady({ transports: ["polling"] }, false);
  },

  async polling_only() {
    const s = await connect("/", { transports: ["polling"] });
    assert.equal(s.io.engine.transport.name, "polling");
    await echoRoundTrip(s);
  },

  async websocket_only() {
    const s = await connect("/", { transports: ["websocket"] });
    assert.equal(s.io.engine.transport.name, "websocket");
    await echoRoundTrip(s);
  },

  async upgrade() {
    const s = io(url, { forceNew: true, reconnection: false });
    clients.push(s);
    const upgraded = new Promise((resolve) => s.io.on("open", () => s.io.engine.once("upgrade", resolve)));
    await once(s, "connect");
    await upgraded;
    assert.equal(s.io.engine.transport.name, "websocket");
    await echoRoundTrip(s);
  },

  async acks_both_ways() {
    const s = await connect("/test");
    s.on("question", (q, cb) => {
      assert.equal(q, "q?");
      cb("42");
    });
    assert.equal(await ack(s, "ask"), "42");
    // The client does not answer: the server's ack times out.
    s.off("question");
    s.on("question", () => {});
    assert.equal(await ack(s, "ask_timeout"), "timeout");
    // Catch-all handler with several arguments.
    assert.deepEqual(await ack(s, "whatever", 1, "two"), { event: "whatever", args: [1, "two"] });
  },

  async binary_both_ways() {
    const s = await connect("/");
    const buf = Buffer.from([0, 1, 2, 253, 254, 255]);
    const res = await ack(s, "echo", buf);
    assert.ok(Buffer.isBuffer(res), "ack is a Buffer");
    assert.deepEqual([...res], [...buf]);
    const nested = await new Promise((resolve) =>
      s.emit("echo", { file: buf, name: "f" }, [Buffer.from("ab")], (...args) => resolve(args)),
    );
    assert.deepEqual([...nested[0].file], [...buf]);
    assert.equal(nested[0].name, "f");
    assert.equal(nested[1][0].toString(), "ab");
    // Server to client.
    const t = await connect("/test");
    const got = once(t, "bin");
    t.emit("bin");
    const [data] = await got;
    assert.deepEqual([...data], [1, 2, 3]);
  },

  async binary_polling() {
    const s = await connect("/", { transports: ["polling"] });
    const buf = Buffer.from([9, 8, 7]);
    const res = await ack(s, "echo", buf);
    assert.deepEqual([...res], [9, 8, 7]);
  },

  async rooms_broadcast() {
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    const res = await ack(a, "join", "r");
    assert.deepEqual(res, { room: "r", members: 1 });
    const joined = once(a, "joined");
    assert.deepEqual(await ack(b, "join", "r"), { room: "r", members: 2 });
    assert.deepEqual((await joined)[0], { id: b.id, room: "r" });

    const chats = { a: [], b: [], c: [] };
    a.on("chat", (m) => chats.a.push(m));
    b.on("chat", (m) => chats.b.push(m));
    c.on("chat", (m) => chats.c.push(m));
    assert.deepEqual(await ack(a, "chat", { room: "r", text: "hello" }), { ok: true });

    // b leaves: everyone gets `lobby`, the room (a) gets `left`. Each client's packets
    // arrive in order, so once `lobby` is in, any `chat` for that client is too.
    const lobbies = [once(a, "lobby"), once(b, "lobby"), once(c, "lobby")];
    const left = once(a, "left");
    b.emit("leave", "r");
    for (const l of await Promise.all(lobbies)) assert.deepEqual(l, ["User left"]);
    assert.deepEqual((await left)[0], { id: b.id, room: "r" });
    const expected = { room: "r", from: a.id, text: "hello" };
    assert.deepEqual(chats.a, [expected]);
    assert.deepEqual(chats.b, [expected]);
    assert.deepEqual(chats.c, []);
  },

  async except_leave_all_and_extractors() {
    const [a, b, c] = await Promise.all([connect("/test"), connect("/test"), connect("/test")]);
    await ack(a, "join", "ex");
    await ack(b, "join", "ex");
    const heard = [];
    for (const [n, s] of [["a", a], ["b", b], ["c", c]]) s.on("hey", () => heard.push(n));
    // a's own rooms after leave_all: only its own id.
    assert.deepEqual(await ack(a, "except", "ex"), [a.id]);
    await waitFor(() => heard.length >= 1, "hey");
    await ack(c, "rooms"); // c's packets are in order: any further `hey` would have come
    assert.deepEqual(heard, ["c"]);
    assert.deepEqual(await ack(a, "bin_sizes", Buffer.alloc(3), Buffer.alloc(5)), {
      sizes: [3, 5],
      number: null,
    });
    assert.deepEqual(await ack(a, "bin_sizes", 7), { sizes: [], number: 7 });
  },

  async handlers_start_in_event_order() {
    // join and chat sent back to back, without waiting for the join's ack: the chat's
    // handler must see the join done, so the sender gets its own chat.
    const s = await connect("/", { transports: ["websocket"] });
    const chat = once(s, "chat");
    s.emit("join", "fast", () => {});
    s.emit("chat", { room: "fast", text: "first" }, () => {});
    assert.deepEqual((await chat)[0], { room: "fast", from: s.id, text: "first" });
  },

  async seed_leave_lobby() {
    const a = await connect();
    const b = await connect();
    await ack(a, "join", "room1");
    const lobby = once(b, "lobby");
    a.emit("leave", "room1");
    assert.deepEqual(await lobby, ["User left"]);
  },

  async auth() {
    const ok = await connect("/auth", { auth: { token: "secret" } });
    assert.ok(ok.connected);
    await assert.rejects(connect("/auth", { auth: { token: "wrong" } }), (err) => {
      assert.equal(err.message, "not authorized");
      assert.deepEqual(err.data, { code: 42 });
      return true;
    });
  },

  async auth_welcome() {
    const s = io(url + "/auth", { forceNew: true, reconnection: false, auth: { token: "secret", n: 1 } });
    clients.push(s);
    const [w] = await once(s, "welcome");
    assert.deepEqual(w, { token: "secret", n: 1 });
  },

  async namespaces() {
    const root = await connect("/");
    const manager = root.io;
    const test = manager.socket("/test");
    clients.push(test);
    test.connect();
    await once(test, "connect");
    assert.notEqual(test.id, root.id);
    assert.deepEqual(await ack(test, "rooms"), [test.id]);
    const dyn = await connect("/dyn-123");
    assert.equal(await ack(dyn, "whoami"), "/dyn-123");
    await assert.rejects(connect("/nope"), (err) => {
      assert.equal(err.message, "Invalid namespace");
      return true;
    });
  },

  async handshake_info() {
    const s = await connect("/test", { query: { foo: "bar" }, extraHeaders: { "x-test": "yes" }, transports: ["polling"] });
    assert.deepEqual(await ack(s, "handshake"), { foo: "bar", header: "yes", ip: "127.0.0.1" });
  },

  async disconnects() {
    const s = await connect("/test");
    const reason = once(s, "disconnect");
    s.emit("kick");
    assert.deepEqual(await reason, ["io server disconnect", undefined]);
    const t = await connect("/test");
    t.disconnect();
    const watcher = await connect("/test");
    for (let i = 0; i < 250; i++) {
      const reasons = await ack(watcher, "reasons");
      if (reasons.includes("client namespace disconnect") && reasons.includes("server namespace disconnect")) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail("disconnect reasons not recorded");
  },
};

const timer = setTimeout(() => {
  console.error(`scenario ${name}: timed out`);
  process.exit(1);
}, 25000);

try {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  await scenario();
  console.log(`scenario ${name}: ok`);
  clearTimeout(timer);
  for (const c of clients) c.disconnect();
  // Let the DISCONNECT / close packets go out (a polling client POSTs them).
  await new Promise((r) => setTimeout(r, 100));
  process.exit(0);
} catch (e) {
  console.error(`scenario ${name}: FAILED`);
  console.error(e);
  process.exit(1);
}
