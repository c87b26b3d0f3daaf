//! The one tower stack every gRPC port runs, outermost first:
//!
//! 1. [`RequestIdLayer`]: every call gets an `x-request-id` (the caller's, or a new UUID), echoed
//!    on the response.
//! 2. [`RpcTelemetryLayer`]: one tracing span per RPC, joined to the caller's W3C trace context,
//!    and the Prometheus count and latency by service, method and final gRPC code.
//! 3. [`AuthLayer`]: a bearer JWT becomes a typed [`Caller`] in the request extensions; health and
//!    reflection pass without a token; anything else without a valid token gets `UNAUTHENTICATED`.
//! 4. Load shedding: tower's `LoadShedLayer` over a `GlobalConcurrencyLimitLayer` shared by every
//!    connection of the port, with [`ShedAsStatusLayer`] turning a shed call into
//!    `RESOURCE_EXHAUSTED` (tonic's own limit is per connection).
//! 5. [`DeadlineLayer`]: the caller's `grpc-timeout`, capped, or a default; past it the call ends
//!    with `DEADLINE_EXCEEDED`.
//!
//! Handlers never see any of this beyond the `Caller`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::{HeaderValue, Request, Response};
use tokio::sync::Semaphore;
use tonic::body::Body;
use tower::layer::util::{Identity, Stack};
use tower::{Layer, Service, ServiceBuilder};
use tracing::Instrument;

use crate::auth::{AuthError, Authenticator, Caller};
use crate::metrics::metrics;

/// Header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Path prefixes that need no token: health probes and reflection (grpcurl, grpcio tools).
const PUBLIC_PATH_PREFIXES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the stack needs to know about the port it guards.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// Short service name for spans and metrics (`registry`, `pricing`, ...).
    pub service: &'static str,
    /// Verifies bearer tokens.
    pub authenticator: Arc<Authenticator>,
    /// RPCs allowed in flight across all connections; more are shed.
    pub max_concurrent_rpcs: usize,
    /// Deadline when the caller sets none.
    pub default_deadline: Duration,
    /// Cap on the caller's deadline.
    pub max_deadline: Duration,
    /// How long draining may take after shutdown starts.
    pub shutdown_grace: Duration,
}

/// The composed layer type of the platform stack (outermost layer last in the nesting).
pub type PlatformStack = ServiceBuilder<
    Stack<
        DeadlineLayer,
        Stack<
            tower::limit::GlobalConcurrencyLimitLayer,
            Stack<
                tower::load_shed::LoadShedLayer,
                Stack<
                    ShedAsStatusLayer,
                    Stack<AuthLayer, Stack<RpcTelemetryLayer, Stack<RequestIdLayer, Identity>>>,
                >,
            >,
        >,
    >,
>;

/// Builds the whole stack as one layer for `tonic::transport::Server::layer`. The concurrency
/// semaphore is created here, so every connection of the port shares it.
pub fn layer(config: &StackConfig) -> PlatformStack {
    let permits = Arc::new(Semaphore::new(config.max_concurrent_rpcs));
    ServiceBuilder::new()
        .layer(RequestIdLayer)
        .layer(RpcTelemetryLayer {
            service: config.service,
        })
        .layer(AuthLayer {
            authenticator: config.authenticator.clone(),
        })
        .layer(ShedAsStatusLayer)
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(
            permits,
        ))
        .layer(DeadlineLayer {
            default: config.default_deadline,
            max: config.max_deadline,
        })
}

/// Takes the ready inner service and leaves a fresh clone behind (the tower clone-and-swap idiom).
fn take_ready<S: Clone>(inner: &mut S) -> S {
    let clone = inner.clone();
    std::mem::replace(inner, clone)
}

fn status_response(status: tonic::Status) -> Response<Body> {
    status.into_http()
}

// ---------------------------------------------------------------------------------------------
// Request id

/// Gives every request an `x-request-id` and echoes it on the response.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestId<S>;
    fn layer(&self, inner: S) -> RequestId<S> {
        RequestId { inner }
    }
}

/// See [`RequestIdLayer`].
#[derive(Clone, Debug)]
pub struct RequestId<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for RequestId<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let id = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .cloned()
            .unwrap_or_else(|| {
                HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                    .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
            });
        req.headers_mut().insert(REQUEST_ID_HEADER, id.clone());
        let mut inner = take_ready(&mut self.inner);
        Box::pin(async move {
            let mut response = inner.call(req).await?;
            response.headers_mut().insert(REQUEST_ID_HEADER, id);
            Ok(response)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Tracing span + metrics

/// One span per RPC plus the RPC count and latency histogram.
#[derive(Clone, Copy, Debug)]
pub struct RpcTelemetryLayer {
    /// Short service name for labels.
    pub service: &'static str,
}

impl<S> Layer<S> for RpcTelemetryLayer {
    type Service = RpcTelemetry<S>;
    fn layer(&self, inner: S) -> RpcTelemetry<S> {
        RpcTelemetry {
            inner,
            service: self.service,
        }
    }
}

/// See [`RpcTelemetryLayer`].
#[derive(Clone, Debug)]
pub struct RpcTelemetry<S> {
    inner: S,
    service: &'static str,
}

impl<S, B> Service<Request<B>> for RpcTelemetry<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: std::fmt::Display,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let path = req.uri().path().to_owned();
        let (grpc_service, method) = split_path(&path);
        let method = method.to_owned();
        let request_id = req
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let span = tracing::info_span!(
            "rpc",
            otel.name = %path.trim_start_matches('/'),
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %grpc_service,
            rpc.method = %method,
            request_id = %request_id,
            rpc.grpc.status_code = tracing::field::Empty,
        );
        let _ = span.set_parent(crate::telemetry::extract_context(req.headers()));
        let service = self.service;
        let mut inner = take_ready(&mut self.inner);
        let started = Instant::now();
        Box::pin(
            async move {
                // If the caller goes away before the handler answers, this future is dropped:
                // the guard then records the call as CANCELLED.
                let mut pending = CancelGuard(Some(CompletionObserver {
                    service,
                    method: method.clone(),
                    started,
                    span: tracing::Span::current(),
                }));
                let result = inner.call(req).await;
                let Some(observer) = pending.0.take() else {
                    return result;
                };
                match result {
                    Ok(response) => {
                        // A trailers-only response (every error) carries grpc-status in the headers;
                        // otherwise the status arrives in the trailers at the end of the body.
                        match header_code(response.headers()) {
                            Some(code) => {
                                observer.finish(code);
                                Ok(response)
                            }
                            None => {
                                Ok(response
                                    .map(|body| Body::new(ObservedBody::new(body, observer))))
                            }
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "rpc failed in the transport stack");
                        observer.finish(tonic::Code::Internal);
                        Err(e)
                    }
                }
            }
            .instrument(span),
        )
    }
}

fn split_path(path: &str) -> (&str, &str) {
    let trimmed = path.trim_start_matches('/');
    trimmed.split_once('/').unwrap_or((trimmed, ""))
}

fn header_code(headers: &http::HeaderMap) -> Option<tonic::Code> {
    headers
        .get("grpc-status")
        .map(|v| tonic::Code::from_bytes(v.as_bytes()))
}

/// Records a call as CANCELLED if dropped while still holding its observer.
struct CancelGuard(Option<CompletionObserver>);

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(observer) = self.0.take() {
            observer.finish(tonic::Code::Cancelled);
        }
    }
}

/// Records an RPC's outcome exactly once: at its status, or when the response is dropped early.
struct CompletionObserver {
    service: &'static str,
    method: String,
    started: Instant,
    span: tracing::Span,
}

impl CompletionObserver {
    fn finish(self, code: tonic::Code) {
        let elapsed = self.started.elapsed();
        self.span
            .record("rpc.grpc.status_code", tracing::field::display(code as i32));
        metrics().record_rpc(self.service, &self.method, code, elapsed);
        let _entered = self.span.enter();
        match code {
            tonic::Code::Ok => tracing::debug!(elapsed_ms = elapsed.as_millis() as u64, "rpc ok"),
            tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::DataLoss => {
                tracing::error!(
                    code = crate::metrics::code_name(code),
                    elapsed_ms = elapsed.as_millis() as u64,
                    "rpc failed"
                )
            }
            _ => tracing::info!(
                code = crate::metrics::code_name(code),
                elapsed_ms = elapsed.as_millis() as u64,
                "rpc finished"
            ),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body that reports the gRPC status found in its trailers.
    struct ObservedBody {
        #[pin]
        inner: Body,
        observer: Option<CompletionObserver>,
    }

    impl PinnedDrop for ObservedBody {
        fn drop(this: Pin<&mut Self>) {
            if let Some(observer) = this.project().observer.take() {
                // The client went away before the status was sent.
                observer.finish(tonic::Code::Cancelled);
            }
        }
    }
}

impl ObservedBody {
    fn new(inner: Body, observer: CompletionObserver) -> ObservedBody {
        ObservedBody {
            inner,
            observer: Some(observer),
        }
    }
}

impl http_body::Body for ObservedBody {
    type Data = tonic::codegen::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(header_code)
                    && let Some(observer) = this.observer.take()
                {
                    observer.finish(code);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(observer) = this.observer.take() {
                    observer.finish(tonic::Code::Internal);
                }
            }
            Poll::Ready(None) => {
                if let Some(observer) = this.observer.take() {
                    observer.finish(tonic::Code::Ok);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// Attaches the authenticated [`Caller`], or answers `UNAUTHENTICATED`.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    /// Verifies bearer tokens.
    pub authenticator: Arc<Authenticator>,
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;
    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

/// See [`AuthLayer`].
#[derive(Clone, Debug)]
pub struct Auth<S> {
    inner: S,
    authenticator: Arc<Authenticator>,
}

impl<S, B> Service<Request<B>> for Auth<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let path = req.uri().path();
        if !PUBLIC_PATH_PREFIXES.iter().any(|p| path.starts_with(p)) {
            match self.authenticator.authenticate(req.headers()) {
                Ok(caller) => {
                    tracing::Span::current().record("enduser.id", caller.subject.as_str());
                    req.extensions_mut().insert::<Caller>(caller);
                }
                Err(e) => {
                    let message = match &e {
                        AuthError::Missing => "missing bearer token".to_owned(),
                        other => other.to_string(),
                    };
                    return Box::pin(async move {
                        Ok(status_response(tonic::Status::unauthenticated(message)))
                    });
                }
            }
        }
        let mut inner = take_ready(&mut self.inner);
        Box::pin(async move { inner.call(req).await })
    }
}

// ---------------------------------------------------------------------------------------------
// Load shedding

/// Turns tower's `Overloaded` error into a `RESOURCE_EXHAUSTED` response.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShedAsStatusLayer;

impl<S> Layer<S> for ShedAsStatusLayer {
    type Service = ShedAsStatus<S>;
    fn layer(&self, inner: S) -> ShedAsStatus<S> {
        ShedAsStatus { inner }
    }
}

/// See [`ShedAsStatusLayer`].
#[derive(Clone, Debug)]
pub struct ShedAsStatus<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for ShedAsStatus<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let mut inner = take_ready(&mut self.inner);
        Box::pin(async move {
            match inner.call(req).await {
                Err(e) if e.is::<tower::load_shed::error::Overloaded>() => {
                    Ok(status_response(tonic::Status::resource_exhausted(
                        "server is at its concurrency limit; retry with backoff",
                    )))
                }
                other => other,
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Deadlines

/// Applies the caller's `grpc-timeout` (capped) or the default deadline.
#[derive(Clone, Copy, Debug)]
pub struct DeadlineLayer {
    /// Deadline when the caller sets none.
    pub default: Duration,
    /// Cap on the caller's deadline.
    pub max: Duration,
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;
    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline {
            inner,
            config: *self,
        }
    }
}

/// See [`DeadlineLayer`].
#[derive(Clone, Debug)]
pub struct Deadline<S> {
    inner: S,
    config: DeadlineLayer,
}

impl<S, B> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let requested = req
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout);
        let deadline = effective_deadline(requested, self.config.default, self.config.max);
        // Tell the handler (and anything it calls) the effective deadline.
        if let Ok(value) = HeaderValue::from_str(&format!("{}m", deadline.as_millis().max(1))) {
            req.headers_mut().insert("grpc-timeout", value);
        }
        let mut inner = take_ready(&mut self.inner);
        Box::pin(async move {
            match tokio::time::timeout(deadline, inner.call(req)).await {
                Ok(result) => result,
                Err(_) => Ok(status_response(tonic::Status::deadline_exceeded(format!(
                    "deadline of {} ms exceeded",
                    deadline.as_millis()
                )))),
            }
        })
    }
}

/// The deadline a call runs under: the caller's (or the default), capped. A caller's deadline is
/// shortened by 2% (at most 20 ms, at least 1 ms): tonic's transport also races the raw
/// `grpc-timeout` and would answer `CANCELLED`; ending first answers the `DEADLINE_EXCEEDED` the
/// gRPC spec asks for, and the caller, whose clock started earlier, loses nothing.
fn effective_deadline(requested: Option<Duration>, default: Duration, max: Duration) -> Duration {
    match requested {
        Some(d) => {
            let margin = (d / 50).clamp(Duration::from_millis(1), Duration::from_millis(20));
            d.saturating_sub(margin).min(max)
        }
        None => default.min(max),
    }
}

/// Parses a gRPC `grpc-timeout` header value (`<digits><unit>`, unit one of H M S m u n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_parses_every_unit_and_refuses_garbage() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout("9n"), Some(Duration::from_nanos(9)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("12x"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("-1S"), None);
    }

    #[test]
    fn deadlines_are_capped_and_end_just_before_the_callers() {
        let default = Duration::from_secs(10);
        let max = Duration::from_secs(60);
        assert_eq!(effective_deadline(None, default, max), default);
        assert_eq!(
            effective_deadline(Some(Duration::from_millis(100)), default, max),
            Duration::from_millis(98)
        );
        assert_eq!(
            effective_deadline(Some(Duration::from_secs(30)), default, max),
            Duration::from_millis(29_980)
        );
        assert_eq!(
            effective_deadline(Some(Duration::from_secs(3600)), default, max),
            max
        );
        assert_eq!(
            effective_deadline(Some(Duration::from_millis(1)), default, max),
            Duration::ZERO
        );
    }

    /// An inner service that answers OK after `delay`.
    fn sleeper(
        delay: Duration,
    ) -> impl Service<Request<Body>, Response = Response<Body>, Error = BoxError, Future: Send>
    + Clone
    + Send
    + 'static {
        tower::service_fn(move |_req: Request<Body>| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, BoxError>(status_response(tonic::Status::ok("done")))
        })
    }

    fn call_with_timeout(header: Option<&str>) -> Request<Body> {
        let mut builder = Request::builder().uri("/bankmkt.test.Slow/Sleep");
        if let Some(h) = header {
            builder = builder.header("grpc-timeout", h);
        }
        builder.body(Body::default()).expect("request")
    }

    async fn grpc_status(
        layer: DeadlineLayer,
        delay: Duration,
        header: Option<&str>,
    ) -> tonic::Code {
        use tower::ServiceExt;
        let response = layer
            .layer(sleeper(delay))
            .oneshot(call_with_timeout(header))
            .await
            .expect("response");
        header_code(response.headers()).expect("grpc-status")
    }

    #[tokio::test]
    async fn the_deadline_layer_ends_late_calls_with_deadline_exceeded() {
        let layer = DeadlineLayer {
            default: Duration::from_millis(80),
            max: Duration::from_millis(300),
        };
        let slow = Duration::from_millis(1_000);
        // The caller's own deadline.
        assert_eq!(
            grpc_status(layer, slow, Some("50m")).await,
            tonic::Code::DeadlineExceeded
        );
        // A caller deadline beyond the cap is capped.
        assert_eq!(
            grpc_status(layer, slow, Some("30S")).await,
            tonic::Code::DeadlineExceeded
        );
        // No deadline: the default.
        assert_eq!(
            grpc_status(layer, slow, None).await,
            tonic::Code::DeadlineExceeded
        );
        // In time.
        assert_eq!(
            grpc_status(layer, Duration::from_millis(5), Some("5S")).await,
            tonic::Code::Ok
        );
    }

    #[tokio::test]
    async fn load_shedding_answers_resource_exhausted_when_the_limit_is_reached() {
        use tower::ServiceExt;
        let permits = Arc::new(Semaphore::new(1));
        let service = ServiceBuilder::new()
            .layer(ShedAsStatusLayer)
            .layer(tower::load_shed::LoadShedLayer::new())
            .layer(tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(
                permits,
            ))
            .service(sleeper(Duration::from_millis(300)));
        let first = tokio::spawn(service.clone().oneshot(call_with_timeout(None)));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let shed = service
            .clone()
            .oneshot(call_with_timeout(None))
            .await
            .expect("response");
        assert_eq!(
            header_code(shed.headers()),
            Some(tonic::Code::ResourceExhausted)
        );
        let done = first.await.expect("join").expect("response");
        assert_eq!(header_code(done.headers()), Some(tonic::Code::Ok));
    }

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            split_path("/bankmkt.v1.Pricing/CreateQuote"),
            ("bankmkt.v1.Pricing", "CreateQuote")
        );
        assert_eq!(split_path("/odd"), ("odd", ""));
    }
}
