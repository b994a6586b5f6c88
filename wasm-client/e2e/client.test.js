// sockeye-client in headless Chromium against the official Node socket.io 4.8 server.
// Each test opens a fresh page; the servers run in this process on free ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, freePort, startScripted, startSocketIo, usePackagePages, FAST, T } from './harness.js';

const newPage = usePackagePages();

/** Runs `body(page, server)` against a fresh socket.io server. */
async function withServer(body, serverOpts) {
  const server = await startSocketIo(await freePort(), serverOpts);
  const page = await newPage();
  try {
    await body(page, server);
  } finally {
    await page.close();
    await server.close();
  }
}

test('connect, id, events both ways, server disconnect', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url, FAST }) => {
    const s = sio.io(url, FAST);
    await next(s, 'connect');
    const first = { connected: s.connected, id: s.id };
    const got = next(s, 'answer');
    s.emit('ask', 'greet', 'hello', { n: 1 });
    const [greet] = await next(s, 'greet');
    const [answer] = await got;
    const dis = next(s, 'disconnect');
    s.emit('bye');
    const [reason] = await dis;
    return { first, greet, answer, reason, after: s.connected, active: s.active };
  }, { url: server.url, FAST });
  assert.equal(r.first.connected, true);
  assert.match(r.first.id, /^[\w-]{20}$/);
  assert.equal(r.greet, 'hello');
  assert.equal(r.reason, 'io server disconnect');
  assert.equal(r.after, false);
  assert.equal(r.active, false);
}));

test('io() without a URL uses the page origin only; a URL without a scheme is accepted', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url, FAST }) => {
    // A page that is not at `/` and has a query string: neither may leak into io().
    history.pushState({}, '', '/some/page.html?foo=bar');
    const same = sio.io({ autoConnect: false, forceNew: true });
    const bare = sio.io(url.replace(/^http:\/\//, ''), FAST);
    await next(bare, 'connect');
    const echoed = await bare.emitWithAck('echo', 'no scheme');
    bare.disconnect();
    return { nsp: same.nsp, uri: same.io.uri, origin: location.origin, echoed };
  }, { url: server.url, FAST });
  assert.equal(r.nsp, '/');
  // As socket.io-client's manager.uri: the origin only.
  assert.equal(r.uri, r.origin);
  assert.equal(r.echoed, 'no scheme');
}));

test('acks both ways: callback, emitWithAck, timeout', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const s = sio.io(url);
    await next(s, 'connect');
    const cb = await new Promise((res) => s.emit('echo', 1, 'two', { three: [3] }, (...a) => res(a)));
    const promised = await s.emitWithAck('echo', 'promised');
    const timed = await new Promise((res) => s.timeout(5000).emit('echo', 'x', (err, v) => res([err, v])));
    const failed = await new Promise((res) => s.timeout(200).emit('noack', (err) => res(err && err.message)));
    const rejected = await s.timeout(200).emitWithAck('noack').then(() => 'resolved', (e) => e.message);
    // The server asks, the client acks (with several values).
    s.on('question', (q, ack) => ack(`re: ${q}`, 42));
    const answer = next(s, 'answer');
    s.emit('ask', 'question', 'why');
    const [a] = await answer;
    s.disconnect();
    return { cb, promised, timed, failed, rejected, a };
  }, { url: server.url });
  assert.deepEqual(r.cb, [1, 'two', { three: [3] }]);
  assert.equal(r.promised, 'promised');
  assert.deepEqual(r.timed, [null, 'x']);
  assert.equal(r.failed, 'operation has timed out');
  assert.equal(r.rejected, 'operation has timed out');
  // socket.io's emitWithAck resolves with the first argument of the client's ack.
  assert.equal(r.a, 're: why');
}));

test('retries: unacked emits are sent again, in order', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const s = sio.io(url, { retries: 2, ackTimeout: 300 });
    await next(s, 'connect');
    const first = s.emitWithAck('flaky', 'a');
    const second = new Promise((res) => s.emit('flaky', 'b', (err, v) => res([err, v])));
    const out = { first: await first, second: await second };
    s.disconnect();
    return out;
  }, { url: server.url });
  assert.equal(r.first, 'a');
  assert.deepEqual(r.second, [null, 'b']);
  // 'a' is ignored once and acked on its retry; 'b' then waits for its turn.
  assert.deepEqual(server.received, ['flaky a', 'flaky a', 'flaky b', 'flaky b']);
}));

test('binary both ways, in any argument position', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const s = sio.io(url);
    await next(s, 'connect');
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const view = new Uint16Array([1, 65535]);
    const echoed = await s.emitWithAck('echo', {
      a: bytes, nested: [1, { b: view.buffer }], c: new Uint8Array(0), text: 'x',
    });
    const [head, tail] = await new Promise((res) => s.emit('echo', bytes.subarray(1, 3), 'and', (...a) => res(a)));
    // Binary from the server: the client acks it back with the same bytes.
    s.on('blob', (buf, ack) => ack(buf));
    const answer = next(s, 'answer');
    s.emit('ask', 'blob', bytes);
    const [back] = await answer;
    s.disconnect();
    const arr = (b) => (b instanceof ArrayBuffer ? Array.from(new Uint8Array(b)) : `not binary: ${b}`);
    return {
      a: arr(echoed.a), b: arr(echoed.nested[1].b), c: arr(echoed.c), text: echoed.text,
      head: arr(head), tail, back: arr(back),
    };
  }, { url: server.url });
  assert.deepEqual(r.a, [0, 1, 2, 253, 254, 255]);
  assert.deepEqual(r.b, [1, 0, 255, 255]);
  assert.deepEqual(r.c, []);
  assert.equal(r.text, 'x');
  assert.deepEqual(r.head, [1, 2]);
  assert.equal(r.tail, 'and');
  assert.deepEqual(r.back, [0, 1, 2, 253, 254, 255]);
}));

test('namespaces share one connection; auth accepted', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const main = sio.io(url);
    const admin = sio.io(`${url}/admin`, { auth: { token: 'secret' } });
    const welcome = next(admin, 'welcome');
    await Promise.all([next(main, 'connect'), next(admin, 'connect')]);
    const [w] = await welcome;
    const echo = await admin.emitWithAck('echo', 'from admin');
    const shared = main.io === admin.io;
    main.disconnect();
    admin.disconnect();
    return { w, echo, shared, nsp: admin.nsp };
  }, { url: server.url });
  assert.equal(r.w, 'admin secret');
  assert.equal(r.echo, 'from admin');
  assert.equal(r.shared, true);
  assert.equal(r.nsp, '/admin');
  // Leaving the last namespace closes the connection.
  await eventually(() => server.io.engine.clientsCount === 0);
}));

test('an auth callback is asked again before every reconnection', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url, FAST }) => {
    let calls = 0;
    const admin = sio.io(`${url}/admin`, {
      ...FAST,
      forceNew: true,
      // Asynchronous, as a token refresh would be.
      auth: (cb) => { calls += 1; setTimeout(() => cb({ token: 'secret', call: calls }), 10); },
    });
    const [first] = await next(admin, 'welcome');
    const second = next(admin, 'welcome');
    admin.emit('drop');
    const [again] = await second;
    const res = { first, again, calls, connected: admin.connected };
    admin.disconnect();
    return res;
  }, { url: server.url, FAST });
  assert.equal(r.first, 'admin secret');
  assert.equal(r.again, 'admin secret');
  assert.equal(r.calls, 2);
  assert.equal(r.connected, true);
}));

test('auth rejection becomes connect_error with message and data', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const admin = sio.io(`${url}/admin`, { auth: { token: 'wrong' }, forceNew: true });
    const [err] = await next(admin, 'connect_error');
    return { message: err.message, data: err.data, active: admin.active, connected: admin.connected };
  }, { url: server.url });
  assert.equal(r.message, 'unauthorized');
  assert.deepEqual(r.data, { reason: 'bad token' });
  assert.equal(r.active, false);
  assert.equal(r.connected, false);
}));

for (const [name, transports, want] of [
  ['polling only', ['polling'], 'polling'],
  ['websocket only', ['websocket'], 'websocket'],
]) {
  test(`${name}`, T, () => withServer(async (page, server) => {
    const r = await page.evaluate(async ({ url, transports }) => {
      const s = sio.io(url, { transports });
      await next(s, 'connect');
      const serverSide = await s.emitWithAck('transport');
      const echo = await s.emitWithAck('echo', 'é✓ 😀', new Uint8Array([7]));
      const local = s.io.transport;
      s.disconnect();
      return { serverSide, echo: echo, local };
    }, { url: server.url, transports });
    assert.equal(r.serverSide, want);
    assert.equal(r.local, want);
    assert.equal(r.echo, 'é✓ 😀');
  }));
}

test('upgrade from polling to websocket', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const s = sio.io(url);
    const upgraded = next(s.io, 'upgrade');
    await next(s, 'connect');
    await upgraded;
    const serverSide = await s.emitWithAck('transport');
    const echo = await s.emitWithAck('echo', 'after upgrade');
    const local = s.io.transport;
    s.disconnect();
    return { serverSide, echo, local };
  }, { url: server.url });
  assert.equal(r.serverSide, 'websocket');
  assert.equal(r.local, 'websocket');
  assert.equal(r.echo, 'after upgrade');
}));

test('reconnects after the server restarts; emits made offline are buffered', T, async () => {
  const port = await freePort();
  let server = await startSocketIo(port);
  const page = await newPage();
  try {
    await page.evaluate(async ({ url, FAST }) => {
      window.s = sio.io(url, FAST);
      window.log = [];
      s.io.on('reconnect_attempt', (n) => log.push(`attempt ${n}`));
      s.io.on('reconnect', () => log.push('reconnect'));
      s.on('disconnect', (reason) => log.push(`disconnect ${reason}`));
      await next(s, 'connect');
      window.firstId = s.id;
      window.down = next(s, 'disconnect');
      // Sent on the connection about to be lost: rejected, as with socket.io-client.
      window.lost = s.emitWithAck('noack').then(() => 'resolved', (e) => e.message);
    }, { url: server.url, FAST });
    await server.close();
    await page.evaluate(async () => {
      await down;
      // Offline: these wait in the buffer.
      s.emit('store', 'offline 1');
      s.emit('store', 'offline 2');
      window.acked = s.emitWithAck('echo', 'offline ack');
      window.volatileSent = s.volatile.emit('store', 'volatile: dropped');
      window.up = next(s, 'connect', 15000);
    });
    server = await startSocketIo(port);
    const r = await page.evaluate(async () => {
      await up;
      const ack = await acked;
      const lostAck = await lost;
      const stored = await s.emitWithAck('echo', 'online');
      return { ack, lostAck, stored, log, sameId: s.id === firstId, connected: s.connected };
    });
    assert.equal(r.connected, true);
    assert.equal(r.ack, 'offline ack');
    assert.equal(r.lostAck, 'socket has been disconnected');
    assert.equal(r.stored, 'online');
    assert.equal(r.sameId, false);
    assert.deepEqual(server.received, ['offline 1', 'offline 2']);
    assert.equal(r.log[0], 'disconnect transport close');
    assert.ok(r.log.includes('attempt 1'), r.log.join(', '));
    assert.equal(r.log[r.log.length - 1], 'reconnect');
  } finally {
    await page.evaluate(() => s.disconnect()).catch(() => {});
    await page.close();
    await server.close();
  }
});

test('connection state recovery after a dropped connection', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url, FAST }) => {
    const s = sio.io(url, FAST);
    await next(s, 'connect');
    const first = { id: s.id, recovered: s.recovered };
    // Recovery needs an offset: the last packet the server sent with recovery on.
    const news = next(s, 'news');
    s.emit('say', 'news', 'one');
    const newsArgs = await news;
    const back = next(s, 'connect', 15000);
    s.emit('drop');
    await back;
    const r = { first, newsArgs, id: s.id, recovered: s.recovered, echo: await s.emitWithAck('echo', 'ok') };
    s.disconnect();
    return r;
  }, { url: server.url, FAST });
  assert.equal(r.first.recovered, false);
  assert.equal(r.recovered, true);
  assert.equal(r.id, r.first.id);
  assert.equal(r.echo, 'ok');
  // As with socket.io-client, the offset comes as an extra last argument.
  assert.equal(r.newsArgs[0], 'one');
  assert.equal(r.newsArgs.length, 2);
}, { connectionStateRecovery: { maxDisconnectionDuration: 60000 } }));

test('garbage from the server becomes connect_error / disconnect events, never a page error', T, async () => {
  const open = '0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';
  const garbage = await startScripted(await freePort(), ['not engine.io \u001e at all']);
  const broken = await startScripted(await freePort(), [open, '40{"sid":"s1"}', '4garbage']);
  const page = await newPage();
  try {
    const r = await page.evaluate(async ({ garbageUrl, brokenUrl }) => {
      const a = sio.io(garbageUrl, { transports: ['polling'], reconnection: false });
      const [err] = await next(a, 'connect_error');
      const b = sio.io(brokenUrl, { transports: ['polling'], reconnection: false });
      await next(b, 'connect');
      const [reason] = await next(b, 'disconnect');
      return { err: err.message, active: a.active, reason, connected: b.connected };
    }, { garbageUrl: garbage.url, brokenUrl: broken.url });
    assert.equal(r.err, 'parse error');
    assert.equal(r.reason, 'parse error');
    assert.equal(r.connected, false);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.close();
    await garbage.close();
    await broken.close();
  }
});

test('socket.auth and io.opts.query changed after connecting are used on reconnection', T, () => withServer(async (page, server) => {
  const seen = [];
  server.io.of('/admin').use((socket, next) => { seen.push([socket.handshake.auth.n, socket.handshake.query.v]); next(); });
  const r = await page.evaluate(async ({ url, FAST }) => {
    const s = sio.io(`${url}/admin`, { ...FAST, forceNew: true, auth: { token: 'secret' }, query: { v: '1' } });
    await next(s, 'welcome');
    s.auth = { token: 'secret', n: 2 };
    s.io.opts.query = { v: '2' };
    const again = next(s, 'connect', 15000);
    s.emit('drop');
    await again;
    s.disconnect();
    return s.connected;
  }, { url: server.url, FAST });
  assert.equal(r, false);
  assert.deepEqual(seen, [[undefined, '1'], [2, '2']]);
}));

test('socket.connect() reconnects after reconnect_failed and with reconnection: false', T, async () => {
  const port = await freePort();
  const page = await newPage();
  let server;
  try {
    const failed = await page.evaluate(async ({ url }) => {
      window.a = sio.io(url, { forceNew: true, reconnectionAttempts: 1, reconnectionDelay: 50, reconnectionDelayMax: 50 });
      window.b = sio.io(url, { forceNew: true, reconnection: false });
      const [errB] = await next(b, 'connect_error');
      await next(a.io, 'reconnect_failed');
      return { errB: errB.message, type: errB.type, active: b.active };
    }, { url: `http://127.0.0.1:${port}` });
    assert.equal(failed.errB, 'xhr poll error');
    assert.equal(failed.type, 'TransportError');
    server = await startSocketIo(port);
    const r = await page.evaluate(async () => {
      const up = Promise.all([next(a, 'connect'), next(b, 'connect')]);
      a.connect();
      b.connect();
      await up;
      const out = [a.connected, b.connected];
      a.disconnect();
      b.disconnect();
      return out;
    });
    assert.deepEqual(r, [true, true]);
  } finally {
    await page.close();
    if (server) await server.close();
  }
});

test('manager API: engine, open/close, setters and getters, ping and packet events', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const m = new sio.Manager(url, { autoConnect: false, reconnectionDelay: 100 });
    const s = m.socket('/');
    const log = [];
    m.on('packet', (p) => log.push(`packet ${p.type}`));
    m.open();
    const upgraded = new Promise((res) => m.engine.on('upgrade', (t) => res(t.name)));
    s.connect();
    await next(s, 'connect');
    const engineId = m.engine.id;
    const upgradedTo = await upgraded;
    const name = m.engine.transport.name;
    await next(m, 'ping', 5000);
    const getters = [m.reconnection(), m.reconnectionAttempts(), m.reconnectionDelay(),
      m.reconnectionDelayMax(), m.randomizationFactor(), m.timeout()];
    const chained = m.reconnectionDelay(200).reconnectionDelayMax(300).randomizationFactor(0).timeout(5000) === m;
    const set = [m.reconnectionDelay(), m.reconnectionDelayMax(), m.randomizationFactor(), m.timeout()];
    await s.emitWithAck('echo', 1);
    const [reason] = await new Promise((res) => { s.once('disconnect', (...a) => res(a)); m.close(); });
    const afterClose = { connected: s.connected, active: s.active };
    const back = next(s, 'connect');
    m.open();
    await back;
    m.reconnection(false);
    const off = m.reconnection();
    s.disconnect();
    return { engineId, upgradedTo, name, getters, chained, set, reason, afterClose, off, log, connected: s.connected };
  }, { url: server.url });
  assert.match(r.engineId, /^[\w-]{20}$/);
  assert.equal(r.upgradedTo, 'websocket');
  assert.equal(r.name, 'websocket');
  assert.deepEqual(r.getters, [true, Infinity, 100, 5000, 0.5, 20000]);
  assert.equal(r.chained, true);
  assert.deepEqual(r.set, [200, 300, 0, 5000]);
  assert.equal(r.reason, 'forced close');
  assert.deepEqual(r.afterClose, { connected: false, active: true });
  assert.equal(r.off, false);
  assert.ok(r.log.includes('packet 0') && r.log.includes('packet 3'), r.log.join());
}));

test('disconnect descriptions and reconnect_error causes', T, async () => {
  const port = await freePort();
  let server = await startSocketIo(port);
  const page = await newPage();
  try {
    await page.evaluate(async ({ url, FAST }) => {
      window.s = sio.io(url, { ...FAST, transports: ['websocket'], forceNew: true });
      window.errors = [];
      s.io.on('reconnect_error', (e) => errors.push(e.message));
      await next(s, 'connect');
      window.down = next(s, 'disconnect');
    }, { url: server.url, FAST });
    await server.close();
    const r = await page.evaluate(async () => {
      const [reason, desc] = await down;
      await next(s.io, 'reconnect_error');
      s.disconnect();
      return { reason, desc: desc && desc.description, errors };
    });
    assert.equal(r.reason, 'transport close');
    assert.equal(r.desc, 'websocket connection closed');
    assert.equal(r.errors[0], 'websocket error');
  } finally {
    await page.close();
    await server.close();
  }
});

test('Blob and File arguments are sent as binary, in call order', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const s = sio.io(url, { forceNew: true });
    await next(s, 'connect');
    const order = [];
    const p1 = new Promise((res) => s.emit('echo', new Blob([new Uint8Array([1, 2, 3])]), (b) => { order.push(1); res(b); }));
    const p2 = new Promise((res) => s.emit('echo', 'after', (v) => { order.push(2); res(v); }));
    const f = await s.emitWithAck('echo', { file: new File(['hé'], 'a.txt') });
    const [b, after] = await Promise.all([p1, p2]);
    s.disconnect();
    return { b: Array.from(new Uint8Array(b)), after, f: new TextDecoder().decode(f.file), order };
  }, { url: server.url });
  assert.deepEqual(r.b, [1, 2, 3]);
  assert.equal(r.after, 'after');
  assert.equal(r.f, 'hé');
  assert.deepEqual(r.order, [1, 2]);
}));

test('volatile keeps its ack; onAnyOutgoing fires when sent; a full offline buffer is reported', T, () => withServer(async (page, server) => {
  const r = await page.evaluate(async ({ url }) => {
    const s = sio.io(url, { forceNew: true, reconnection: false });
    const out = [];
    s.onAnyOutgoing((ev, v) => out.push(`${ev} ${v} ${s.connected}`));
    s.emit('store', 'early');
    await next(s, 'connect');
    const acked = await new Promise((res) => s.volatile.emit('echo', 'v', (v) => res(v)));
    s.io.close();
    const timedOut = await new Promise((res) => s.volatile.timeout(100).emit('echo', 'dropped', (err) => res(err && err.message)));
    let full = null;
    try {
      for (let i = 0; i < 1100; i++) s.emit('store', i);
    } catch (e) { full = e.message; }
    const fullAck = await s.timeout(1000).emitWithAck('echo', 'x').catch((e) => e.message);
    return { acked, timedOut, full, fullAck, out: out.slice(0, 2) };
  }, { url: server.url });
  assert.equal(r.acked, 'v');
  assert.equal(r.timedOut, 'operation has timed out');
  assert.equal(r.full, 'offline buffer full');
  assert.equal(r.fullAck, 'offline buffer full');
  // The early emit is reported when it goes out (connected by then), not when called.
  assert.deepEqual(r.out, ['store early true', 'echo v true']);
}));

test('engine options: timestampRequests, timestampParam, addTrailingSlash, rememberUpgrade', T, () => withServer(async (page, server) => {
  const urls = [];
  server.io.engine.on('initial_headers', (_h, req) => urls.push(req.url));
  const r = await page.evaluate(async ({ url }) => {
    const a = sio.io(url, { forceNew: true, transports: ['polling'], timestampParam: 'ts', addTrailingSlash: false, query: { room: 'a b&c', none: undefined } });
    await next(a, 'connect');
    a.disconnect();
    const b = sio.io(url, { forceNew: true, transports: ['polling'], timestampRequests: false });
    await next(b, 'connect');
    b.disconnect();
    const c = sio.io(url, { forceNew: true, rememberUpgrade: true });
    await next(c.io, 'upgrade');
    c.disconnect();
    const d = sio.io(url, { forceNew: true, rememberUpgrade: true });
    await next(d, 'connect');
    const first = d.io.engine.transport.name;
    d.disconnect();
    // closeOnBeforeunload: the connection closes silently when the page unloads.
    const e = sio.io(url, { forceNew: true, closeOnBeforeunload: true });
    await next(e, 'connect');
    let heard = 0;
    e.on('disconnect', () => { heard += 1; });
    dispatchEvent(new Event('beforeunload'));
    await new Promise((res) => setTimeout(res, 300));
    return { first, heard, gone: !e.io.engine.id };
  }, { url: server.url });
  const polls = urls.filter((u) => u.includes('transport=polling'));
  assert.match(polls[0], /^\/socket\.io\?room=a%20b%26c&EIO=4&transport=polling&ts=1$/);
  assert.ok(polls.some((u) => u.startsWith('/socket.io/?') && !/[?&]t=/.test(u)), polls.join('\n'));
  assert.equal(r.first, 'websocket');
  assert.equal(r.heard, 0);
  assert.equal(r.gone, true);
}, { addTrailingSlash: false }));
