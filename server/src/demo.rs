//! The demo application of `sockeye-demo`: the event contract of the README (`join`,
//! `leave`, `chat`, `echo` on `/`) and the static files of the demo page.

use std::path::Path;

use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
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
        // E.g. past max_rooms_per_socket: the client hears why rather than timing out.
        tracing::debug!("join refused: {e}");
        let _ = ack.send(&json!({ "room": room, "error": e.to_string() }));
        return;
    }
    // Every server of the cluster counts (with a cluster adapter); when the cluster cannot
    // be asked (its broker is down), this server's members do.
    let members = match socket.within(room.clone()).fetch_sockets().await {
        Ok(all) => all.len(),
        Err(_) => socket
            .within(room.clone())
            .local()
            .fetch_sockets()
            .await
            .map_or(1, |here| here.len()),
    };
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

/// Which web pages may talk to the demo server from another origin.
///
/// The default is safe: only pages of the server's own origin (a request without `Origin`,
/// from a non-browser client, is always accepted). `Any` reflects every origin with
/// credentials, as `CorsLayer::very_permissive` does: only on explicit request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cors {
    /// The server's own origin only (`Origin` equal to `http://` or `https://` + `Host`).
    #[default]
    SameOrigin,
    /// The server's own origin and these (`https://app.example`, no trailing slash).
    Origins(Vec<String>),
    /// Every origin, with credentials (`sockeye-demo --cors-any`).
    Any,
}

impl Cors {
    /// Whether a request from `origin`, sent to `host`, is accepted.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let same = host.is_some_and(|h| {
            origin.strip_prefix("http://") == Some(h) || origin.strip_prefix("https://") == Some(h)
        });
        match self {
            Cors::Any => true,
            Cors::SameOrigin => same,
            Cors::Origins(list) => same || list.iter().any(|o| o == origin),
        }
    }

    /// The handshake check for [`crate::SocketIoBuilder::allow_request`]: a handshake
    /// (polling or WebSocket) whose `Origin` is not accepted is answered
    /// `403 {"code":4,"message":"Forbidden"}`. Browsers do not apply CORS to WebSockets, so
    /// this check is what keeps foreign pages out of them.
    pub fn check(&self) -> impl Fn(&Parts) -> Result<(), String> + Send + Sync + 'static {
        let cors = self.clone();
        move |parts: &Parts| {
            let Some(origin) = parts.headers.get(header::ORIGIN) else {
                return Ok(());
            };
            let origin = origin.to_str().unwrap_or("");
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok());
            if cors.allows(origin, host) {
                Ok(())
            } else {
                Err(format!("origin {origin:?} not allowed"))
            }
        }
    }

    /// The CORS layer (none for [`Cors::SameOrigin`]: browsers need none for the page's own
    /// origin).
    fn layer(&self) -> Option<CorsLayer> {
        match self {
            Cors::SameOrigin => None,
            Cors::Any => Some(CorsLayer::very_permissive()),
            Cors::Origins(list) => {
                let origins: Vec<HeaderValue> = list
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o).ok())
                    .collect();
                Some(
                    CorsLayer::new()
                        .allow_origin(AllowOrigin::list(origins))
                        .allow_credentials(true)
                        .allow_methods([Method::GET, Method::POST])
                        .allow_headers(tower_http::cors::AllowHeaders::mirror_request()),
                )
            }
        }
    }
}

/// Builds the demo application: Socket.IO at `/socket.io/` and the files of `static_dir` at
/// `/`, with the safe default [`Cors::SameOrigin`].
pub fn router(static_dir: &Path, io: &SocketIo, layer: crate::SocketIoLayer) -> Router {
    router_with_cors(static_dir, io, layer, &Cors::default())
}

/// [`router`] with the CORS policy `cors` (pair it with `allow_request(cors.check())` on the
/// builder, so that WebSocket handshakes are checked too).
pub fn router_with_cors(
    static_dir: &Path,
    io: &SocketIo,
    layer: crate::SocketIoLayer,
    cors: &Cors,
) -> Router {
    register(io);
    let app = Router::new()
        .fallback_service(ServeDir::new(static_dir))
        .layer(layer);
    match cors.layer() {
        Some(l) => app.layer(l),
        None => app,
    }
}
