// sockeye-client in Node (20 here; the package says 18+): the packed tarball installed in a
// scratch app, loaded with `import` (node.mjs) and with `require` (node.cjs), against the
// sockeye server (`sockeye-demo`) and Node's socket.io 4.8, over each transport. Each client
// is its own Node process, which must exit by itself once its sockets are closed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import {
  HERE, T, freePort, scratchApp, startDemo, killDemos, startSocketIo,
} from './support.js';

let app;
let demo;
let sio;
before(async () => {
  app = scratchApp('node');
  const runner = pathToFileURL(path.join(HERE, 'node-run.mjs')).href;
  fs.writeFileSync(path.join(app.dir, 'client.mjs'),
    `import { io } from 'sockeye-client';\nimport { run } from '${runner}';\nrun(io, 'import');\n`);
  fs.writeFileSync(path.join(app.dir, 'client.cjs'),
    `const { io } = require('sockeye-client');\nimport('${runner}').then((m) => m.run(io, 'require'));\n`);
  demo = await startDemo(await freePort());
  sio = await startSocketIo(await freePort());
});
after(async () => {
  if (demo) await demo.close();
  if (sio) await sio.close();
  killDemos();
  if (app) app.remove();
});

/** Runs a client file of the app; resolves with its JSON line. */
function client(file, args) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file, ...args], { cwd: app.dir, timeout: 30000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

function assertRoundTrip(r, entry, transports) {
  assert.equal(r.entry, entry);
  assert.equal(r.connectedAtOnce, false);
  assert.match(r.id, /^[\w-]+$/);
  assert.deepEqual(r.earlyAcks, [['early', 1], ['early', 2], ['early', 3]]);
  assert.deepEqual(r.text, ['hi', 1, { a: [true, null] }]);
  assert.deepEqual(r.bin, [1, 2, 255]);
  // Received binary is a Buffer in Node, as with socket.io-client (compat.test.js compares).
  assert.equal(r.binKind, 'Buffer');
  assert.equal(r.binN, 7);
  assert.equal(r.transport, transports === 'polling' ? 'polling' : 'websocket');
  assert.equal(r.reason, 'io client disconnect');
  assert.equal(r.connectedAfter, false);
  assert.deepEqual(r.log, ['connect', 'ack 1', 'ack 2', 'ack 3', 'disconnect']);
}

for (const [file, entry] of [['client.mjs', 'import'], ['client.cjs', 'require']]) {
  for (const transports of ['default', 'polling', 'websocket']) {
    test(`node ${entry}: sockeye-demo, ${transports}`, T, async () => {
      const r = await client(file, ['sockeye', demo.url, transports]);
      assertRoundTrip(r, entry, transports);
    });

    test(`node ${entry}: socket.io 4.8, ${transports}`, T, async () => {
      const before = sio.received.length;
      const r = await client(file, ['socketio', sio.url, transports]);
      assertRoundTrip(r, entry, transports);
      assert.deepEqual(r.pushed, { label: 'bytes', bytes: [4, 5, 6], kind: 'Buffer' });
      assert.deepEqual(r.answer, { got: 'q?', bytes: [7, 8] });
      assert.equal(r.serverDisconnect, 'io server disconnect');
      const stored = sio.received.slice(before);
      assert.equal(stored.length, 1);
      assert.ok(Buffer.isBuffer(stored[0].stored));
      assert.deepEqual([...stored[0].stored], [10, 11, 12]);
    });
  }
}

test('node: a server that is down gives connect_error, then the client connects when it is up', T, async () => {
  const port = await freePort();
  const file = path.join(app.dir, 'down.cjs');
  // `ws` reports a refused connection as an `error` event: unhandled, it would end the process.
  fs.writeFileSync(file, `const { io } = require('sockeye-client');
const s = io('http://127.0.0.1:${port}', { transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 200 });
const errors = [];
s.on('connect_error', (e) => {
  errors.push(e.message);
  if (errors.length === 1) process.stdout.write('down\\n');
});
s.on('connect', async () => {
  const ack = await s.emitWithAck('echo', 'up');
  s.disconnect();
  process.stdout.write(JSON.stringify({ errors: errors.length, ack }) + '\\n');
});
`);
  let later;
  const r = await new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [file], { cwd: app.dir, timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
    child.stdout.once('data', () => { later = startDemo(port); });
  });
  assert.ok(r.errors >= 1, `connect_error seen ${r.errors} times`);
  assert.equal(r.ack, 'up');
  await (await later).close();
});
