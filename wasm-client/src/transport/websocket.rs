//! The WebSocket transport: a web-sys `WebSocket` (binary frames as `ArrayBuffer`) whose
//! open, message and close handlers feed a callback.

use js_sys::{ArrayBuffer, Uint8Array};
use sockeye_core::engine::Frame;
use sockeye_core::{Bytes, Str};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

/// What a WebSocket reports.
#[derive(Debug)]
pub enum WsEvent {
    /// It opened.
    Open,
    /// A frame arrived.
    Frame(Frame),
    /// It failed (socket.io-client's `websocket error`; the browser's event). Its close
    /// is not reported.
    Error(JsValue),
    /// It closed (the browser's `CloseEvent`).
    Closed(JsValue),
}

/// An open (or opening) WebSocket. Dropping it does not close it: call [`Ws::close`].
#[derive(Debug)]
pub struct Ws {
    socket: WebSocket,
}

impl Ws {
    /// Opens a WebSocket to `url`; `on` gets its events. `Err` if the browser refuses the
    /// URL outright.
    pub fn open(url: &str, on: impl FnMut(WsEvent) + 'static) -> Result<Ws, JsValue> {
        let socket = WebSocket::new(url)?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let on = std::rc::Rc::new(std::cell::RefCell::new(on));
        // The handlers live as long as the WebSocket object (owned by JS once converted).
        let o = on.clone();
        let open = Closure::<dyn FnMut()>::new(move || (o.borrow_mut())(WsEvent::Open));
        let o = on.clone();
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            let frame = match data.as_string() {
                Some(text) => Frame::Text(Str::from(text)),
                None => match data.dyn_into::<ArrayBuffer>() {
                    Ok(buf) => Frame::Binary(Bytes::from(Uint8Array::new(&buf).to_vec())),
                    Err(_) => return,
                },
            };
            (o.borrow_mut())(WsEvent::Frame(frame));
        });
        let o = on.clone();
        let error =
            Closure::<dyn FnMut(JsValue)>::new(move |e| (o.borrow_mut())(WsEvent::Error(e)));
        let close =
            Closure::<dyn FnMut(JsValue)>::new(move |e| (on.borrow_mut())(WsEvent::Closed(e)));
        socket.set_onopen(Some(open.into_js_value().unchecked_ref()));
        socket.set_onerror(Some(error.into_js_value().unchecked_ref()));
        socket.set_onmessage(Some(message.into_js_value().unchecked_ref()));
        socket.set_onclose(Some(close.into_js_value().unchecked_ref()));
        Ok(Ws { socket })
    }

    /// Sends a frame. Errors (a socket that is not open) are ignored: its close event
    /// follows.
    pub fn send(&self, frame: &Frame) {
        let _ = match frame {
            Frame::Text(t) => self.socket.send_with_str(t),
            Frame::Binary(b) => self.socket.send_with_u8_array(b),
        };
    }

    /// Closes the socket; its handlers stop reporting.
    pub fn close(self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        let _ = self.socket.close();
    }
}
