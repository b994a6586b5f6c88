// Type-checked (tsc --strict --noEmit) against the installed sockeye-client package by
// `scripts/test.sh wasm_tarball`; never run. `@ts-expect-error` lines must fail to compile.
import io, { io as namedIo, Manager, Socket } from 'sockeye-client';

interface ServerToClient {
  chat: (msg: { room: string; from: string; text: string }) => void;
  tick: (n: number) => void;
}
interface ClientToServer {
  chat: (msg: { room: string; text: string }, ack: (res: { ok: boolean }) => void) => void;
  join: (room: string, ack: (res: { room: string; members: number }) => void) => void;
  hello: (name: string) => void;
}

const socket: Socket<ServerToClient, ClientToServer> = io('http://localhost:3000', {
  transports: ['websocket'],
  auth: { token: 'x' },
  reconnectionDelayMax: 2000,
  ackTimeout: 1000,
});
socket.on('connect', () => console.log(socket.id, socket.connected, socket.recovered));
socket.on('disconnect', (reason) => {
  const r: 'io server disconnect' | 'io client disconnect' | 'ping timeout' | 'transport close'
    | 'transport error' | 'parse error' = reason;
  console.log(r);
});
socket.on('connect_error', (err) => console.log(err.message, err.data));
socket.on('chat', (msg) => console.log(msg.from.toUpperCase(), msg.text));
socket.on('tick', (n) => console.log(n.toFixed(1)));
// @ts-expect-error: `tick` passes a number
socket.on('tick', (n: string) => console.log(n));
socket.emit('hello', 'me');
// @ts-expect-error: `hello` takes a string
socket.emit('hello', 42);
socket.emit('chat', { room: 'a', text: 'hi' }, (res) => console.log(res.ok));
socket.timeout(500).emit('join', 'a', (err, res) => console.log(err?.message, res.members));
async function f(): Promise<number> {
  const res = await socket.emitWithAck('join', 'a');
  return res.members;
}
void f();
socket.volatile.emit('hello', 'maybe');
socket.onAny((event, ...args) => console.log(event, args.length));
socket.offAny();
socket.disconnect().connect();

const manager = new Manager('http://localhost:3000', { reconnection: false, path: '/socket.io' });
const admin = manager.socket('/admin', { auth: (cb) => cb({ token: 'y' }) });
manager.on('reconnect_attempt', (n) => console.log(n + 1));
manager.on('upgrade', (t) => console.log(t.length));
admin.connect();
const untyped = namedIo();
untyped.emit('anything', 1, new Uint8Array(2), { a: new ArrayBuffer(1) });

const m2 = new Manager('http://localhost:3000', {
  rememberUpgrade: true, timestampRequests: false, timestampParam: 'ts', addTrailingSlash: false,
  closeOnBeforeunload: true, autoConnect: false,
});
m2.open((err) => console.log(err?.message));
m2.engine.on('upgrade', (t) => console.log(t.name));
console.log(m2.engine.id, m2.engine.transport?.name);
const delay: number = m2.reconnectionDelay();
m2.reconnectionDelay(delay * 2).reconnectionAttempts(3).reconnection(false).timeout(1000).close();
m2.on('ping', () => {});
m2.on('packet', (p) => console.log(p.type, p.nsp));
m2.on('reconnect_error', (e) => console.log(e.message));
const s2 = m2.socket('/');
s2.on('disconnect', (reason, desc) => console.log(reason, desc instanceof Error ? desc.message : desc?.description));
s2.auth = { token: 'new' };
m2.opts.query = { v: '2' };
s2.emit('file', new Blob(['x']));
// @ts-expect-error: connected is read-only
s2.connected = true;
