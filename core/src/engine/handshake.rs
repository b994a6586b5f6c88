//! The `open` packet's JSON body.

use crate::prelude::*;
use crate::{decimal, json};
use core::time::Duration;

/// `maxPayload` when the handshake does not say.
const DEFAULT_MAX_PAYLOAD: usize = 1_000_000;

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

/// A duration in whole milliseconds (saturating: no handshake interval comes near `u64::MAX`).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Handshake {
    /// Writes the handshake JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(128 + self.sid.len());
        out.push_str("{\"sid\":");
        json::write_string(&mut out, &self.sid);
        out.push_str(",\"upgrades\":[");
        for (i, u) in self.upgrades.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_string(&mut out, u);
        }
        out.push_str("],\"pingInterval\":");
        decimal::push(&mut out, millis(self.ping_interval));
        out.push_str(",\"pingTimeout\":");
        decimal::push(&mut out, millis(self.ping_timeout));
        out.push_str(",\"maxPayload\":");
        decimal::push(&mut out, self.max_payload as u64);
        out.push('}');
        out
    }

    /// Parses the handshake JSON. Unknown fields are ignored; `sid`, `pingInterval`,
    /// `pingTimeout` are required; `upgrades` defaults to empty and `maxPayload` to 1,000,000.
    ///
    /// With feature `host-json`, the host's `JSON.parse` reads it (as engine.io-client does):
    /// an integer may then also be written with a fraction or an exponent (`2.5e4`).
    #[cfg(feature = "host-json")]
    pub fn from_json(json: &str) -> Result<Handshake, &'static str> {
        use crate::json::host;
        // One message for every flaw: the client reports none of them (an unreadable
        // handshake is a `parse error`), and each message would be bytes in the wasm.
        const BAD: &str = "invalid handshake";
        if !host::is_object(json) {
            return Err(BAD);
        }
        let ms = |key| {
            host::uint(json, key)
                .flatten()
                .map(Duration::from_millis)
                .ok_or(BAD)
        };
        Ok(Handshake {
            sid: host::string(json, "sid").flatten().ok_or(BAD)?,
            upgrades: host::strings(json, "upgrades")
                .unwrap_or(Some(Vec::new()))
                .ok_or(BAD)?,
            ping_interval: ms("pingInterval")?,
            ping_timeout: ms("pingTimeout")?,
            max_payload: match host::uint(json, "maxPayload") {
                None => DEFAULT_MAX_PAYLOAD,
                // Larger than addressable memory means "no limit" in practice.
                Some(n) => n.map_or(Err(BAD), |n| Ok(usize::try_from(n).unwrap_or(usize::MAX)))?,
            },
        })
    }

    /// Parses the handshake JSON. Unknown fields are ignored; `sid`, `pingInterval`,
    /// `pingTimeout` are required; `upgrades` defaults to empty and `maxPayload` to 1,000,000.
    #[cfg(not(feature = "host-json"))]
    pub fn from_json(json: &str) -> Result<Handshake, &'static str> {
        let members = json::object_members(json).map_err(|_| "not a JSON object")?;
        let mut sid = None;
        let mut upgrades = Vec::new();
        let mut ping_interval = None;
        let mut ping_timeout = None;
        let mut max_payload = DEFAULT_MAX_PAYLOAD;
        // Like `JSON.parse`, a repeated key keeps its last value.
        for (key, raw) in members {
            match key.as_str() {
                "sid" => sid = Some(json::parse_string(raw).map_err(|_| "sid is not a string")?),
                "upgrades" => {
                    // A loop, not `collect()` into a `Result`: less code in the wasm client.
                    upgrades.clear();
                    for el in json::array_elements(raw).map_err(|_| "upgrades is not an array")? {
                        let name = json::parse_string(el)
                            .map_err(|_| "upgrades is not an array of strings")?;
                        upgrades.push(name);
                    }
                }
                "pingInterval" => {
                    let ms = json::parse_u64(raw).ok_or("pingInterval is not an integer")?;
                    ping_interval = Some(Duration::from_millis(ms));
                }
                "pingTimeout" => {
                    let ms = json::parse_u64(raw).ok_or("pingTimeout is not an integer")?;
                    ping_timeout = Some(Duration::from_millis(ms));
                }
                "maxPayload" => {
                    let n = json::parse_u64(raw).ok_or("maxPayload is not an integer")?;
                    // Larger than addressable memory means "no limit" in practice.
                    max_payload = usize::try_from(n).unwrap_or(usize::MAX);
                }
                _ => {}
            }
        }
        Ok(Handshake {
            sid: sid.ok_or("missing sid")?,
            upgrades,
            ping_interval: ping_interval.ok_or("missing pingInterval")?,
            ping_timeout: ping_timeout.ok_or("missing pingTimeout")?,
            max_payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const SPEC: &str = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

    fn spec() -> Handshake {
        Handshake {
            sid: "lv_VI97HAXpY6yYWAAAC".into(),
            upgrades: vec!["websocket".into()],
            ping_interval: Duration::from_millis(25000),
            ping_timeout: Duration::from_millis(20000),
            max_payload: 1_000_000,
        }
    }

    #[test]
    fn writes_the_spec_example() {
        assert_eq!(spec().to_json(), SPEC);
    }

    #[test]
    fn parses_the_spec_example() {
        assert_eq!(Handshake::from_json(SPEC), Ok(spec()));
    }

    #[test]
    fn empty_upgrades_and_escapes() {
        let h = Handshake {
            sid: "a\"b\\c".into(),
            upgrades: vec![],
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            max_payload: 0,
        };
        let j = h.to_json();
        assert_eq!(
            j,
            r#"{"sid":"a\"b\\c","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":0}"#
        );
        assert_eq!(Handshake::from_json(&j), Ok(h));
    }

    #[test]
    fn defaults_and_unknown_fields() {
        let h = Handshake::from_json(
            r#" { "pingTimeout" : 5, "extra": {"x":[1,2]}, "sid":"s", "pingInterval":10 } "#,
        )
        .unwrap();
        assert_eq!(h.sid, "s");
        assert!(h.upgrades.is_empty());
        assert_eq!(h.ping_interval, Duration::from_millis(10));
        assert_eq!(h.ping_timeout, Duration::from_millis(5));
        assert_eq!(h.max_payload, 1_000_000);
    }

    #[test]
    fn last_duplicate_wins() {
        let h = Handshake::from_json(r#"{"sid":"a","sid":"b","pingInterval":1,"pingTimeout":2}"#)
            .unwrap();
        assert_eq!(h.sid, "b");
    }

    #[test]
    fn rejects_bad_handshakes() {
        for (json, why) in [
            ("", "not a JSON object"),
            ("[]", "not a JSON object"),
            ("{", "not a JSON object"),
            (r#"{"pingInterval":1,"pingTimeout":2}"#, "missing sid"),
            (r#"{"sid":"s","pingTimeout":2}"#, "missing pingInterval"),
            (r#"{"sid":"s","pingInterval":1}"#, "missing pingTimeout"),
            (
                r#"{"sid":1,"pingInterval":1,"pingTimeout":2}"#,
                "sid is not a string",
            ),
            (
                r#"{"sid":"s","pingInterval":-1,"pingTimeout":2}"#,
                "pingInterval is not an integer",
            ),
            (
                r#"{"sid":"s","pingInterval":1,"pingTimeout":2.5}"#,
                "pingTimeout is not an integer",
            ),
            (
                r#"{"sid":"s","pingInterval":1,"pingTimeout":2,"maxPayload":"1"}"#,
                "maxPayload is not an integer",
            ),
            (
                r#"{"sid":"s","upgrades":"websocket","pingInterval":1,"pingTimeout":2}"#,
                "upgrades is not an array",
            ),
            (
                r#"{"sid":"s","upgrades":[1],"pingInterval":1,"pingTimeout":2}"#,
                "upgrades is not an array of strings",
            ),
        ] {
            assert_eq!(Handshake::from_json(json), Err(why), "{json}");
        }
    }

    #[test]
    fn huge_max_payload_saturates() {
        let h = Handshake::from_json(
            r#"{"sid":"s","pingInterval":1,"pingTimeout":2,"maxPayload":18446744073709551615}"#,
        )
        .unwrap();
        assert_eq!(h.max_payload as u64, usize::MAX as u64);
    }
}
