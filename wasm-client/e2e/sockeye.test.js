// sockeye-client in headless Chromium against the sockeye server (`sockeye-demo`, its demo
// event contract: `echo`, `join`, `chat`), started by the test on a free port.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, usePackagePages, FAST, T } from './harness.js';
import { startDemo, killDemos } from '../../tests/support/sockeye-demo.mjs';

const newPage = usePackagePages();
after(killDemos);

// The test page is served by another server (another origin): let it in. sockeye-demo's
// default lets only its own origin's pages in.
const CROSS_ORIGIN = { args: ['--cors-any'] };

async function withDemo(body) {
  const demo = await startDemo(await freePort(), CROSS_ORIGIN);
  const page = await newPage();
  try {
    await body(page, demo);
  } finally {
    await page.close();
    await demo.close();
  }
}

for (const [name, transports] of [
  ['default (polling, then upgrade)', undefined],
  ['polling only', ['polling']],
  ['websocket only', ['websocket']],
]) {
  test(`sockeye: echo with text and binary acks, ${name}`, T, () => withDemo(async (page, demo) => {
    const r = await page.evaluate(async ({ url, transports }) => {
      const s = sio.io(url, transports ? { transports } : {});
      if (!transports) await next(s.io, 'upgrade');
      else await next(s, 'connect');
      const text = await new Promise((res) => s.emit('echo', 'hi', 1, { a: [true, null] }, (...a) => res(a)));
      const bin = await s.timeout(5000).emitWithAck('echo', { b: new Uint8Array([1, 2, 255]) });
      const out = {
        connected: s.connected, id: s.id, text,
        bin: Array.from(new Uint8Array(bin.b)), transport: s.io.transport,
      };
      s.disconnect();
      return out;
    }, { url: demo.url, transports });
    assert.equal(r.connected, true);
    assert.ok(r.id);
    assert.deepEqual(r.text, ['hi', 1, { a: [true, null] }]);
    assert.deepEqual(r.bin, [1, 2, 255]);
    assert.equal(r.transport, transports ? transports[0] : 'websocket');
  }));
}

test('sockeye: rooms and chat between two clients', T, () => withDemo(async (page, demo) => {
  const r = await page.evaluate(async ({ url }) => {
    const a = sio.io(url, { forceNew: true });
    const b = sio.io(url, { forceNew: true });
    await Promise.all([next(a, 'connect'), next(b, 'connect')]);
    const joinedA = await a.emitWithAck('join', 'r1');
    const joinedNotice = next(a, 'joined');
    const joinedB = await b.emitWithAck('join', 'r1');
    const [notice] = await joinedNotice;
    const chatA = next(a, 'chat');
    const ok = await b.emitWithAck('chat', { room: 'r1', text: 'hello' });
    const [msg] = await chatA;
    const out = { joinedA, joinedB, notice, ok, msg, bId: b.id };
    a.disconnect();
    b.disconnect();
    return out;
  }, { url: demo.url });
  assert.deepEqual(r.joinedA, { room: 'r1', members: 1 });
  assert.deepEqual(r.joinedB, { room: 'r1', members: 2 });
  assert.deepEqual(r.notice, { id: r.bId, room: 'r1' });
  assert.deepEqual(r.ok, { ok: true });
  assert.deepEqual(r.msg, { room: 'r1', from: r.bId, text: 'hello' });
}));

test('sockeye: reconnects after the server restarts; offline emits are buffered', T, async () => {
  const port = await freePort();
  let demo = await startDemo(port, CROSS_ORIGIN);
  const page = await newPage();
  try {
    await page.evaluate(async ({ url, FAST }) => {
      window.s = sio.io(url, FAST);
      await next(s, 'connect');
      window.down = next(s, 'disconnect');
    }, { url: demo.url, FAST });
    await demo.close();
    await page.evaluate(async () => {
      await down;
      window.acked = s.emitWithAck('echo', 'sent while offline');
      window.up = next(s, 'connect', 15000);
    });
    demo = await startDemo(port, CROSS_ORIGIN);
    const r = await page.evaluate(async () => {
      await up;
      const out = { ack: await acked, connected: s.connected };
      s.disconnect();
      return out;
    });
    assert.equal(r.connected, true);
    assert.equal(r.ack, 'sent while offline');
  } finally {
    await page.close();
    await demo.close();
  }
});
