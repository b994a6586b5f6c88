// The demo page (www/) in headless Chromium: two users (two browser contexts) against
// `sockeye-demo`, which the test starts itself on a free port with `--static` pointing at
// the built page (www/, with the wasm client under www/pkg/ from scripts/build-www.sh).
//
// Env: SOCKEYE_DEMO (the binary; default target/debug/sockeye-demo), SOCKEYE_WWW (the page;
// default www/), CHROMIUM (default /usr/bin/chromium), SOCKEYE_OUTPUT (screenshots; default
// tests/output/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, startDemo, killDemos } from '../support/sockeye-demo.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const WWW = process.env.SOCKEYE_WWW || path.join(ROOT, 'www');
const OUTPUT = process.env.SOCKEYE_OUTPUT || path.join(ROOT, 'tests', 'output');
// How long to wait for a UI state (reconnection backoff is up to 5 s, plus jitter).
const WAIT = 20000;

let browser;
before(async () => {
  assert.ok(fs.existsSync(path.join(WWW, 'pkg', 'sockeye_wasm_bg.wasm')),
    `missing ${WWW}/pkg: run scripts/build-www.sh`);
  fs.mkdirSync(OUTPUT, { recursive: true });
  // Debian's Chromium with the flags of shared/README §4. playwright's launch() gives each
  // launch a fresh, temporary user-data-dir (and each context its own storage).
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

/** One user: a browser context of its own, the page loaded, a name picked, connected. */
async function openUser(url, name) {
  const context = await browser.newContext({ viewport: { width: 1180, height: 640 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT });
  await page.fill('#name', name);
  await page.click('#connect');
  await waitState(page, 'connected');
  return { page, context, errors, name };
}

const waitState = (page, state) =>
  page.locator(`#status[data-state="${state}"]`).waitFor({ timeout: WAIT });

const waitText = (page, selector, text) =>
  page.locator(selector, { hasText: text }).first().waitFor({ timeout: WAIT });

async function join(user, room) {
  await user.page.fill('#room-input', room);
  await user.page.click('#join-form button');
  await waitText(user.page, `#rooms li[data-room="${room}"] .count`, /\d/);
}

async function members(user, room) {
  return user.page.textContent(`#rooms li[data-room="${room}"] .count`);
}

/** Sends `text` to the active room; waits for the ack tick. */
async function say(user, text) {
  await user.page.fill('#message', text);
  await user.page.press('#message', 'Enter');
  await user.page
    .locator('#messages li.msg.mine[data-acked="true"]', { hasText: text })
    .waitFor({ timeout: WAIT });
}

async function shoot(user, file) {
  await user.page.screenshot({ path: path.join(OUTPUT, file) });
}

async function close(...users) {
  for (const u of users) {
    assert.deepEqual(u.errors, [], `${u.name}: page errors`);
    await u.context.close();
  }
}

/** The flow of the issue: two users in room-a, a message, its ack, a leave, the lobby. */
async function chatFlow(demo, query, transport, label) {
  const u1 = await openUser(`${demo.url}/${query}`, 'Alice');
  const u2 = await openUser(`${demo.url}/${query}`, 'Bob');
  for (const u of [u1, u2]) {
    // The default upgrades to WebSocket; polling-only stays on polling.
    await waitText(u.page, '#transport', transport);
    assert.match(await u.page.textContent('#sid'), /^[\w-]{8,}$/);
  }

  await join(u1, 'room-a');
  assert.match(await members(u1, 'room-a'), /\b1\b/);
  await join(u2, 'room-a');
  assert.match(await members(u2, 'room-a'), /\b2\b/);
  // u1 hears of u2 (`joined`): its count follows.
  await waitText(u1.page, '#rooms li[data-room="room-a"] .count', /\b2\b/);

  await say(u1, `hello from Alice over ${transport}`);
  await waitText(u2.page, '#messages li.msg:not(.mine) .text', `hello from Alice over ${transport}`);
  // The server relays the sender's name with the message.
  await waitText(u2.page, '#messages li.msg:not(.mine) .who', 'Alice');
  await say(u2, 'hi Alice!');
  await waitText(u1.page, '#messages li.msg:not(.mine) .text', 'hi Alice!');

  // Latency from `echo` acks.
  await waitText(u1.page, '#latency', /\d ms$/);

  await u2.page.click('#rooms li[data-room="room-a"] .leave');
  await waitText(u1.page, '#lobby li', 'User left');
  await waitText(u2.page, '#lobby li', 'User left');
  await waitText(u1.page, '#messages li.note', 'left');
  await waitText(u1.page, '#rooms li[data-room="room-a"] .count', /\b1\b/);
  assert.equal(await u2.page.locator('#rooms li[data-room="room-a"]').count(), 0);

  await shoot(u1, `demo-${label}-user1.png`);
  await shoot(u2, `demo-${label}-user2.png`);
  await close(u1, u2);
}

test('demo page: two users chat in room-a, ack tick, leave shows "User left" (default transports)',
  { timeout: 120000 }, async () => {
    const demo = await startDemo(await freePort(), { staticDir: WWW });
    try {
      await chatFlow(demo, '', 'websocket', 'websocket');
    } finally {
      await demo.close();
    }
  });

test('demo page: the same flow forced to polling (?transports=polling)',
  { timeout: 120000 }, async () => {
    const demo = await startDemo(await freePort(), { staticDir: WWW });
    try {
      await chatFlow(demo, '?transports=polling', 'polling', 'polling');
    } finally {
      await demo.close();
    }
  });

test('demo page: server restart shows reconnecting, then reconnects, rejoins and chats',
  { timeout: 120000 }, async () => {
    const port = await freePort();
    let demo = await startDemo(port, { staticDir: WWW });
    try {
      const u1 = await openUser(demo.url, 'Alice');
      const u2 = await openUser(`${demo.url}/?transports=polling`, 'Bob');
      await join(u1, 'room-a');
      await join(u2, 'room-a');
      await say(u1, 'before the restart');
      await waitText(u2.page, '#messages li.msg .text', 'before the restart');
      const oldId = await u1.page.textContent('#sid');

      await demo.close();
      await waitState(u1.page, 'reconnecting');
      await waitState(u2.page, 'reconnecting');
      // Sent while offline: buffered, no tick yet; delivered and ticked after reconnecting.
      await u1.page.fill('#message', 'sent while offline');
      await u1.page.press('#message', 'Enter');
      await u1.page.locator('#messages li.msg.mine[data-acked="false"]', { hasText: 'sent while offline' })
        .waitFor({ timeout: WAIT });
      await shoot(u1, 'demo-reconnecting-user1.png');

      demo = await startDemo(port, { staticDir: WWW });
      await waitState(u1.page, 'connected');
      await waitState(u2.page, 'connected');
      assert.notEqual(await u1.page.textContent('#sid'), oldId);
      await u1.page.locator('#messages li.msg.mine[data-acked="true"]', { hasText: 'sent while offline' })
        .waitFor({ timeout: WAIT });
      // Both join room-a again on reconnecting; once both acks are back, the room works.
      // (The count itself is not checked: two concurrent joins may count each other twice.)
      for (const u of [u1, u2]) {
        await waitText(u.page, '#rooms li[data-room="room-a"] .count', /\d members?/);
        await waitText(u.page, '#messages li.note', 'reconnected');
      }
      await say(u1, 'after the restart');
      await waitText(u2.page, '#messages li.msg .text', 'after the restart');
      await say(u2, 'welcome back');
      await waitText(u1.page, '#messages li.msg .text', 'welcome back');
      await shoot(u1, 'demo-reconnected-user1.png');
      await shoot(u2, 'demo-reconnected-user2.png');
      await close(u1, u2);
    } finally {
      await demo.close();
    }
  });
