//! The clock and the timer: `performance.now()` and `setTimeout`.

use sockeye_core::Instant;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// The current time, in milliseconds since the page loaded.
pub fn now() -> Instant {
    Instant::from_millis(performance_now() as u64)
}

/// A pending `setTimeout`, cleared when dropped.
#[derive(Debug)]
pub struct Timer {
    id: JsValue,
    /// When it fires.
    pub at: Instant,
}

impl Timer {
    /// Calls `f` at `at` (or as soon as possible if `at` has passed).
    pub fn start(f: &js_sys::Function, at: Instant) -> Timer {
        let delay = at.saturating_duration_since(now()).as_millis() as f64;
        Timer {
            id: set_timeout(f, delay),
            at,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
