//! HTTP long-polling with `fetch`: one `GET` or `POST`, its answer handed to a callback.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function sockeye_fetch(url, body, credentials, headers, done) {
  const init = { method: body == null ? 'GET' : 'POST', cache: 'no-store', credentials: credentials ? 'include' : 'same-origin', headers: Object.assign({}, headers) };
  if (body != null) { init.body = body; init.headers['content-type'] = 'text/plain;charset=UTF-8'; }
  fetch(url, init).then(r => r.ok ? r.text() : r.status).then(done, () => done(0));
}
"#)]
extern "C" {
    fn sockeye_fetch(
        url: &str,
        body: Option<String>,
        credentials: bool,
        headers: &JsValue,
        done: &JsValue,
    );
}

/// Options shared by every polling request of a manager.
#[derive(Clone, Debug)]
pub struct RequestOptions {
    /// Send cookies cross-origin (`withCredentials`).
    pub with_credentials: bool,
    /// Extra request headers (`extraHeaders`), an object or `undefined`.
    pub headers: JsValue,
}

/// Sends a `GET` (when `body` is `None`) or a `POST` to `url`. `done` gets the response text
/// of a 2xx answer, or `Err` with the HTTP status of any other answer (0 for a network
/// error: socket.io-client's `description` of an `xhr poll error`). It is called exactly
/// once, later (never from within this call).
pub fn request(
    url: &str,
    body: Option<String>,
    opts: &RequestOptions,
    done: impl FnOnce(Result<String, JsValue>) + 'static,
) {
    let done = Closure::once_into_js(move |text: JsValue| done(text.as_string().ok_or(text)));
    sockeye_fetch(url, body, opts.with_credentials, &opts.headers, &done);
}
