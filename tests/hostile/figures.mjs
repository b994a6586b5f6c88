// Before/after figures: attacks 1a (two 1 MB POSTs of one-byte packets), 1b (60,000 CONNECTs
// in one POST) and 2 (2,000 polling sessions with 8 KB headers) against one or more servers,
// without assertions: the honest client's handshake (started while the attack runs) and echo
// max, the server's CPU seconds and RSS peak.
//
//   node figures.mjs LABEL=PATH-TO-sockeye-demo ...        (each binary started on a free port)
//   SOCKEYE_URL=http://127.0.0.1:3000 SOCKEYE_PID=1234 node figures.mjs   (a running server)
import http from 'node:http';
import * as L from './lib.mjs';

async function measure(srv, attack) {
  const m = L.monitor(srv.pid);
  const t0 = Date.now();
  const running = attack();
  await L.sleep(50);
  const h = await L.honest(srv.url, { connectTimeout: 60000 }).catch((e) => ({ stop: async () => ({ error: e.message }) }));
  const extra = await running;
  await L.sleep(200);
  const hs = await h.stop();
  const { peak, cpu } = m.stop();
  return { handshakeMs: hs.handshakeMs, echoMax: hs.max, failures: hs.failures, cpu, peak, attackMs: Date.now() - t0, ...extra };
}

const attacks = {
  '1a two 1 MB tiny-packet POSTs': async (srv) => {
    const body = L.bodies.tinyPackets();
    const [a, b] = [await L.pollingHandshake(srv.url), await L.pollingHandshake(srv.url)];
    return measure(srv, async () => {
      const rs = await Promise.all([a, b].map((s) => L.request(s.url, { method: 'POST', body, timeout: 120000 })));
      return { answers: rs.map((r) => `${r.status || r.error} ${r.ms}ms`).join(', ') };
    });
  },
  '1b 60,000 CONNECTs in one POST': async (srv) => {
    const body = L.bodies.connects();
    const s = await L.pollingHandshake(srv.url);
    return measure(srv, async () => {
      const r = await L.request(s.url, { method: 'POST', body, timeout: 120000 });
      return { answers: `${r.status || r.error} ${r.ms}ms` };
    });
  },
  '2 2,000 polling sessions, 8 KB headers': async (srv) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const pad = { 'x-pad': 'p'.repeat(8 * 1024) };
    const base = L.rssMiB(srv.pid);
    let sessions;
    const r = await measure(srv, async () => {
      const t0 = Date.now();
      sessions = await L.pool(2000, 64, () => L.pollingHandshake(srv.url, pad, agent).catch((e) => null));
      return { answers: `${sessions.filter(Boolean).length} sessions in ${Date.now() - t0}ms`, perSessionKiB: ((L.rssMiB(srv.pid) - base) * 1024) / 2000 };
    });
    await L.pool(2000, 64, (i) => sessions[i] && L.request(sessions[i].url, { method: 'POST', body: '1', agent }));
    agent.destroy();
    return r;
  },
};

const targets = process.env.SOCKEYE_URL
  ? [{ label: 'running', bin: null }]
  : process.argv.slice(2).map((a) => { const [label, bin] = a.split('='); return { label, bin }; });
if (!targets.length) { console.error('usage: node figures.mjs LABEL=BIN ... (or SOCKEYE_URL + SOCKEYE_PID)'); process.exit(2); }
const results = [];
for (const { label, bin } of targets) {
  for (const [name, attack] of Object.entries(attacks)) {
    // A fresh server per attack: figures do not depend on the order.
    const srv = bin ? await L.startDemo([], { bin }) : await L.server();
    const warm = await L.honest(srv.url); await L.sleep(200); await warm.stop();
    const rssBase = L.rssMiB(srv.pid);
    const r = await attack(srv);
    results.push({ label, name, rssBase, ...r });
    console.error(label, name, JSON.stringify(r));
    await srv.close();
  }
}
console.log('\n| attack | server | honest handshake ms | honest echo max ms | server CPU s | RSS base → peak MiB | attack answers |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.name} | ${r.label} | ${L.fmt(r.handshakeMs)} | ${L.fmt(r.echoMax)}${r.failures ? ` (${r.failures} failed)` : ''} | ${L.fmt(r.cpu)} | ${L.fmt(r.rssBase)} → ${L.fmt(r.peak)} | ${r.answers}${r.perSessionKiB ? `; ${L.fmt(r.perSessionKiB)} KiB/session` : ''} |`);
}
process.exit(0);
