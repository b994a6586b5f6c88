//! The server example of the README (kept compiling by `cargo clippy --all-targets`).

use std::time::Duration;

use axum::Router;
use serde::Deserialize;
use sockeye::{AckSender, ConnectError, Data, DisconnectReason, Payload, SocketIo, SocketRef};

#[derive(Deserialize)]
struct Chat {
    room: String,
    text: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (layer, io) = SocketIo::builder()
        .ping_interval(Duration::from_secs(25))
        .max_payload(1_000_000)
        .build_layer();

    io.ns("/", |socket: SocketRef| async move {
        // Event handlers: typed data, ack handles.
        socket.on(
            "join",
            |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
                socket.join(room.clone()).await.ok();
                ack.send(&room).ok();
            },
        );
        socket.on(
            "chat",
            |socket: SocketRef, Data(msg): Data<Chat>| async move {
                // To the room, sender included; `socket.to(..)` would leave the sender out.
                socket.within(msg.room).emit("chat", &msg.text).await.ok();
            },
        );
        socket.on(
            "leave",
            |socket: SocketRef, Data(room): Data<String>| async move {
                socket.leave(room).await.ok();
                if let Some(io) = socket.io() {
                    io.emit("lobby", "User left").await.ok(); // every client of `/`
                }
            },
        );
        // Several arguments or binary: `Payload` (raw JSON array + attachments).
        socket.on("echo", |ack: AckSender, payload: Payload| async move {
            ack.send_payload(payload).ok();
        });
        // Server -> client with an ack.
        let answer: Result<String, _> = socket.emit_with_ack("question", "ready?").await;
        tracing::info!(?answer);
        socket.on_disconnect(|socket: SocketRef, reason: DisconnectReason| async move {
            tracing::info!(id = socket.id(), %reason, "gone");
        });
    });

    // A namespace with a connect middleware reading the client's `auth`.
    io.ns("/admin", |socket: SocketRef| async move {
        socket.emit("hello", "admin").ok();
    })
    .with(|Data(auth): Data<serde_json::Value>| async move {
        match auth["token"].as_str() {
            Some("secret") => Ok(()),
            _ => {
                Err(ConnectError::new("not authorized").with_data(&serde_json::json!({"code": 42})))
            }
        }
    });

    // Dynamic namespaces, by predicate.
    io.dyn_ns(
        |name| name.starts_with("/tenant-"),
        |socket: SocketRef| async move {
            socket.emit("hello", socket.ns()).ok();
        },
    );

    let app = Router::new()
        .layer(layer)
        .layer(tower_http::cors::CorsLayer::permissive());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await
}
