// socket.io-client 4.8 through nginx (tests/nginx/sockeye.conf) to two Sockeye nodes on one
// Redis. Run by tests/tests/cluster_nginx.rs:
//
//   node nginx/client.mjs http://127.0.0.1:NGINX_PORT
//
// nginx's ip_hash picks a node by the client address's first three octets, and every
// 127.x.y.z is this host: the script first finds, from the `X-Upstream` header the test's
// nginx adds, a source address for each node. Then a polling-only client (on one node) and a
// WebSocket-only client (on the other) join one room and chat both ways; the polling client
// makes many round trips (sticky sessions: one unknown-session answer would end it); a
// client with the default transports upgrades through nginx. Prints one JSON line: the
// engine session ids and the node each source address reaches, for the Rust side to check
// nginx's access log. Every wait has a deadline.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, '..', 'node', 'package.json'));
const { io } = require('socket.io-client');

const URL = process.argv[2];
const WAIT = 10000;
const ROUND_TRIPS = 40;

function withDeadline(promise, what, ms = WAIT) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The node nginx sends `localAddress` to (GET / through nginx, its X-Upstream header). */
function upstreamOf(localAddress) {
  return withDeadline(new Promise((resolve, reject) => {
    const req = http.get(`${URL}/`, { localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers['x-upstream']));
    });
    req.on('error', reject);
  }), `GET / from ${localAddress}`);
}

async function sourcePerNode() {
  const found = new Map();
  for (let x = 0; x < 64 && found.size < 2; x++) {
    const source = `127.0.${x}.1`;
    const upstream = await upstreamOf(source);
    assert.ok(upstream, `no X-Upstream for ${source}`);
    // The same source always reaches the same node.
    assert.equal(await upstreamOf(source), upstream);
    if (!found.has(upstream)) found.set(upstream, source);
  }
  assert.equal(found.size, 2, `every source reached one node: ${[...found.keys()]}`);
  return [...found.entries()].map(([upstream, source]) => ({ upstream, source }));
}

function connect(source, opts) {
  const agent = new http.Agent({ localAddress: source, keepAlive: true });
  const socket = io(URL, { reconnection: false, forceNew: true, agent, localAddress: source, ...opts });
  socket.onAny((event, ...args) => {
    (socket.got[event] ||= []).push(args);
  });
  socket.got = {};
  return withDeadline(new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  }), `connect from ${source}`);
}

async function waitFor(socket, event, count = 1) {
  const deadline = Date.now() + WAIT;
  while ((socket.got[event] || []).length < count) {
    assert.ok(Date.now() < deadline, `${event} x${count} not received: ${JSON.stringify(socket.got)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return socket.got[event];
}

const call = (socket, event, ...args) =>
  withDeadline(socket.emitWithAck(event, ...args), `ack of ${event}`);

const [a, b] = await sourcePerNode();

const polling = await connect(a.source, { transports: ['polling'] });
const ws = await connect(b.source, { transports: ['websocket'] });
assert.equal(polling.io.engine.transport.name, 'polling');
assert.equal(ws.io.engine.transport.name, 'websocket');

const ROOM = 'nginx room';
assert.deepEqual(await call(polling, 'join', ROOM), { room: ROOM, members: 1 });
// fetchSockets across the cluster: the other node's member counts.
assert.deepEqual(await call(ws, 'join', ROOM), { room: ROOM, members: 2 });
await waitFor(polling, 'joined');

// Chat both ways (the room includes the sender).
assert.deepEqual(await call(polling, 'chat', { room: ROOM, text: 'from polling' }), { ok: true });
assert.deepEqual(await call(ws, 'chat', { room: ROOM, text: 'from websocket' }), { ok: true });
for (const s of [polling, ws]) {
  const texts = (await waitFor(s, 'chat', 2)).map(([m]) => m.text);
  assert.deepEqual(texts.sort(), ['from polling', 'from websocket']);
}

// Many round trips over polling: each is a POST and a GET, all to the same node.
const pollingSid = polling.io.engine.id;
for (let i = 0; i < ROUND_TRIPS; i++) {
  assert.deepEqual(await call(polling, 'echo', { i }), { i });
}
assert.ok(polling.connected);
assert.equal(polling.io.engine.id, pollingSid);
assert.equal(polling.io.engine.transport.name, 'polling');

// The default transports: polling, then the upgrade to WebSocket, through nginx.
const upgraded = await connect(a.source, {});
const upgradedSid = upgraded.io.engine.id;
await withDeadline(new Promise((resolve) => {
  if (upgraded.io.engine.transport.name === 'websocket') resolve();
  else upgraded.io.engine.once('upgrade', () => resolve());
}), 'upgrade');
assert.deepEqual(await call(upgraded, 'echo', 'after upgrade'), 'after upgrade');

// No duplicate: each chat arrived once.
await call(ws, 'echo', 'flush');
for (const s of [polling, ws]) assert.equal(s.got.chat.length, 2, JSON.stringify(s.got));

const wsSid = ws.io.engine.id;
for (const s of [polling, ws, upgraded]) s.disconnect();
console.log(JSON.stringify({
  nodes: [a, b], polling: pollingSid, websocket: wsSid, upgraded: upgradedSid,
  roundTrips: ROUND_TRIPS,
}));
process.exit(0);
