//! python-socketio's pub/sub messages (its `RedisManager`, `AsyncRedisManager`, Kombu and
//! aio-pika managers): JSON on one channel (default `socketio`), one object per message with
//! a `method` — `emit`, `enter_room`, `leave_room`, `close_room`, `disconnect`, `callback`.
//!
//! An `emit`'s `data` is the list of arguments (python-socketio 5.14+: a one-element list
//! is one argument; `[null]` none); with `binary: true` it is `[args with placeholders,
//! base64 attachment, ...]`. Older senders put a single argument in `data`: accepted too.

use bytes::Bytes;
use serde_json::{json, Value};

/// Messages of Sockeye nodes carry a `host_id` with this prefix: Sockeye nodes got the same
/// broadcast in Node's format and ignore the copy.
pub(crate) const SOCKEYE_HOST: &str = "sockeye-";

/// A message from python-socketio.
#[derive(Debug, PartialEq)]
pub(crate) enum Message {
    Emit {
        event: String,
        /// The arguments, a JSON array with placeholders.
        args: String,
        attachments: Vec<Bytes>,
        namespace: String,
        rooms: Vec<String>,
        skip_sids: Vec<String>,
        host_id: Option<String>,
        /// A python server's emit that wants the client's ack back (its `callback`).
        callback: Option<Callback>,
    },
    EnterRoom {
        sid: String,
        room: String,
        namespace: String,
    },
    LeaveRoom {
        sid: String,
        room: String,
        namespace: String,
    },
    CloseRoom {
        room: String,
        namespace: String,
    },
    Disconnect {
        sid: String,
        namespace: String,
    },
}

/// Where the ack of an `emit` goes: python-socketio's `(room, namespace, id)`; the answer is
/// a `callback` message to the emitting host.
#[derive(Debug, PartialEq)]
pub(crate) struct Callback {
    pub room: String,
    pub namespace: String,
    pub id: Value,
}

impl Message {
    /// The namespace the message is about.
    pub(crate) fn namespace(&self) -> &str {
        match self {
            Message::Emit { namespace, .. }
            | Message::EnterRoom { namespace, .. }
            | Message::LeaveRoom { namespace, .. }
            | Message::CloseRoom { namespace, .. }
            | Message::Disconnect { namespace, .. } => namespace,
        }
    }
}

fn callback(v: Option<&Value>) -> Option<Callback> {
    match v? {
        Value::Array(parts) if parts.len() == 3 => Some(Callback {
            room: parts[0].as_str()?.to_owned(),
            namespace: parts[1].as_str()?.to_owned(),
            id: parts[2].clone(),
        }),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn text(m: &Value, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn namespace(m: &Value) -> String {
    text(m, "namespace").unwrap_or_else(|| "/".to_owned())
}

/// The namespace and `host_id` of an `emit` message, read without building its values (a
/// scan): a node drops its own messages and other Sockeye nodes' copies of native
/// broadcasts before decoding them. `None` if it is not a plain JSON `emit`.
pub(crate) fn emit_head(bytes: &[u8]) -> Option<(String, Option<String>)> {
    #[derive(serde::Deserialize)]
    struct Head {
        method: Option<String>,
        namespace: Option<String>,
        host_id: Option<String>,
    }
    let head: Head = serde_json::from_slice(bytes).ok()?;
    if head.method.as_deref() != Some("emit") {
        return None;
    }
    Some((
        head.namespace.unwrap_or_else(|| "/".to_owned()),
        head.host_id,
    ))
}

/// Decodes a message; `None` for anything that is not one we handle (logged by the caller).
pub(crate) fn decode(bytes: &[u8]) -> Option<Message> {
    let mut m: Value = serde_json::from_slice(bytes).ok()?;
    if let Value::String(inner) = &m {
        // Kombu's producer JSON-encodes the JSON text python-socketio hands it.
        m = serde_json::from_str(inner).ok()?;
    }
    match m.get("method")?.as_str()? {
        "emit" => {
            let (args, attachments) = emit_args(&m)?;
            Some(Message::Emit {
                event: text(&m, "event")?,
                args,
                attachments,
                namespace: namespace(&m),
                rooms: strings(m.get("room")),
                skip_sids: strings(m.get("skip_sid")),
                host_id: text(&m, "host_id"),
                callback: callback(m.get("callback")),
            })
        }
        "enter_room" => Some(Message::EnterRoom {
            sid: text(&m, "sid")?,
            room: text(&m, "room")?,
            namespace: namespace(&m),
        }),
        "leave_room" => Some(Message::LeaveRoom {
            sid: text(&m, "sid")?,
            room: text(&m, "room")?,
            namespace: namespace(&m),
        }),
        "close_room" => Some(Message::CloseRoom {
            room: text(&m, "room")?,
            namespace: namespace(&m),
        }),
        "disconnect" => Some(Message::Disconnect {
            sid: text(&m, "sid")?,
            namespace: namespace(&m),
        }),
        _ => None,
    }
}

/// The arguments of an `emit` (see the module docs).
fn emit_args(m: &Value) -> Option<(String, Vec<Bytes>)> {
    let data = m.get("data")?;
    let binary = m.get("binary").and_then(Value::as_bool).unwrap_or(false);
    let (args, attachments) = if binary {
        let parts = data.as_array()?;
        let (first, rest) = parts.split_first()?;
        let attachments = rest
            .iter()
            .map(|a| {
                let b64 = a.as_str()?;
                sockeye_core::base64::decode(b64).ok().map(Bytes::from)
            })
            .collect::<Option<Vec<Bytes>>>()?;
        (first.clone(), attachments)
    } else {
        (data.clone(), Vec::new())
    };
    let args = match args {
        // `[null]` is python's `data=None`: no argument.
        Value::Array(a) if a.len() == 1 && a[0].is_null() => Vec::new(),
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        // An older sender's single argument.
        other => vec![other],
    };
    Some((Value::Array(args).to_string(), attachments))
}

/// The answer to a python server's emit with a callback: `args` (a JSON array, the client's
/// ack) for host `host_id`.
pub(crate) fn encode_callback(
    host_id: &str,
    sid: &str,
    cb: &Callback,
    args: &str,
) -> Option<Vec<u8>> {
    let args: Value = serde_json::from_str(args).ok()?;
    let message = json!({
        "method": "callback",
        "host_id": host_id,
        "sid": sid,
        "namespace": cb.namespace,
        "id": cb.id,
        "args": args,
    });
    serde_json::to_vec(&message).ok()
}

/// An `emit` for python-socketio servers, if the broadcast can be said in their format:
/// at most one room, no excepted rooms. `args` is the JSON array of arguments (with
/// placeholders), `skip_sids` the excluded sockets.
pub(crate) fn encode_emit(
    host_id: &str,
    namespace: &str,
    event: &str,
    args: &str,
    attachments: &[Bytes],
    rooms: &[String],
    skip_sids: &[String],
) -> Option<Vec<u8>> {
    let room = match rooms {
        [] => Value::Null,
        [one] => Value::String(one.clone()),
        _ => return None,
    };
    let mut data: Value = serde_json::from_str(args).ok()?;
    if data.as_array().is_some_and(Vec::is_empty) {
        data = json!([null]);
    }
    let binary = !attachments.is_empty();
    if binary {
        let mut parts = vec![data];
        parts.extend(
            attachments
                .iter()
                .map(|a| Value::String(sockeye_core::base64::encode(a))),
        );
        data = Value::Array(parts);
    }
    let skip_sid = match skip_sids {
        [] => Value::Null,
        [one] => Value::String(one.clone()),
        many => json!(many),
    };
    let message = json!({
        "method": "emit",
        "event": event,
        "data": data,
        "binary": binary,
        "namespace": namespace,
        "room": room,
        "skip_sid": skip_sid,
        "callback": null,
        "host_id": host_id,
    });
    serde_json::to_vec(&message).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_of_every_python_version_decode() {
        // python-socketio 5.18 (`data` a list of arguments).
        let m = br#"{"method": "emit", "event": "my event", "data": [{"foo": "bar"}], "binary": false, "namespace": "/", "room": "my room", "skip_sid": null, "callback": null, "host_id": "abc"}"#;
        assert_eq!(
            decode(m),
            Some(Message::Emit {
                event: "my event".into(),
                args: r#"[{"foo":"bar"}]"#.into(),
                attachments: vec![],
                namespace: "/".into(),
                rooms: vec!["my room".into()],
                skip_sids: vec![],
                host_id: Some("abc".into()),
                callback: None,
            })
        );
        // `data=None`, several arguments, an older single-argument sender.
        let none = br#"{"method":"emit","event":"e","data":[null]}"#;
        assert!(matches!(decode(none), Some(Message::Emit { args, .. }) if args == "[]"));
        let two = br#"{"method":"emit","event":"e","data":[1,"two"],"skip_sid":["a","b"]}"#;
        assert!(
            matches!(decode(two), Some(Message::Emit { args, skip_sids, .. }) if args == r#"[1,"two"]"# && skip_sids == ["a", "b"])
        );
        let old = br#"{"method":"emit","event":"e","data":{"x":1},"namespace":"/n"}"#;
        assert!(
            matches!(decode(old), Some(Message::Emit { args, namespace, .. }) if args == r#"[{"x":1}]"# && namespace == "/n")
        );
    }

    /// The bodies python-socketio 5.18's `KombuManager` and `AsyncAioPikaManager` publish,
    /// as captured on the wire (tests/python/AMQP_WIRE.md): the same JSON, once.
    #[test]
    fn bodies_captured_from_the_amqp_managers_decode() {
        let snippet = br#"{"method": "emit", "event": "my event", "data": [{"foo": "bar"}], "binary": false, "namespace": "/", "room": "my room", "skip_sid": null, "callback": null, "host_id": "cfe6e532563549e9bae1e7dc44ad13e6"}"#;
        let Some(Message::Emit {
            event,
            args,
            rooms,
            host_id,
            callback,
            ..
        }) = decode(snippet)
        else {
            panic!("not decoded");
        };
        assert_eq!(
            (event.as_str(), args.as_str()),
            ("my event", r#"[{"foo":"bar"}]"#)
        );
        assert_eq!(rooms, vec!["my room".to_string()]);
        assert_eq!(host_id.as_deref(), Some("cfe6e532563549e9bae1e7dc44ad13e6"));
        assert_eq!(callback, None);
        let binary = br#"{"method": "emit", "event": "bin", "data": [[{"_placeholder": true, "num": 0}], "AAH/"], "binary": true, "namespace": "/", "room": "r", "skip_sid": null, "callback": null, "host_id": "h"}"#;
        let Some(Message::Emit {
            args, attachments, ..
        }) = decode(binary)
        else {
            panic!("not decoded");
        };
        assert_eq!(args, r#"[{"_placeholder":true,"num":0}]"#);
        assert_eq!(attachments, vec![Bytes::from_static(&[0, 1, 0xff])]);
    }

    #[test]
    fn kombu_double_encoding_and_callbacks_decode() {
        let inner = r#"{"method": "emit", "event": "e", "data": [1], "namespace": "/n", "room": "sid1", "callback": ["sid1", "/n", 7], "host_id": "h"}"#;
        let kombu = serde_json::to_vec(&Value::String(inner.to_owned())).unwrap();
        let Some(Message::Emit {
            args,
            callback,
            namespace,
            ..
        }) = decode(&kombu)
        else {
            panic!("not decoded");
        };
        assert_eq!((args.as_str(), namespace.as_str()), ("[1]", "/n"));
        let cb = callback.expect("a callback");
        assert_eq!(
            (cb.room.as_str(), cb.namespace.as_str(), &cb.id),
            ("sid1", "/n", &json!(7))
        );
        let answer = encode_callback("h", "sid1", &cb, r#"["ok",2]"#).unwrap();
        let v: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(
            v,
            json!({"method": "callback", "host_id": "h", "sid": "sid1", "namespace": "/n", "id": 7, "args": ["ok", 2]})
        );
        // A string that is not a message.
        assert_eq!(decode(br#""hello""#), None);
    }

    #[test]
    fn binary_emits_round_trip() {
        let bin = [Bytes::from_static(b"\x01\x02")];
        let raw = encode_emit(
            "sockeye-x",
            "/",
            "file",
            r#"[{"_placeholder":true,"num":0}]"#,
            &bin,
            &["r".into()],
            &["s1".into()],
        )
        .unwrap();
        let Some(Message::Emit {
            args,
            attachments,
            rooms,
            skip_sids,
            host_id,
            ..
        }) = decode(&raw)
        else {
            panic!("{}", String::from_utf8_lossy(&raw))
        };
        assert_eq!(args, r#"[{"_placeholder":true,"num":0}]"#);
        assert_eq!(attachments, bin.to_vec());
        assert_eq!(rooms, vec!["r".to_string()]);
        assert_eq!(skip_sids, vec!["s1".to_string()]);
        assert_eq!(host_id.as_deref(), Some("sockeye-x"));
    }

    #[test]
    fn what_python_cannot_express_is_not_encoded_and_garbage_is_refused() {
        assert!(encode_emit("h", "/", "e", "[]", &[], &["a".into(), "b".into()], &[]).is_none());
        let none = encode_emit("h", "/", "e", "[]", &[], &[], &[]).unwrap();
        assert!(matches!(decode(&none), Some(Message::Emit { args, .. }) if args == "[]"));
        for bad in [
            &b"garbage"[..],
            b"{}",
            br#"{"method":"emit"}"#,
            br#"{"method":"nope"}"#,
            b"[1]",
        ] {
            assert_eq!(decode(bad), None);
        }
    }
}
