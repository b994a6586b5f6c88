//! Handlers and their extractors, in the style of axum: a handler is an async closure whose
//! arguments are extractors ([`SocketRef`], [`Data`], [`Bin`], [`AckSender`], ...).
//!
//! ```no_run
//! # use sockeye::{SocketRef, Data, AckSender};
//! # fn f(socket: SocketRef) {
//! socket.on("join", |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
//!     socket.join(room.clone()).await.ok();
//!     ack.send(&room).ok();
//! });
//! # }
//! ```
//!
//! # Events the client wants an answer to
//!
//! When a client emits with an ack and no handler can answer it, the server answers in its
//! stead with one argument, an object `{"error": "..."}` (so the client's callback runs, and
//! can tell the error from a real answer), rather than leaving the client waiting forever
//! as Node's server does:
//!
//! - `{"error": "unknown event"}`: no handler for the event (and no `on_any`);
//! - `{"error": "invalid arguments"}`: an extractor ([`Data`], ...) could not read the
//!   arguments, so the handler was skipped;
//! - `{"error": "handler failed"}`: another extractor failed (e.g. a missing [`State`]), or
//!   the handler panicked before answering (the panic is logged with the event name; the
//!   socket goes on).
//!
//! A handler that runs but does not answer (takes no [`AckSender`], or drops it) leaves the
//! client to its own timeout, as in Node.

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;

use crate::ack::AckSender;
use crate::ns::ConnectError;
use crate::payload::Payload;
use crate::socket::{DisconnectReason, SocketRef};

/// Everything a handler call can extract from.
#[derive(Clone)]
pub struct Ctx {
    pub(crate) socket: SocketRef,
    pub(crate) event: Option<String>,
    pub(crate) payload: Payload,
    pub(crate) ack_id: Option<u64>,
    pub(crate) reason: Option<DisconnectReason>,
    /// Whether the event's ack was answered (shared with its [`AckSender`]s).
    pub(crate) acked: Arc<AtomicBool>,
}

/// The error answered to an ack of an event without a handler.
pub(crate) const ACK_UNKNOWN_EVENT: &str = "unknown event";
/// The error answered to an ack of an event whose arguments do not fit the handler.
pub(crate) const ACK_INVALID_ARGUMENTS: &str = "invalid arguments";
/// The error answered to an ack of an event whose handler failed.
pub(crate) const ACK_HANDLER_FAILED: &str = "handler failed";

impl Ctx {
    /// An extractor failed: the handler is skipped (logged at debug level), and a client
    /// waiting for an ack is answered with an error.
    fn extract_failed(&self, e: &ExtractError) {
        tracing::debug!(event = ?self.event, "handler skipped: {e}");
        let message = match e {
            ExtractError::Data(_) => ACK_INVALID_ARGUMENTS,
            _ => ACK_HANDLER_FAILED,
        };
        self.socket
            .ack_error(self.ack_id, Some(&self.acked), message);
    }
}

/// Why an extractor could not produce its value; the handler is not called (logged, and a
/// client waiting for an ack is answered with an error: see the module documentation).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The arguments did not deserialize into the requested type.
    #[error("cannot deserialize the arguments: {0}")]
    Data(#[from] serde_json::Error),
    /// `State<T>` for a `T` never given to `with_state`.
    #[error("no state of type {0}")]
    MissingState(&'static str),
    /// `DisconnectReason` outside a disconnect handler.
    #[error("not a disconnect handler")]
    NotDisconnect,
}

/// Something a handler can take as an argument.
pub trait FromCtx: Sized {
    /// Extracts the value.
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError>;
}

/// The event's arguments (or, in connect handlers and middlewares, the client's `auth`),
/// deserialized: from the only argument if there is one, else from the array of all of them.
#[derive(Clone, Debug)]
pub struct Data<T>(pub T);

/// Like [`Data`], but the handler runs even if deserialization fails.
#[derive(Debug)]
pub struct TryData<T>(pub Result<T, serde_json::Error>);

/// The binary attachments of the event, in placeholder order.
#[derive(Clone, Debug)]
pub struct Bin(pub Vec<Bytes>);

/// The event's name.
#[derive(Clone, Debug)]
pub struct EventName(pub String);

/// A value given to [`crate::SocketIoBuilder::with_state`].
#[derive(Clone, Debug)]
pub struct State<T>(pub T);

impl FromCtx for SocketRef {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        Ok(ctx.socket.clone())
    }
}

impl<T: DeserializeOwned> FromCtx for Data<T> {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        Ok(Data(ctx.payload.deserialize()?))
    }
}

impl<T: DeserializeOwned> FromCtx for TryData<T> {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        Ok(TryData(ctx.payload.deserialize()))
    }
}

impl FromCtx for Bin {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        Ok(Bin(ctx.payload.attachments.clone()))
    }
}

impl FromCtx for Payload {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        Ok(ctx.payload.clone())
    }
}

impl FromCtx for EventName {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        Ok(EventName(ctx.event.clone().unwrap_or_default()))
    }
}

impl FromCtx for AckSender {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        Ok(AckSender::new(
            ctx.socket.clone(),
            ctx.ack_id,
            ctx.acked.clone(),
        ))
    }
}

impl FromCtx for DisconnectReason {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        ctx.reason.ok_or(ExtractError::NotDisconnect)
    }
}

impl<T: Clone + Send + Sync + 'static> FromCtx for State<T> {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ExtractError> {
        ctx.socket
            .io()
            .and_then(|io| io.state::<T>())
            .map(State)
            .ok_or(ExtractError::MissingState(std::any::type_name::<T>()))
    }
}

pub(crate) type BoxedHandler = Arc<dyn Fn(Ctx) -> BoxFuture<'static, ()> + Send + Sync>;
pub(crate) type BoxedMiddleware =
    Arc<dyn Fn(Ctx) -> BoxFuture<'static, Result<(), ConnectError>> + Send + Sync>;

/// An async function of extractors, run for connects, events and disconnects.
pub trait Handler<T>: Send + Sync + 'static {
    /// Extracts the arguments from `ctx` and runs the handler. If an extractor fails, the
    /// handler is skipped (logged at debug level; an ack the client waits for is answered
    /// with an error, see the module documentation).
    fn call(&self, ctx: Ctx) -> BoxFuture<'static, ()>;
}

/// An async function of extractors returning `Result<(), ConnectError>`, run before a
/// client joins a namespace; an `Err` refuses it with `CONNECT_ERROR`.
pub trait Middleware<T>: Send + Sync + 'static {
    /// Extracts the arguments and runs the middleware.
    fn call(&self, ctx: Ctx) -> BoxFuture<'static, Result<(), ConnectError>>;
}

macro_rules! impl_handlers {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_variables)]
        impl<F, Fut, $($ty,)*> Handler<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromCtx + Send + 'static,)*
        {
            fn call(&self, ctx: Ctx) -> BoxFuture<'static, ()> {
                $(
                    let $ty = match $ty::from_ctx(&ctx) {
                        Ok(v) => v,
                        Err(e) => {
                            ctx.extract_failed(&e);
                            return Box::pin(async {});
                        }
                    };
                )*
                Box::pin((self)($($ty),*))
            }
        }

        #[allow(non_snake_case, unused_variables)]
        impl<F, Fut, $($ty,)*> Middleware<($($ty,)*)> for F
        where
            F: Fn($($ty),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
            $($ty: FromCtx + Send + 'static,)*
        {
            fn call(&self, ctx: Ctx) -> BoxFuture<'static, Result<(), ConnectError>> {
                $(
                    let $ty = match $ty::from_ctx(&ctx) {
                        Ok(v) => v,
                        Err(e) => {
                            let e = ConnectError::new(e.to_string());
                            return Box::pin(async move { Err(e) });
                        }
                    };
                )*
                Box::pin((self)($($ty),*))
            }
        }
    };
}

impl_handlers!();
impl_handlers!(A);
impl_handlers!(A, B);
impl_handlers!(A, B, C);
impl_handlers!(A, B, C, D);
impl_handlers!(A, B, C, D, E);
impl_handlers!(A, B, C, D, E, G);

pub(crate) fn boxed<H: Handler<T>, T>(h: H) -> BoxedHandler {
    Arc::new(move |ctx| h.call(ctx))
}

pub(crate) fn boxed_middleware<M: Middleware<T>, T>(m: M) -> BoxedMiddleware {
    Arc::new(move |ctx| m.call(ctx))
}
