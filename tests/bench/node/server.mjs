// The demo contract of sockeye-demo (README) on Node socket.io 4.8: namespace `/`,
// `join` / `leave` / `chat` / `echo`. Started by sockeye-bench:
//   node server.mjs [--port N] [--adapter redis://HOST:PORT]
// (--port 0 picks a free port; prints "listening on http://HOST:PORT" once it serves and, with
// --adapter, once its Redis clients are connected; the default adapter is in memory.)
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const port = Number(flag("--port") ?? 3000);
const adapterUrl = flag("--adapter");

const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false });
if (adapterUrl && adapterUrl !== "memory") {
  // @socket.io/redis-adapter's documented setup: one client publishes, a duplicate subscribes.
  const pubClient = createClient({ url: adapterUrl });
  const subClient = pubClient.duplicate();
  for (const c of [pubClient, subClient]) c.on("error", (e) => console.error("redis:", e.message));
  await Promise.all([pubClient.connect(), subClient.connect()]);
  io.adapter(createAdapter(pubClient, subClient));
}

io.on("connection", (socket) => {
  socket.on("join", async (room, ack) => {
    socket.join(room);
    const members = io.sockets.adapter.rooms.get(room)?.size ?? 0;
    if (typeof ack === "function") ack({ room, members });
    socket.to(room).emit("joined", { id: socket.id, room });
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    io.emit("lobby", "User left");
    io.in(room).emit("left", { id: socket.id, room });
    if (typeof ack === "function") ack({ room });
  });
  socket.on("chat", (chat, ack) => {
    const msg = { room: chat.room, from: socket.id, text: chat.text };
    if (typeof chat.name === "string") msg.name = chat.name.slice(0, 40);
    io.in(chat.room).emit("chat", msg);
    if (typeof ack === "function") ack({ ok: true });
  });
  socket.on("echo", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) ack(...args);
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  const a = httpServer.address();
  console.log(`listening on http://${a.address}:${a.port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
