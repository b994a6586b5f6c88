// Soak (not in CI): N socket.io-clients connect (bounded concurrency), join rooms, chat and
// reconnect at random for the duration, then all leave; the server's RSS and open fds are
// recorded at baseline, during and after, and the exit status is non-zero if either does not
// come back within 10 % of baseline (plus a small absolute slack).
//
//   ulimit -n 65536   # this process holds one fd per client (it checks, and says so)
//   node soak.mjs [--clients 10000] [--minutes 10] [--concurrency 200] [--rooms 100]
//                 [--url http://127.0.0.1:3000 --pid PID]   (else it starts SOCKEYE_DEMO itself,
//                 under `ulimit -n 65536`)  [--rss-slack-mib 32] [--fd-slack 16]
// (the RSS slack: glibc keeps part of the heap once freed; attacks.test.js case 2 measures it)
//
// Every loop is bounded in count and in time: connecting (one attempt per client, 30 s
// handshake timeout), chatting (a fixed number a tick), reconnecting (a fixed number a
// tick), leaving (30 s) and settling (60 s).
import fs from 'node:fs';
import * as L from './lib.mjs';

const opt = { clients: 10000, minutes: 10, concurrency: 200, rooms: 100, url: null, pid: null, 'rss-slack-mib': 32, 'fd-slack': 16 };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opt)) { console.error(`unknown option --${k}`); process.exit(2); }
  opt[k] = k === 'url' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
const N = opt.clients;
const DURATION = opt.minutes * 60_000;

// Our own fd limit: one per client, plus slack.
const need = N + 256;
const limit = Number(/Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
if (limit < need) {
  console.error(`soak: ${N} clients need ${need} open files, the limit is ${limit}: run with \`ulimit -n 65536\``);
  process.exit(2);
}

let srv;
if (opt.url) {
  if (!opt.pid) { console.error('--url needs --pid (figures come from /proc/<pid>)'); process.exit(2); }
  srv = { url: opt.url.replace(/\/$/, ''), pid: opt.pid, close: async () => {} };
} else {
  srv = await L.startDemo([], { wrap: 'ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn);' });
}
const snap = (phase) => ({ phase, t: Math.round((Date.now() - t0) / 1000), rss: L.rssMiB(srv.pid), fds: L.fdCount(srv.pid) });
const t0 = Date.now();
await L.sleep(500);
const samples = [snap('baseline')];
const base = samples[0];
console.error(`soak: ${N} clients, ${opt.minutes} min, server ${srv.url} (pid ${srv.pid}); baseline RSS ${L.fmt(base.rss)} MiB, ${base.fds} fds`);

const stats = { connected: 0, connectFailed: 0, chats: 0, chatFailed: 0, reconnects: 0, received: 0 };
const clients = new Array(N).fill(null);
function connect(i) {
  return new Promise((resolve) => {
    const c = L.ioClient(srv.url, { transports: i % 10 === 0 ? ['polling', 'websocket'] : ['websocket'], forceNew: true, reconnection: false, timeout: 30000 });
    c.on('chat', () => { stats.received++; });
    c.once('connect', async () => {
      stats.connected++;
      clients[i] = c;
      try { await c.timeout(30000).emitWithAck('join', `room-${i % opt.rooms}`); } catch { /* counted by chats */ }
      resolve();
    });
    c.once('connect_error', () => { stats.connectFailed++; c.close(); resolve(); });
  });
}
await L.pool(N, opt.concurrency, connect);
samples.push(snap('connected'));
console.error(`soak: ${stats.connected} connected, ${stats.connectFailed} refused/failed`);

// The duration: each tick (1 s) a bounded number of chats and of reconnects.
const CHATS_PER_TICK = Math.max(1, Math.round(N / 100));
const RECONNECTS_PER_TICK = Math.max(1, Math.round(N / 500));
const rnd = (n) => Math.floor(Math.random() * n);
let lastSample = Date.now();
const end = t0 + DURATION;
while (Date.now() < end) {
  const tick = Date.now();
  const work = [];
  for (let k = 0; k < CHATS_PER_TICK; k++) {
    const i = rnd(N);
    const c = clients[i];
    if (!c?.connected) continue;
    work.push(c.timeout(10000).emitWithAck('chat', { room: `room-${i % opt.rooms}`, text: 'soak ' + k }).then(() => { stats.chats++; }, () => { stats.chatFailed++; }));
  }
  for (let k = 0; k < RECONNECTS_PER_TICK; k++) {
    const i = rnd(N);
    const c = clients[i];
    if (!c) continue;
    clients[i] = null;
    c.close();
    stats.reconnects++;
    work.push(connect(i));
  }
  await Promise.race([Promise.all(work), L.sleep(15000)]);
  if (Date.now() - lastSample > 5000) { samples.push(snap('during')); lastSample = Date.now(); }
  await L.sleep(Math.max(0, 1000 - (Date.now() - tick)));
}
samples.push(snap('end'));

// Everyone leaves.
for (const c of clients) c?.close();
clients.fill(null);
const leaveEnd = Date.now() + 60_000;
const rssOk = () => L.rssMiB(srv.pid) <= base.rss * 1.1 + opt['rss-slack-mib'];
const fdsOk = () => L.fdCount(srv.pid) <= base.fds * 1.1 + opt['fd-slack'];
while (Date.now() < leaveEnd && !(rssOk() && fdsOk())) await L.sleep(1000);
samples.push(snap('after'));
const last = samples[samples.length - 1];
const during = samples.filter((s) => s.phase !== 'baseline' && s.phase !== 'after');
const peak = { rss: Math.max(...during.map((s) => s.rss)), fds: Math.max(...during.map((s) => s.fds)) };

console.log(`\nsoak: ${N} clients, ${opt.minutes} min; ${JSON.stringify(stats)}`);
console.log('phase        t (s)   RSS MiB   open fds');
for (const s of [samples[0], ...during.filter((_, k) => k % Math.max(1, Math.ceil(during.length / 12)) === 0), during[during.length - 1], last]) {
  console.log(`${s.phase.padEnd(10)} ${String(s.t).padStart(7)} ${L.fmt(s.rss).padStart(9)} ${String(s.fds).padStart(10)}`);
}
console.log(`peak during: RSS ${L.fmt(peak.rss)} MiB, ${peak.fds} fds; after: RSS ${L.fmt(last.rss)} MiB (limit ${L.fmt(base.rss * 1.1 + opt['rss-slack-mib'])}), ${last.fds} fds (limit ${Math.floor(base.fds * 1.1 + opt['fd-slack'])})`);
const ok = rssOk() && fdsOk();
console.log(ok ? 'soak: OK, RSS and fds back near baseline' : `soak: FAILED: ${rssOk() ? '' : 'RSS '}${fdsOk() ? '' : 'fds '}did not return near baseline`);
await srv.close();
process.exit(ok ? 0 : 1);
