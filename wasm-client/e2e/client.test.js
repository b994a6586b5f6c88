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
