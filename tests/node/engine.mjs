// Raw Engine.IO / Socket.IO requests against a sockeye server (Node's fetch): the HTTP
// errors of the reference server, and bad input that must close one session cleanly while
// the others keep going.
//
//   node node/engine.mjs URL SCENARIO
import assert from "node:assert/strict";
import WebSocket from "ws";

const [url, name] = process.argv.slice(2);
const base = `${url}/socket.io/`;

async function req(query, init = {}) {
  const res = await fetch(`${base}?${query}`, init);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

async function expectError(query, init, status, code, message) {
  const r = await req(query, init);
  assert.equal(r.status, status, `${query}: ${JSON.stringify(r)}`);
  assert.equal(r.type, "application/json");
  assert.deepEqual(JSON.parse(r.body), { code, message });
}

/** Opens a polling session; returns its sid. */
async function open() {
  const r = await req("EIO=4&transport=polling");
  assert.equal(r.status, 200);
  assert.equal(r.type, "text/plain; charset=UTF-8");
  assert.ok(r.body.startsWith("0{"), r.body);
  const hs = JSON.parse(r.body.slice(1));
  assert.equal(hs.sid.length, 20);
  assert.match(hs.sid, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(hs.upgrades, ["websocket"]);
  return hs.sid;
}

/**
 * Asserts that a poll that was pending when its session closed ended it: it got the close
 * packet, or (when the close came before the poll reached the server) "Session ID unknown".
 */
function assertClosedPoll(r) {
  if (r.status === 200) assert.equal(r.body, "1");
  else assert.deepEqual(JSON.parse(r.body), { code: 1, message: "Session ID unknown" });
}

const poll = (sid) => req(`EIO=4&transport=polling&sid=${sid}`);
const post = (sid, body) =>
  req(`EIO=4&transport=polling&sid=${sid}`, { method: "POST", body });

/** Opens a session and joins namespace `/`. */
async function connected() {
  const sid = await open();
  assert.equal((await post(sid, "40")).body, "ok");
  const r = await poll(sid);
  assert.match(r.body, /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  return sid;
}

/** An echo round trip on a connected session. */
async function echo(sid) {
  assert.equal((await post(sid, '421["echo","x"]')).body, "ok");
  assert.equal((await poll(sid)).body, '431["x"]');
}

/** A raw WebSocket with a queue of received messages (text as strings, binary as Buffers). */
function wsOpen(query) {
  const ws = new WebSocket(`${base.replace("http", "ws")}?${query}`);
  const queue = [];
  const waiters = [];
  ws.on("message", (data, isBinary) => {
    const m = isBinary ? Buffer.from(data) : data.toString();
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  ws.closed = new Promise((resolve) => ws.on("close", resolve));
  ws.next = () =>
    queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r));
  return new Promise((resolve, reject) => {
    ws.on("open", () => resolve(ws));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => reject(Object.assign(new Error("refused"), { status: res.statusCode, body })));
    });
    ws.on("error", reject);
  });
}

/** A WebSocket-only session joined to `/`. */
async function wsConnected() {
  const ws = await wsOpen("EIO=4&transport=websocket");
  const open = await ws.next();
  assert.ok(open.startsWith("0{"), open);
  assert.deepEqual(JSON.parse(open.slice(1)).upgrades, []);
  ws.send("40");
  assert.match(await ws.next(), /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  return ws;
}

const scenarios = {
  async ws_only_text_and_binary() {
    const ws = await wsConnected();
    ws.send('421["echo","x"]');
    assert.equal(await ws.next(), '431["x"]');
    ws.send('451-2["echo",{"_placeholder":true,"num":0}]');
    ws.send(Buffer.from([1, 2, 3]));
    assert.equal(await ws.next(), '461-2[{"_placeholder":true,"num":0}]');
    assert.deepEqual([...(await ws.next())], [1, 2, 3]);
    ws.close();
  },

  async ws_upgrade_from_polling() {
    const sid = await connected();
    const ws = await wsOpen(`EIO=4&transport=websocket&sid=${sid}`);
    const pending = poll(sid);
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    assert.equal((await pending).body, "6"); // the pending poll is released with a noop
    ws.send("5");
    ws.send('427["echo","after upgrade"]');
    assert.equal(await ws.next(), '437["after upgrade"]');
    // Polling is over for this session.
    await expectError(`EIO=4&transport=polling&sid=${sid}`, {}, 400, 3, "Bad request");
    // A second WebSocket for the same session is refused (closed at once).
    const again = await wsOpen(`EIO=4&transport=websocket&sid=${sid}`);
    await again.closed;
    ws.close();
    // Unknown sid: the upgrade request gets the HTTP error.
    await assert.rejects(wsOpen("EIO=4&transport=websocket&sid=nope"), (e) => {
      assert.equal(e.status, 400);
      assert.deepEqual(JSON.parse(e.body), { code: 1, message: "Session ID unknown" });
      return true;
    });
  },

  async ws_bad_input_closes_only_that_session() {
    const other = await wsConnected();
    const bad = await wsConnected();
    bad.send("4this is not socket.io");
    await bad.closed;
    const big = await wsConnected();
    big.send("4" + "x".repeat(5000)); // this test's server allows 1000 bytes
    await big.closed;
    other.send('423["echo","still here"]');
    assert.equal(await other.next(), '433["still here"]');
    other.close();
  },

  async http_errors() {
    await expectError("EIO=4&transport=carrier-pigeon", {}, 400, 0, "Transport unknown");
    await expectError("EIO=4", {}, 400, 0, "Transport unknown");
    await expectError("EIO=4&transport=polling&sid=nope", {}, 400, 1, "Session ID unknown");
    await expectError("EIO=4&transport=polling", { method: "POST", body: "x" }, 400, 2, "Bad handshake method");
    await expectError("EIO=3&transport=polling", {}, 400, 5, "Unsupported protocol version");
    await expectError("transport=polling", {}, 400, 5, "Unsupported protocol version");
    const sid = await open();
    // A WebSocket request that is not an upgrade.
    await expectError(`EIO=4&transport=websocket&sid=${sid}`, {}, 400, 3, "Bad request");
    await expectError(`EIO=4&transport=polling&sid=${sid}`, { method: "PUT" }, 400, 3, "Bad request");
  },

  async forbidden() {
    await expectError("EIO=4&transport=polling", {}, 403, 4, "Forbidden");
  },

  async overlapping_poll_closes_session() {
    const other = await connected();
    const sid = await connected();
    const first = poll(sid);
    await new Promise((r) => setTimeout(r, 50));
    // Whichever GET came second is refused; the pending one gets a close packet.
    const results = await Promise.all([first, poll(sid)]);
    const refused = results.filter((r) => r.status === 400);
    const closed = results.filter((r) => r.status === 200);
    assert.equal(refused.length, 1, JSON.stringify(results));
    assert.deepEqual(closed.map((r) => r.body), ["1"]);
    await expectError(`EIO=4&transport=polling&sid=${sid}`, {}, 400, 1, "Session ID unknown");
    await echo(other);
  },

  async malformed_packet_closes_session() {
    const other = await connected();
    const sid = await connected();
    const pending = poll(sid);
    assert.equal((await post(sid, "4not a socket.io packet")).body, "ok");
    assertClosedPoll(await pending);
    await expectError(`EIO=4&transport=polling&sid=${sid}`, {}, 400, 1, "Session ID unknown");
    const sid2 = await connected();
    const r = await post(sid2, "9garbage");
    assert.equal(r.status, 400);
    await expectError(`EIO=4&transport=polling&sid=${sid2}`, {}, 400, 1, "Session ID unknown");
    await echo(other);
  },

  async oversized_payload_closes_session() {
    const other = await connected();
    const sid = await connected();
    const r = await post(sid, "4" + "x".repeat(2_000_000));
    assert.equal(r.status, 413);
    await new Promise((r) => setTimeout(r, 50));
    await expectError(`EIO=4&transport=polling&sid=${sid}`, {}, 400, 1, "Session ID unknown");
    await echo(other);
  },

  async too_many_attachments_closes_session() {
    const other = await connected();
    const sid = await connected();
    const pending = poll(sid);
    assert.equal((await post(sid, '4511-["echo"]')).body, "ok");
    assertClosedPoll(await pending);
    await echo(other);
  },

  async cors() {
    const origin = "http://elsewhere.example";
    const pre = await fetch(`${base}?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
    });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get("access-control-allow-origin"), origin);
    const res = await fetch(`${base}?EIO=4&transport=polling`, { headers: { Origin: origin } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), origin);
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    // The static demo page is served next to Socket.IO.
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
  },

  async slow_reader_is_disconnected() {
    // This test's server allows 10 queued packets per client.
    const other = await connected();
    const sid = await open();
    assert.equal((await post(sid, "40/test,")).body, "ok");
    assert.match((await poll(sid)).body, /^40\/test,/);
    // Ask for 100 packets and do not read them: the handler emits them after the POST is
    // answered, so a poll at once could take the first few before the queue overflows.
    assert.equal((await post(sid, '42/test,["flood",100]')).body, "ok");
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 100; i++) {
      const r = await poll(sid);
      if (r.status === 400) return echo(other);
      await new Promise((r) => setTimeout(r, 20));
      if (r.body.endsWith("\x1e1") || r.body === "1") return echo(other);
      assert.fail(`the slow reader got data: ${r.body.slice(0, 80)}`);
    }
  },

  async flooding_slow_handlers_is_disconnected() {
    // A socket's handlers run 256 at a time with 1,024 events waiting: a client sending
    // events to handlers that never finish is disconnected, not buffered without end.
    const other = await connected();
    const ws = await wsOpen("EIO=4&transport=websocket");
    assert.ok((await ws.next()).startsWith("0{"));
    ws.send("40/test,");
    assert.match(await ws.next(), /^40\/test,/);
    let sent = 0;
    let closed = false;
    ws.closed.then(() => (closed = true));
    while (!closed && sent < 5000) {
      ws.send('42/test,["stall"]');
      sent += 1;
      if (sent % 100 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(sent < 5000, "5,000 stalled events and still connected");
    await ws.closed;
    assert.ok(sent > 1280, `closed after only ${sent} events`);
    await echo(other);
  },

  async volatile_is_dropped_not_disconnected() {
    // This test's server allows 10 queued packets per client.
    const sid = await open();
    assert.equal((await post(sid, "40/test,")).body, "ok");
    assert.match((await poll(sid)).body, /^40\/test,/);
    // 100 volatile packets while no poll is pending: dropped, the session stays.
    assert.equal((await post(sid, '42/test,["flood_volatile",100]')).body, "ok");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await post(sid, '42/test,1["rooms"]')).body, "ok");
    const r = await poll(sid);
    assert.equal(r.status, 200);
    assert.match(r.body, /^43\/test,1\[\[/, r.body);
  },

  async connect_timeout() {
    // This test's server closes sessions that join no namespace within 300 ms.
    const sid = await open();
    const r = await poll(sid);
    assert.equal(r.body, "1");
    await expectError(`EIO=4&transport=polling&sid=${sid}`, {}, 400, 1, "Session ID unknown");
  },

  async binary_over_polling_is_base64() {
    const sid = await connected();
    const body = '451-1["echo",{"_placeholder":true,"num":0}]\x1ebAQID';
    assert.equal((await post(sid, body)).body, "ok");
    assert.equal((await poll(sid)).body, '461-1[{"_placeholder":true,"num":0}]\x1ebAQID');
  },

  async heartbeat() {
    // This test's server pings every 300 ms and waits 3 s for the pong.
    const sid = await open();
    assert.equal((await post(sid, "40")).body, "ok");
    // The CONNECT answer, possibly with the first ping in the same body.
    const first = (await poll(sid)).body;
    assert.match(first, /^40\{"sid":"[A-Za-z0-9_-]{20}"\}(\x1e2)?$/);
    if (!first.endsWith("\x1e2")) assert.equal((await poll(sid)).body, "2");
    assert.equal((await post(sid, "3")).body, "ok");
    assert.equal((await poll(sid)).body, "2");
    // No pong: closed after the ping timeout.
    await new Promise((r) => setTimeout(r, 4000));
    await expectError(`EIO=4&transport=polling&sid=${sid}`, {}, 400, 1, "Session ID unknown");
  },
};

try {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  await scenario();
  console.log(`scenario ${name}: ok`);
  process.exit(0);
} catch (e) {
  console.error(`scenario ${name}: FAILED`);
  console.error(e);
  process.exit(1);
}
