//! The clock: `performance.now()`, imported from JavaScript.

use sockeye_core::Instant;

/// `performance.now()`: a plain import in the shipped build (`abi`), else through wasm-bindgen.
#[cfg(all(target_arch = "wasm32", feature = "plain-imports"))]
use crate::abi::now as performance_now;

#[cfg(not(all(target_arch = "wasm32", feature = "plain-imports")))]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The current time, in milliseconds since the page (or process) started.
pub fn now() -> Instant {
    Instant::from_millis(performance_now() as u64)
}
