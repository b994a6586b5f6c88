//! The two Engine.IO transports as the browser offers them: HTTP long-polling over `fetch`
//! ([`polling`]) and `WebSocket` ([`websocket`]). Both only carry bytes the core produced.

pub mod polling;
pub mod websocket;

/// Where the server is: the polling URL up to and including the query string that every
/// request carries (`http://host:port/socket.io/?EIO=4` plus the user's `query`).
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `http(s)://host[:port]/path/?EIO=4[&user=query]`.
    pub base: String,
    /// The same with `ws(s)://`.
    pub ws_base: String,
    counter: u32,
}

impl Endpoint {
    /// An endpoint from its polling base URL (`http:` or `https:`; `ws:`/`wss:` also work).
    pub fn new(base: &str) -> Endpoint {
        let (http, ws) = if let Some(rest) = base.strip_prefix("ws") {
            (["http", rest].concat(), base.to_owned())
        } else if let Some(rest) = base.strip_prefix("http") {
            (base.to_owned(), ["ws", rest].concat())
        } else {
            (base.to_owned(), base.to_owned())
        };
        Endpoint {
            base: http,
            ws_base: ws,
            counter: 0,
        }
    }

    /// The URL of a polling request (with a cache-busting `t`).
    pub fn polling_url(&mut self, sid: Option<&str>) -> String {
        self.counter = self.counter.wrapping_add(1);
        let mut url = [&self.base, "&transport=polling&t="].concat();
        sockeye_core::decimal::push(&mut url, u64::from(self.counter));
        push_sid(&mut url, sid);
        url
    }

    /// The URL of a WebSocket (handshake, or upgrade of session `sid`).
    pub fn websocket_url(&self, sid: Option<&str>) -> String {
        let mut url = [&self.ws_base, "&transport=websocket"].concat();
        push_sid(&mut url, sid);
        url
    }
}

fn push_sid(url: &mut String, sid: Option<&str>) {
    if let Some(sid) = sid {
        url.push_str("&sid=");
        // Engine.IO session ids are URL-safe base64; escape anything else anyway.
        for b in sid.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                url.push(char::from(b));
            } else {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                url.push('%');
                url.push(char::from(HEX[usize::from(b >> 4)]));
                url.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}
