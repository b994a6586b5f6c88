//! `socketioxide-demo`: the demo contract of `sockeye-demo` (README: `join`, `leave`, `chat`,
//! `echo` on `/`) on socketioxide 0.18, the Rust peer server of `sockeye-bench`.
//!
//! ```text
//! socketioxide-demo [--port N] [--adapter memory|redis://HOST:PORT]
//! ```
//!
//! `--port 0` picks a free port; it prints `listening on http://ADDR` once it serves (with a
//! Redis adapter, once the adapter has subscribed). The Redis adapter is `socketioxide-redis`
//! (its own protocol: it talks only to other socketioxide servers).

use clap::Parser;
use serde::Deserialize;
use serde_json::json;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;
use socketioxide_redis::{RedisAdapter, RedisAdapterCtr};

#[derive(Parser)]
#[command(
    name = "socketioxide-demo",
    about = "The demo contract on socketioxide"
)]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Broadcast adapter: `memory` or `redis://HOST:PORT`.
    #[arg(long, default_value = "memory")]
    adapter: String,
}

#[derive(Deserialize)]
struct Chat {
    room: String,
    text: String,
    #[serde(default)]
    name: Option<String>,
}

async fn on_connect<A: Adapter>(socket: SocketRef<A>) {
    socket.on("join", on_join);
    socket.on("leave", on_leave);
    socket.on("chat", on_chat);
    socket.on("echo", on_echo);
}

async fn on_join<A: Adapter>(socket: SocketRef<A>, Data(room): Data<String>, ack: AckSender<A>) {
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

async fn on_leave<A: Adapter>(
    socket: SocketRef<A>,
    io: SocketIo<A>,
    Data(room): Data<String>,
    ack: AckSender<A>,
) {
    socket.leave(room.clone());
    let _ = io.emit("lobby", "User left").await;
    let _ = socket
        .within(room.clone())
        .emit("left", &json!({ "id": socket.id, "room": room }))
        .await;
    let _ = ack.send(&json!({ "room": room }));
}

async fn on_chat<A: Adapter>(socket: SocketRef<A>, Data(chat): Data<Chat>, ack: AckSender<A>) {
    let mut msg = json!({ "room": chat.room, "from": socket.id, "text": chat.text });
    if let Some(name) = chat.name {
        msg["name"] = json!(name.chars().take(40).collect::<String>());
    }
    let _ = socket.within(chat.room).emit("chat", &msg).await;
    let _ = ack.send(&json!({ "ok": true }));
}

/// One argument, text or binary (rmpv keeps binary as binary; serde_json would not).
async fn on_echo<A: Adapter>(Data(data): Data<rmpv::Value>, ack: AckSender<A>) {
    let _ = ack.send(&data);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let app = if args.adapter == "memory" {
        let (layer, io) = SocketIo::new_layer();
        io.ns("/", on_connect);
        axum::Router::new().layer(layer)
    } else {
        // socketioxide-redis's drivers speak RESP3 only, asked for in the URL.
        let url = if args.adapter.contains("protocol=") {
            args.adapter.clone()
        } else {
            format!("{}/?protocol=resp3", args.adapter.trim_end_matches('/'))
        };
        let client = redis::Client::open(url)?;
        let ctr = RedisAdapterCtr::new_with_redis(&client).await?;
        let (layer, io) = SocketIo::builder()
            .with_adapter::<RedisAdapter<_>>(ctr)
            .build_layer();
        // Resolves once the namespace's adapter has subscribed to its channels.
        io.ns("/", on_connect).await?;
        axum::Router::new().layer(layer)
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
