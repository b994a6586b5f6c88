//! The tower layer that puts Socket.IO on an axum `Router`: requests under the Socket.IO
//! path (default `/socket.io/`) are answered by the server, every other request goes to the
//! wrapped service.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use tower_layer::Layer;
use tower_service::Service;

use crate::io::SocketIo;

/// Put it on a router with `Router::layer` (it then also sees requests that would reach the
/// fallback, so `/socket.io/` needs no route of its own).
#[derive(Clone)]
pub struct SocketIoLayer {
    io: SocketIo,
}

impl SocketIoLayer {
    pub(crate) fn new(io: SocketIo) -> SocketIoLayer {
        SocketIoLayer { io }
    }
}

impl<S> Layer<S> for SocketIoLayer {
    type Service = SocketIoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SocketIoService {
            inner,
            io: self.io.clone(),
        }
    }
}

/// The service made by [`SocketIoLayer`].
#[derive(Clone)]
pub struct SocketIoService<S> {
    inner: S,
    io: SocketIo,
}

impl<S> Service<Request<Body>> for SocketIoService<S>
where
    S: Service<Request<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let path = req.uri().path();
        let base = self.io.config().path.as_str();
        if path == base || path == base.trim_end_matches('/') {
            let io = self.io.clone();
            Box::pin(async move { Ok(crate::engine::handle(io, req).await) })
        } else {
            let fut = self.inner.call(req);
            Box::pin(async move { fut.await.map(IntoResponse::into_response) })
        }
    }
}
