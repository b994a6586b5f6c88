//! The host's JSON and base64 for sockeye-core (its features `host-json` and `host-base64`,
//! on for wasm32): the functions of `js/host.js` (`JSON.parse`/`stringify`, `atob`/`btoa`),
//! installed in the core by [`install`] ([`Manager::new`](crate::Manager::new) does).
//!
//! How they are reached: in the shipped build (feature `plain-imports`), through plain wasm
//! imports that `js/wasm.js` provides (`abi`: the text in and the answer out through wasm
//! memory, no wasm-bindgen glue); otherwise (the tests, under wasm-bindgen-test's harness)
//! through wasm-bindgen imports of the same file.

use sockeye_core::host::Host;

#[cfg(feature = "plain-imports")]
use crate::abi as imp;

#[cfg(not(feature = "plain-imports"))]
mod imp {
    use alloc::string::String;
    use alloc::vec::Vec;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/js/host.js")]
    extern "C" {
        pub fn json(text: &str, op: u8, key: &str) -> Option<String>;
        pub fn b64decode(text: &str) -> Option<Vec<u8>>;
        pub fn b64encode(data: &[u8]) -> String;
    }
}

static HOST: Host = Host {
    json: imp::json,
    b64decode: imp::b64decode,
    b64encode: imp::b64encode,
};

/// Installs `js/host.js`'s functions in sockeye-core (once; later calls change nothing).
pub fn install() {
    sockeye_core::host::install(&HOST);
}
