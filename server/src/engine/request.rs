//! What the layers above can learn about the request that opened a session.

use std::net::SocketAddr;
use std::time::SystemTime;

use axum::http::{HeaderMap, Uri};

/// The HTTP request that opened the Engine.IO session.
#[derive(Clone, Debug)]
pub struct RequestInfo {
    /// Request headers.
    pub headers: HeaderMap,
    /// Request URI (path and query).
    pub uri: Uri,
    /// The peer's address, if the server was started with
    /// `into_make_service_with_connect_info::<SocketAddr>()`.
    pub address: Option<SocketAddr>,
    /// When the session opened.
    pub issued: SystemTime,
}

impl RequestInfo {
    /// A query parameter's value (not percent-decoded), if present.
    pub fn query(&self, key: &str) -> Option<&str> {
        query_param(self.uri.query().unwrap_or(""), key)
    }
}

/// Finds `key` in a query string (not percent-decoded).
pub fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then_some(v)
    })
}
