//! # sockeye-wasm
//!
//! The Sockeye browser client: the sans-IO [`sockeye_core`] compiled to
//! `wasm32-unknown-unknown` and exposed to JavaScript with wasm-bindgen. This crate only
//! moves bytes (WebSocket / fetch) and runs timers; every byte on the wire comes from the
//! core.
//!
//! Only [`version`] exists so far.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use wasm_bindgen::prelude::wasm_bindgen;

/// The version of this package, e.g. `"0.1.0"`.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
