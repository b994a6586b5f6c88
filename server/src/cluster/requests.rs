//! The JSON messages of Node's redis-adapter request/response protocol (channels
//! `<prefix>-request#<nsp>#` and `<prefix>-response#<nsp>#[<uid>#]`). `BROADCAST` requests
//! and `BROADCAST_ACK` (9) responses are msgpack (see `msgpack`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::adapter::{BroadcastOptions, SocketData};

/// The request types of Node's adapter.
pub(crate) mod kind {
    pub const SOCKETS: u64 = 0;
    pub const ALL_ROOMS: u64 = 1;
    pub const REMOTE_JOIN: u64 = 2;
    pub const REMOTE_LEAVE: u64 = 3;
    pub const REMOTE_DISCONNECT: u64 = 4;
    pub const REMOTE_FETCH: u64 = 5;
    pub const SERVER_SIDE_EMIT: u64 = 6;
    pub const BROADCAST_CLIENT_COUNT: u64 = 8;
}

/// Rooms and exceptions, as requests carry them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct WireOpts {
    #[serde(default)]
    pub rooms: Vec<String>,
    #[serde(default)]
    pub except: Vec<String>,
}

impl WireOpts {
    pub fn from_opts(opts: &BroadcastOptions) -> WireOpts {
        WireOpts {
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
        }
    }

    pub fn into_opts(self) -> BroadcastOptions {
        BroadcastOptions {
            rooms: self.rooms,
            except: self.except,
            ..Default::default()
        }
    }
}

/// A JSON request, as any node of the cluster sends it (fields absent where a type does
/// not use them).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opts: Option<WireOpts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rooms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Old single-socket forms of REMOTE_JOIN/LEAVE/DISCONNECT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

/// A JSON response.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Response {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<u64>,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sockets: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rooms: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_count: Option<u64>,
}

impl Response {
    pub fn new(request_id: String) -> Response {
        Response {
            request_id,
            ..Default::default()
        }
    }
}

/// The request id of a JSON response, read without building its other fields.
#[derive(Deserialize)]
pub(crate) struct ResponseHead {
    #[serde(rename = "requestId")]
    pub request_id: String,
}

/// The sockets of a `REMOTE_FETCH` response (entries that do not parse are skipped).
pub(crate) fn fetched_sockets(v: Value) -> Vec<SocketData> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|s| serde_json::from_value(s).ok())
            .collect(),
        _ => Vec::new(),
    }
}
