// The Node side of node.test.js: run by a client file of a scratch app (client.mjs imports
// sockeye-client, client.cjs requires it) as `run(io)`. Arguments: the server kind
// (`sockeye` or `socketio`), its URL, the transports (`default`, `polling`, `websocket`).
// Prints one JSON line with what it saw and exits.
import './scenario.js';

export async function run(io, entry) {
  const [kind, url, transports] = process.argv.slice(2);
  const opts = transports === 'default' ? {} : { transports: [transports] };
  const out = await globalThis.scenario(io, url, opts);
  out.entry = entry;
  if (kind === 'socketio') {
    // The test socket.io server (wasm-client/e2e/harness.js): binary from the server in an
    // event, an ack the server asks of the client (with binary), binary stored server side,
    // and a disconnect by the server.
    const s = io(url, { forceNew: true, ...opts });
    await new Promise((resolve) => s.once('connect', resolve));
    const pushed = new Promise((resolve) => s.once('pushed', (...args) => resolve(args)));
    s.emit('say', 'pushed', 'bytes', new Uint8Array([4, 5, 6]));
    const [label, bytes] = await pushed;
    out.pushed = { label, bytes: Array.from(new Uint8Array(bytes)), kind: bytes.constructor.name };
    s.on('question', (a, ack) => ack({ got: a, bytes: new Uint8Array([7, 8]) }));
    const answer = new Promise((resolve) => s.once('answer', resolve));
    s.emit('ask', 'question', 'q?');
    const a = await answer;
    out.answer = { got: a.got, bytes: Array.from(new Uint8Array(a.bytes)) };
    s.emit('store', { stored: new Uint8Array([10, 11, 12]) });
    const down = new Promise((resolve) => s.once('disconnect', resolve));
    s.emit('bye');
    out.serverDisconnect = await down;
  }
  // Nothing left running: the process exits by itself once every socket is closed.
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
