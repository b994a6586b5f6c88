//! The `open` packet's JSON body.

use core::time::Duration;

/// The Engine.IO handshake, e.g.
/// `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// The session id.
    pub sid: String,
    /// Transports the client may upgrade to (`["websocket"]` on polling, `[]` on WebSocket).
    pub upgrades: Vec<String>,
    /// Interval between server pings.
    pub ping_interval: Duration,
    /// How long the server waits for a pong (and the client adds to its watchdog).
    pub ping_timeout: Duration,
    /// Largest polling body, in bytes, either side accepts.
    pub max_payload: usize,
}

impl Handshake {
    /// Writes the handshake JSON.
    pub fn to_json(&self) -> String {
        todo!()
    }

    /// Parses the handshake JSON. Unknown fields are ignored; `sid`, `pingInterval`,
    /// `pingTimeout` are required; `upgrades` defaults to empty and `maxPayload` to 1,000,000.
    pub fn from_json(json: &str) -> Result<Handshake, &'static str> {
        todo!()
    }
}
