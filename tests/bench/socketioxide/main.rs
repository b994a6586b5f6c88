//! `socketioxide-demo`: the demo contract of `sockeye-demo` (README: `join`, `leave`, `chat`,
//! `echo` on `/`) on socketioxide 0.18, the Rust peer server of `sockeye-bench`.
//!
//! ```text
//! socketioxide-demo [--port N]     (0 picks a free port; prints "listening on http://ADDR")
//! ```

use clap::Parser;
use serde::Deserialize;
use serde_json::json;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;

#[derive(Parser)]
#[command(
    name = "socketioxide-demo",
    about = "The demo contract on socketioxide"
)]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    port: u16,
}

#[derive(Deserialize)]
struct Chat {
    room: String,
    text: String,
    #[serde(default)]
    name: Option<String>,
}

async fn on_connect(socket: SocketRef) {
    socket.on("join", on_join);
    socket.on("leave", on_leave);
    socket.on("chat", on_chat);
    socket.on("echo", on_echo);
}

async fn on_join(socket: SocketRef, Data(room): Data<String>, ack: AckSender) {
    socket.join(room.clone());
    let members = socket
        .within(room.clone())
        .fetch_sockets()
        .await
        .map(|s| s.len())
        .unwrap_or(0);
    let _ = ack.send(&json!({ "room": room, "members": members }));
    let _ = socket
        .to(room.clone())
        .emit("joined", &json!({ "id": socket.id, "room": room }))
        .await;
}

async fn on_leave(socket: SocketRef, io: SocketIo, Data(room): Data<String>, ack: AckSender) {
    socket.leave(room.clone());
    let _ = io.emit("lobby", "User left").await;
    let _ = socket
        .within(room.clone())
        .emit("left", &json!({ "id": socket.id, "room": room }))
        .await;
    let _ = ack.send(&json!({ "room": room }));
}

async fn on_chat(socket: SocketRef, Data(chat): Data<Chat>, ack: AckSender) {
    let mut msg = json!({ "room": chat.room, "from": socket.id, "text": chat.text });
    if let Some(name) = chat.name {
        msg["name"] = json!(name.chars().take(40).collect::<String>());
    }
    let _ = socket.within(chat.room).emit("chat", &msg).await;
    let _ = ack.send(&json!({ "ok": true }));
}

/// One argument, text or binary (rmpv keeps binary as binary; serde_json would not).
async fn on_echo(Data(data): Data<rmpv::Value>, ack: AckSender) {
    let _ = ack.send(&data);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", on_connect);
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
