//! The demo application of `sockeye-demo`: the event contract of the README (`join`,
//! `leave`, `chat`, `echo` on `/`) and the static files of the demo page.

use std::path::Path;

use axum::Router;
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

use crate::{AckSender, Data, Payload, SocketIo, SocketRef};

/// Registers the demo contract's handlers on namespace `/` of `io`.
pub fn register(io: &SocketIo) {
    io.ns("/", |socket: SocketRef| async move {
        tracing::debug!(id = socket.id(), "connected");
        socket.on("join", on_join);
        socket.on("leave", on_leave);
        socket.on("chat", on_chat);
        socket.on("echo", |ack: AckSender, payload: Payload| async move {
            let _ = ack.send_payload(payload);
        });
    });
}

async fn on_join(socket: SocketRef, Data(room): Data<String>, ack: AckSender) {
    if let Err(e) = socket.join(room.clone()).await {
        tracing::warn!("join: {e}");
        return;
    }
    // Every server of the cluster counts (with the Redis adapter).
    let members = socket
        .within(room.clone())
        .fetch_sockets()
        .await
        .map(|s| s.len())
        .unwrap_or(0);
    let _ = ack.send(&json!({ "room": room, "members": members }));
    let _ = socket
        .to(room.clone())
        .emit("joined", &json!({ "id": socket.id(), "room": room }))
        .await;
}

async fn on_leave(socket: SocketRef, Data(room): Data<String>, ack: AckSender) {
    if let Err(e) = socket.leave(room.clone()).await {
        tracing::warn!("leave: {e}");
    }
    if let Some(io) = socket.io() {
        let _ = io.of(socket.ns()).emit("lobby", "User left").await;
    }
    let _ = socket
        .within(room.clone())
        .emit("left", &json!({ "id": socket.id(), "room": room }))
        .await;
    let _ = ack.send(&json!({ "room": room }));
}

#[derive(Deserialize)]
struct Chat {
    room: String,
    text: String,
    /// The sender's display name, if the client gives one (the demo page does); relayed
    /// as is, cut to 40 characters.
    #[serde(default)]
    name: Option<String>,
}

async fn on_chat(socket: SocketRef, Data(chat): Data<Chat>, ack: AckSender) {
    let mut msg = json!({ "room": chat.room, "from": socket.id(), "text": chat.text });
    if let Some(name) = chat.name {
        msg["name"] = json!(name.chars().take(40).collect::<String>());
    }
    let _ = socket.within(chat.room.clone()).emit("chat", &msg).await;
    let _ = ack.send(&json!({ "ok": true }));
}

/// Builds the demo application: Socket.IO at `/socket.io/` (with permissive CORS, so the page
/// may be served from elsewhere) and the files of `static_dir` at `/`.
pub fn router(static_dir: &Path, io: &SocketIo, layer: crate::SocketIoLayer) -> Router {
    register(io);
    Router::new()
        .fallback_service(ServeDir::new(static_dir))
        .layer(layer)
        .layer(CorsLayer::very_permissive())
}
