//! The JavaScript host's functions, for the wasm client's build (features `host-json`,
//! `host-base64`): where the client reads JSON ([`crate::json::host`]) or polling's base64
//! ([`crate::base64::host`]), it calls the functions of a [`Host`] that the wasm crate
//! installs once, before it uses this crate ([`install`]). This crate stays free of
//! `unsafe` code and of any import mechanism: how the functions reach JavaScript (plain wasm
//! imports in the shipped client, wasm-bindgen imports in its tests) is the wasm crate's
//! business.

use crate::prelude::*;
use once_cell::race::OnceRef;

/// The host's functions.
pub struct Host {
    /// The host's answer to `op` about the JSON text `text`, with `key` for the ops that look
    /// up a member (see [`crate::json::host::op`]); `None` where the op says "none".
    pub json: fn(text: &str, op: u8, key: &str) -> Option<String>,
    /// Standard base64 decoded as `atob` does (the WHATWG "forgiving base64"); `None` if it
    /// is not base64.
    pub b64decode: fn(text: &str) -> Option<Vec<u8>>,
    /// Bytes encoded in standard base64, padded with `=` (`btoa`).
    pub b64encode: fn(data: &[u8]) -> String,
}

static HOST: OnceRef<'static, Host> = OnceRef::new();

/// Installs the host's functions. Only the first call counts: later ones are ignored (one
/// host per program).
pub fn install(host: &'static Host) {
    let _ = HOST.set(host);
}

/// The installed host's functions.
///
/// # Panics
/// If [`install`] was not called: the wasm crate installs them before it uses this crate.
pub(crate) fn get() -> &'static Host {
    match HOST.get() {
        Some(host) => host,
        None => panic!("sockeye_core::host::install was not called"),
    }
}
