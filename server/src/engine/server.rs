//! [`Engine`]: the Engine.IO server of one [`Protocol`] — its settings, clock and session
//! registry, and the routing of each HTTP request (with Node's checks, in Node's order).

use foldhash::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Uri};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use sockeye_core::engine::{CloseReason, Transport};
use sockeye_core::{Instant, Str};

use super::admission::Admission;
use super::clock::Clock;
use super::config::EngineConfig;
use super::error::EngineError;
use super::request::{query_param, RequestInfo};
use super::session::{Protocol, SessionHandle};
use super::{polling, ws};

/// An Engine.IO server carrying `P`: the sessions' registry, settings and clock.
pub struct Engine<P: Protocol> {
    config: EngineConfig,
    clock: Clock,
    protocol: P,
    sessions: Mutex<HashMap<Str, SessionHandle<P::Command>>>,
    next_ws_id: AtomicU64,
    admission: Arc<Admission>,
}

impl<P: Protocol> Engine<P> {
    /// A server with `config`, carrying `protocol`.
    pub fn new(config: EngineConfig, protocol: P) -> Arc<Engine<P>> {
        Arc::new(Engine {
            config,
            clock: Clock::new(),
            protocol,
            sessions: Mutex::new(HashMap::default()),
            next_ws_id: AtomicU64::new(0),
            admission: Arc::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The layer above.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    /// The clock the sessions run on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current time for the core.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.lock_sessions().len()
    }

    /// The session `sid`, if open.
    pub fn session(&self, sid: &str) -> Option<SessionHandle<P::Command>> {
        self.lock_sessions().get(sid).cloned()
    }

    /// Every open session.
    pub fn sessions(&self) -> Vec<SessionHandle<P::Command>> {
        self.lock_sessions().values().cloned().collect()
    }

    /// Refuses every new handshake from now on (`503 {"code":4,"message":"Forbidden"}`),
    /// closes every session with a `close` packet (reason `server shutting down` on the
    /// clients) and waits at most `timeout` for them to end.
    pub async fn close_all(&self, timeout: Duration) {
        self.admission.shut_down();
        for s in self.sessions() {
            s.close(CloseReason::ServerShutdown).await;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        while self.session_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Whether `path` is this server's.
    pub fn matches_path(&self, path: &str) -> bool {
        let base = self.config.path.as_str();
        path == base || path == base.trim_end_matches('/')
    }

    /// Answers one request under the server's path.
    pub async fn handle(self: Arc<Self>, req: Request<Body>) -> Response {
        match self.route(req).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("engine.io request refused: {e}");
                e.into_response()
            }
        }
    }

    // A poisoned registry still holds valid handles: keep serving.
    fn lock_sessions(&self) -> std::sync::MutexGuard<'_, HashMap<Str, SessionHandle<P::Command>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert_session(&self, handle: SessionHandle<P::Command>) {
        self.lock_sessions().insert(handle.sid().clone(), handle);
    }

    pub(crate) fn remove_session(&self, sid: &str) {
        self.lock_sessions().remove(sid);
    }

    pub(crate) fn next_ws_id(&self) -> u64 {
        self.next_ws_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The checks of Node's `Server.verify`, then the transport's handler.
    async fn route(self: Arc<Self>, req: Request<Body>) -> Result<Response, EngineError> {
        // (See `owned_headers` for why nothing of `parts` outlives the request.)
        let (mut parts, body) = req.into_parts();
        let query = parts.uri.query().unwrap_or("").to_owned();
        let transport = query_param(&query, "transport")
            .and_then(Transport::parse)
            .ok_or(EngineError::UnknownTransport)?;
        let enabled = match transport {
            Transport::Polling => self.config.transports[0],
            _ => self.config.transports[1],
        };
        if !enabled {
            return Err(EngineError::UnknownTransport);
        }
        let is_ws = transport == Transport::WebSocket;

        if let Some(sid) = query_param(&query, "sid").filter(|s| !s.is_empty()) {
            let session = self.session(sid).ok_or(EngineError::UnknownSid)?;
            return match (is_ws, &parts.method) {
                (false, &Method::GET) => {
                    // The request's head shares hyper's read buffer: dropped before the long
                    // wait, the buffer is reused for the connection's next read instead of a
                    // second one being allocated (~8 KiB per waiting poll).
                    drop((parts, body, query));
                    polling::get(&session).await
                }
                (false, &Method::POST) => {
                    drop(parts);
                    polling::post(&self, &session, body).await
                }
                (true, &Method::GET) => {
                    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
                        .await
                        .map_err(|_| EngineError::BadRequest)?;
                    Ok(ws::upgrade(self, upgrade, session))
                }
                _ => Err(EngineError::BadRequest),
            };
        }

        // A handshake.
        if parts.method != Method::GET {
            return Err(EngineError::BadHandshakeMethod);
        }
        if query_param(&query, "EIO") != Some("4") {
            return Err(EngineError::UnsupportedProtocolVersion);
        }
        if let Some(allow) = &self.config.allow_request {
            if let Err(why) = allow(&parts) {
                tracing::debug!("handshake refused by allow_request: {why}");
                return Err(EngineError::Forbidden);
            }
        }
        let head_bytes = uri_len(&parts.uri)
            + parts
                .headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len() + 4)
                .sum::<usize>();
        if head_bytes > self.config.max_request_header_bytes {
            tracing::debug!(head_bytes, "handshake refused: request headers too large");
            return Err(EngineError::HeadersTooLarge);
        }
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let upgrade = if is_ws {
            Some(
                WebSocketUpgrade::from_request_parts(&mut parts, &())
                    .await
                    .map_err(|_| EngineError::BadRequest)?,
            )
        } else {
            None
        };
        let slot = self
            .admission
            .admit(&self.config, address.map(|a| a.ip()))?;
        let info = Arc::new(RequestInfo {
            headers: owned_headers(&parts.headers),
            uri: owned_uri(&parts.uri),
            address,
            issued: SystemTime::now(),
        });
        drop(parts);
        match upgrade {
            Some(upgrade) => Ok(ws::handshake(self, upgrade, info, slot)),
            None => polling::handshake(&self, info, slot).await,
        }
    }
}

/// A copy of `headers` that owns its bytes. hyper's header values are slices of the
/// connection's read buffer: a session keeping them (for `socket.handshake`) would keep that
/// whole buffer (8 KiB or more) alive for its lifetime. The values are copied into one
/// buffer of their own (one allocation, not one per header); the names are hyper's copies
/// already (or static), and are shared.
fn owned_headers(headers: &HeaderMap) -> HeaderMap {
    let mut buf = BytesMut::with_capacity(headers.values().map(HeaderValue::len).sum());
    for value in headers.values() {
        buf.extend_from_slice(value.as_bytes());
    }
    let mut buf = buf.freeze();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let bytes = buf.split_to(value.len().min(buf.len()));
        let Ok(mut copy) = HeaderValue::from_maybe_shared(bytes) else {
            continue;
        };
        copy.set_sensitive(value.is_sensitive());
        out.append(name.clone(), copy);
    }
    out
}

/// A copy of `uri` that owns its bytes (see [`owned_headers`]).
fn owned_uri(uri: &Uri) -> Uri {
    // A request's URI is nearly always a path and query: copied as it is, not formatted.
    let text = match (uri.scheme(), uri.authority(), uri.path_and_query()) {
        (None, None, Some(pq)) => pq.as_str().to_owned(),
        _ => uri.to_string(),
    };
    Uri::try_from(text).unwrap_or_else(|_| uri.clone())
}

/// About the length of `uri` as the request line wrote it, without formatting it.
fn uri_len(uri: &Uri) -> usize {
    uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |pq| pq.as_str().len())
}
