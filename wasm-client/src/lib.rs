//! # sockeye-wasm
//!
//! The Sockeye browser client: the sans-IO [`sockeye_core`] compiled to
//! `wasm32-unknown-unknown`, its [`Manager`] exported as plain functions (`abi`, wasm32
//! only) under the hand-written class of `js/wasm.js`, which also provides the imports and
//! instantiates the module (feature `plain-imports`: no wasm-bindgen in the shipped build;
//! the tests import through wasm-bindgen).
//! The boundary is narrow and byte-oriented: the JS half (`js/index.js`) does the I/O —
//! `fetch`, `WebSocket`, `setTimeout` — and hands the bytes it got and the time to one class,
//! [`Manager`], which returns what to do next as records in a byte buffer ([`records`]).
//! Every byte on the wire comes from the core; what the wasm imports from JavaScript is the
//! clock ([`time`]) and, through sockeye-core's features `host-json` and `host-base64` (on
//! for wasm32), `JSON.parse` and `atob`/`btoa` (`host`, `js/host.js`): where the core looks
//! into JSON (payload shapes, the handshake, the `CONNECT` answer), the host reads it.
//!
//! The socket.io-client–style API (`io()`, `Socket`, event emitters, JSON and binary
//! placeholders) is the hand-written ES module `js/index.js`, shipped with the wasm in the
//! npm package `sockeye-client`.
#![cfg_attr(all(feature = "panic-trap", target_arch = "wasm32"), no_std)]
// `unsafe` only in `abi` (the wasm's exports over raw pointers: see SIZE_LEVERS.md, row 45).
#![deny(unsafe_code)]
#![warn(missing_docs)]
// ASCII is pushed as a one-character `&str`, as in sockeye-core (no UTF-8 encoding code).
#![allow(clippy::single_char_add_str)]

extern crate alloc;

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod abi;
#[cfg(target_arch = "wasm32")]
pub mod host;
pub mod manager;
pub mod options;
pub mod records;
pub mod time;

pub use manager::Manager;

/// The global allocator: talc, single-threaded, growing wasm memory as needed. It reuses
/// freed memory (coalescing neighbours) and is much smaller than std's dlmalloc.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A panic (a bug: the core's decoders return errors, never panic) traps, with no message:
/// std's panic hook would format one, and bring `core::fmt` into the wasm.
#[cfg(all(feature = "panic-trap", target_arch = "wasm32"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
