//! The tower layer that puts an Engine.IO server on an axum `Router`: requests under its
//! path are answered by the server, every other request goes to the wrapped service.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use tower_layer::Layer;
use tower_service::Service;

use super::server::Engine;
use super::session::Protocol;

/// Put it on a router with `Router::layer` (it then also sees requests that would reach the
/// fallback, so the server's path needs no route of its own).
pub struct EngineLayer<P: Protocol> {
    engine: Arc<Engine<P>>,
}

impl<P: Protocol> EngineLayer<P> {
    /// A layer serving `engine`.
    pub fn new(engine: Arc<Engine<P>>) -> EngineLayer<P> {
        EngineLayer { engine }
    }
}

impl<P: Protocol> Clone for EngineLayer<P> {
    fn clone(&self) -> Self {
        EngineLayer {
            engine: self.engine.clone(),
        }
    }
}

impl<S, P: Protocol> Layer<S> for EngineLayer<P> {
    type Service = EngineService<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineService {
            inner,
            engine: self.engine.clone(),
        }
    }
}

/// The service made by [`EngineLayer`].
pub struct EngineService<S, P: Protocol> {
    inner: S,
    engine: Arc<Engine<P>>,
}

impl<S: Clone, P: Protocol> Clone for EngineService<S, P> {
    fn clone(&self) -> Self {
        EngineService {
            inner: self.inner.clone(),
            engine: self.engine.clone(),
        }
    }
}

impl<S, P> Service<Request<Body>> for EngineService<S, P>
where
    S: Service<Request<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    P: Protocol,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if self.engine.matches_path(req.uri().path()) {
            let engine = self.engine.clone();
            Box::pin(async move { Ok(engine.handle(req).await) })
        } else {
            let fut = self.inner.call(req);
            Box::pin(async move { fut.await.map(IntoResponse::into_response) })
        }
    }
}
