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

/// Finds `key` in a query string (not percent-decoded); a key without `=` has the value "".
pub fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    // Asked three times per request: a byte loop, not `split`'s pattern searchers (which
    // were 4% of a connect's instructions).
    let mut rest = query;
    loop {
        let (pair, tail) = match rest.bytes().position(|b| b == b'&') {
            Some(i) => (rest.get(..i)?, rest.get(i + 1..)),
            None => (rest, None),
        };
        if let Some(after) = pair.strip_prefix(key) {
            if after.is_empty() {
                return Some("");
            }
            if let Some(value) = after.strip_prefix('=') {
                return Some(value);
            }
        }
        rest = tail?;
    }
}

#[cfg(test)]
mod tests {
    use super::query_param;

    #[test]
    fn query_params_are_found_by_whole_key() {
        let q = "EIOx=3&EIO=4&transport=polling&t=abc&flag&empty=&sid=a=b";
        assert_eq!(query_param(q, "EIO"), Some("4"));
        assert_eq!(query_param(q, "EIOx"), Some("3"));
        assert_eq!(query_param(q, "transport"), Some("polling"));
        assert_eq!(query_param(q, "flag"), Some(""));
        assert_eq!(query_param(q, "empty"), Some(""));
        assert_eq!(query_param(q, "sid"), Some("a=b"));
        assert_eq!(query_param(q, "EI"), None);
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(query_param("", "EIO"), None);
        assert_eq!(query_param("&&EIO=4&", "EIO"), Some("4"));
    }
}
