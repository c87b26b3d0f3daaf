//! Prometheus metrics: one process-wide registry holding the RPC counter and latency histogram,
//! labelled by service, method and gRPC code. Every service in a process records into it, so in
//! `bankmkt up` the gateway's `/metrics` shows all of them; a standalone service serves the same
//! text on its admin port ([`admin_router`]).

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of every RPC metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabels {
    /// gRPC service short name, e.g. `registry`.
    pub service: String,
    /// RPC method name, e.g. `GetCustomer`.
    pub method: String,
    /// gRPC status code name, e.g. `OK`, `UNAUTHENTICATED`.
    pub code: String,
}

type HistogramFamily = Family<RpcLabels, Histogram, fn() -> Histogram>;

/// The process-wide metrics.
pub struct Metrics {
    registry: Registry,
    rpcs: Family<RpcLabels, Counter>,
    latency: HistogramFamily,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 15,
    ))
}

/// The metrics of this process.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("bankmkt");
        let rpcs = Family::<RpcLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "rpc_requests",
            "gRPC calls handled, by service, method and code",
            rpcs.clone(),
        );
        registry.register(
            "rpc_duration_seconds",
            "gRPC call latency until the status is sent, by service, method and code",
            latency.clone(),
        );
        Metrics {
            registry,
            rpcs,
            latency,
        }
    })
}

impl Metrics {
    /// Records one finished RPC.
    pub fn record_rpc(&self, service: &str, method: &str, code: tonic::Code, elapsed: Duration) {
        let labels = RpcLabels {
            service: service.to_owned(),
            method: method.to_owned(),
            code: code_name(code).to_owned(),
        };
        self.rpcs.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Prometheus text exposition of everything recorded so far.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// The canonical upper-case name of a gRPC code, as the gRPC spec spells it.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// An axum router serving `GET /metrics` as Prometheus text.
pub fn admin_router() -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(metrics_handler))
}

/// The `/metrics` handler, for routers that add other routes.
pub async fn metrics_handler() -> impl axum::response::IntoResponse {
    (
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics().render(),
    )
}
