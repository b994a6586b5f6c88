//! # sockeye-wasm
//!
//! The Sockeye browser client: the sans-IO [`sockeye_core`] compiled to
//! `wasm32-unknown-unknown` and exposed to JavaScript with wasm-bindgen. This crate only
//! moves bytes (WebSocket / fetch) and runs timers; every byte on the wire comes from the
//! core.
//!
//! The Rust side is one class, [`Manager`]: an Engine.IO/Socket.IO connection with its
//! namespaces, its transports and its timer. It reports what happens through one JavaScript
//! callback (see [`events`]). The socket.io-client–style API (`io()`, `Socket`, event
//! emitters, JSON and binary placeholders) is the hand-written ES module `js/index.js`,
//! shipped next to the wasm-bindgen output in the npm package `sockeye-client`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod events;
pub mod manager;
pub mod options;
pub mod time;
pub mod transport;

pub use manager::Manager;

use wasm_bindgen::prelude::wasm_bindgen;

/// The global allocator: talc, single-threaded, growing wasm memory as needed. It reuses
/// freed memory (coalescing neighbours) and is much smaller than std's dlmalloc.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The version of this package, e.g. `"0.1.0"`.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
