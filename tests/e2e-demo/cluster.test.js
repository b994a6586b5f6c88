// The demo page (www/) in headless Chromium on a `sockeye-demo --adapter redis://…` node:
// the user joins `my room`, then python-socketio's write-only Redis manager (the README's
// snippet, tests/python/cluster_snippet.py, run as is with only the URL replaced) emits
// `my event` to `my room`: the page's "Server events" panel shows it. A second user, not in
// the room, does not get it. The test starts redis-server and the node itself, on free ports.
//
// Env: as demo.test.js (SOCKEYE_DEMO, SOCKEYE_WWW, CHROMIUM, SOCKEYE_OUTPUT), plus
// REDIS_SERVER (default redis-server) and PYTHON (default python3).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { DEMO, freePort, startProcess, killDemos } from '../support/sockeye-demo.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const WWW = process.env.SOCKEYE_WWW || path.join(ROOT, 'www');
const OUTPUT = process.env.SOCKEYE_OUTPUT || path.join(ROOT, 'tests', 'output');
const SNIPPET = path.join(ROOT, 'tests', 'python', 'cluster_snippet.py');
const PYTHON = process.env.PYTHON || 'python3';
const WAIT = 20000;

/** Runs `cmd args` to completion (30 s at most); resolves with its stdout. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One RESP command to Redis at `port`; resolves with the raw reply. */
function redisCommand(port, ...words) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let reply = '';
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('redis: no reply')); });
    s.on('error', reject);
    s.on('data', (d) => {
      reply += d;
      // A two-element array reply (PUBSUB NUMSUB of one channel) is complete at its end.
      if (/^\*2\r\n\$\d+\r\n[^\r]*\r\n:\d+\r\n$/.test(reply)) { s.end(); resolve(reply); }
    });
    s.write(`*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`);
  });
}

/** Waits until `count` connections listen on python-socketio's channel. */
async function waitListeners(port, count) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const reply = await redisCommand(port, 'PUBSUB', 'NUMSUB', 'socketio');
    const n = Number(/:(\d+)\r\n$/.exec(reply)[1]);
    if (n >= count) return;
    assert.ok(Date.now() < deadline, `${n} of ${count} listen on socketio`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The README's snippet, with the URL of this test's Redis. */
function snippet(redisUrl) {
  const code = fs.readFileSync(SNIPPET, 'utf8');
  assert.equal(code.split("'redis://'").length, 2, 'the snippet names redis:// once');
  return code.replace("'redis://'", `'${redisUrl}'`);
}

let browser;
before(async () => {
  assert.ok(fs.existsSync(path.join(WWW, 'pkg', 'sockeye_wasm_bg.wasm')),
    `missing ${WWW}/pkg: run scripts/build-www.sh`);
  fs.mkdirSync(OUTPUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
});
after(async () => {
  if (browser) await browser.close();
  killDemos();
});

async function openUser(url, name) {
  const context = await browser.newContext({ viewport: { width: 1180, height: 640 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT });
  await page.fill('#name', name);
  await page.click('#connect');
  await page.locator('#status[data-state="connected"]').waitFor({ timeout: WAIT });
  return { page, context, errors, name };
}

const serverEvent = (user, event) =>
  user.page.locator('#events li', { has: user.page.locator('code', { hasText: event }) });

test('demo page on a Redis cluster node: python-socketio\'s RedisManager snippet shows `my event` in "Server events"',
  { timeout: 120000 }, async () => {
    const redisPort = await freePort();
    const redis = await startProcess(process.env.REDIS_SERVER || 'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      /Ready to accept connections/);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    const port = await freePort();
    const demo = await startProcess(DEMO,
      ['--port', String(port), '--host', '127.0.0.1', '--static', WWW, '--adapter', redisUrl],
      /listening/, { NO_COLOR: '1' });
    try {
      assert.match(demo.output(), /joining the Redis cluster/);
      const url = `http://127.0.0.1:${port}`;
      const alice = await openUser(url, 'Alice');
      const bob = await openUser(url, 'Bob');
      await alice.page.fill('#room-input', 'my room');
      await alice.page.click('#join-form button');
      await alice.page.locator('#rooms li[data-room="my room"] .count', { hasText: /\d/ })
        .first().waitFor({ timeout: WAIT });
      await waitListeners(redisPort, 1);

      await run(PYTHON, ['-c', snippet(redisUrl)]);
      const shown = serverEvent(alice, 'my event');
      await shown.first().waitFor({ timeout: WAIT });
      assert.equal(await shown.locator('span.mono').first().textContent(), '{"foo":"bar"}');

      // Then a broadcast to everyone: once Bob has it, he would have had `my event` too.
      await run(PYTHON, ['-c', [
        'import socketio',
        `socketio.RedisManager('${redisUrl}', write_only=True).emit('everyone', data=1)`,
      ].join('\n')]);
      await serverEvent(bob, 'everyone').first().waitFor({ timeout: WAIT });
      await serverEvent(alice, 'everyone').first().waitFor({ timeout: WAIT });
      assert.equal(await serverEvent(bob, 'my event').count(), 0);
      assert.equal(await serverEvent(alice, 'my event').count(), 1);

      await alice.page.screenshot({ path: path.join(OUTPUT, 'cluster-python-snippet-user1.png') });
      await bob.page.screenshot({ path: path.join(OUTPUT, 'cluster-python-snippet-user2.png') });
      for (const u of [alice, bob]) {
        assert.deepEqual(u.errors, [], `${u.name}: page errors`);
        await u.context.close();
      }
    } finally {
      await demo.close();
      await redis.close();
    }
  });
