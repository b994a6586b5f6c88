// CPU per hostile body: sends BODIES bodies of one shape, one after another, each in its own
// polling session, and prints the server's CPU (utime + stime, /proc/<pid>/stat) per body.
// Finer than the attack tables (10 ms ticks): the total over many bodies is divided.
//
//   node body-cpu.mjs LABEL=PATH-TO-sockeye-demo ...   (each binary started on a free port)
//   BODIES=40 (default); SHAPE=text: only the shapes whose name contains it
import * as L from './lib.mjs';

const BODIES = Number(process.env.BODIES || 40);
// `connect`: the session joins namespace `/` first (events need a connected socket).
const shapes = [
  { name: 'one-byte packets (6)', make: L.bodies.tinyPackets },
  { name: 'tiny events (42["e"])', make: L.bodies.tinyEvents, connect: true },
  { name: '60,000 CONNECTs', make: L.bodies.connects },
];

for (const arg of process.argv.slice(2)) {
  const [label, bin] = arg.split('=');
  const srv = await L.startDemo([], { bin });
  for (const { name, make, connect } of shapes.filter((s) => s.name.includes(process.env.SHAPE || ''))) {
    const body = make();
    const sessions = [];
    for (let i = 0; i < BODIES; i++) {
      const s = await L.pollingHandshake(srv.url);
      if (connect) await L.request(s.url, { method: 'POST', body: '40' });
      sessions.push(s);
    }
    await L.sleep(200);
    const c0 = L.cpuSeconds(srv.pid);
    const t0 = Date.now();
    let statuses = new Set();
    for (const s of sessions) {
      const r = await L.request(s.url, { method: 'POST', body, timeout: 120000 });
      statuses.add(r.status || r.error);
    }
    await L.sleep(100);
    const cpu = L.cpuSeconds(srv.pid) - c0;
    console.log(`${label.padEnd(8)} ${name.padEnd(24)} ${((cpu * 1000) / BODIES).toFixed(2).padStart(8)} ms CPU per body  (${BODIES} bodies of ${(body.length / 1e6).toFixed(2)} MB, ${Date.now() - t0} ms, answers ${[...statuses]})`);
  }
  await srv.close();
}
L.killDemos();
