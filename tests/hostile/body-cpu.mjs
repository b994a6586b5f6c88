// CPU per hostile body: sends BODIES bodies of one shape, one after another, each in its own
// polling session, and prints the server's CPU (utime + stime, /proc/<pid>/stat) per body.
// Finer than the attack tables (10 ms ticks): the total over many bodies is divided.
//
//   node body-cpu.mjs LABEL=PATH-TO-sockeye-demo ...   (each binary started on a free port)
//   BODIES=40 (default); SHAPE=text: only the shapes whose name contains it
//   PERF=1: also count the server's instructions with `perf stat` (steadier than CPU time
//   on a busy machine)
import { spawn } from 'node:child_process';
import * as L from './lib.mjs';

const BODIES = Number(process.env.BODIES || 40);
const shapes = {
  'one-byte packets (6)': () => Array(500000).fill('6').join('\x1e'),
  'tiny events (42["e"])': () => Array(Math.floor(1e6 / 8)).fill('42["e"]').join('\x1e'),
  '60,000 CONNECTs': () => Array.from({ length: 60000 }, (_, i) => `40/n${i},`).join('\x1e'),
};

for (const arg of process.argv.slice(2)) {
  const [label, bin] = arg.split('=');
  const srv = await L.startDemo([], { bin });
  for (const [name, make] of Object.entries(shapes).filter(([n]) => n.includes(process.env.SHAPE || ''))) {
    const body = make();
    const sessions = [];
    for (let i = 0; i < BODIES; i++) {
      const s = await L.pollingHandshake(srv.url);
      if (name.startsWith('tiny')) await L.request(s.url, { method: 'POST', body: '40' });
      sessions.push(s);
    }
    await L.sleep(200);
    const perf = process.env.PERF && spawn('perf', ['stat', '-x', ',', '-e', 'instructions', '-p', String(srv.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let perfOut = '';
    if (perf) { perf.stderr.on('data', (d) => (perfOut += d)); await L.sleep(300); }
    const c0 = L.cpuSeconds(srv.pid);
    const t0 = Date.now();
    let statuses = new Set();
    for (const s of sessions) {
      const r = await L.request(s.url, { method: 'POST', body, timeout: 120000 });
      statuses.add(r.status || r.error);
    }
    await L.sleep(100);
    const cpu = L.cpuSeconds(srv.pid) - c0;
    let instr = '';
    if (perf) {
      perf.kill('SIGINT');
      await new Promise((r) => perf.once('exit', r));
      const n = Number(perfOut.split('\n').find((l) => l.includes('instructions'))?.split(',')[0]);
      instr = `, ${(n / BODIES / 1e6).toFixed(1)} M instructions per body`;
    }
    console.log(`${label.padEnd(8)} ${name.padEnd(24)} ${((cpu * 1000) / BODIES).toFixed(2).padStart(8)} ms CPU per body  (${BODIES} bodies of ${(body.length / 1e6).toFixed(2)} MB, ${Date.now() - t0} ms, answers ${[...statuses]}${instr})`);
  }
  await srv.close();
}
L.killDemos();
