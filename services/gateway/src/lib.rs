//! The HTTP gateway for the portals. Today it serves `GET /healthz`, which asks each of the four
//! services for its gRPC health and answers 200 only when all are SERVING (503 otherwise, with
//! each service's state in the JSON body), and `GET /metrics`, the process's Prometheus text (in
//! `bankmkt up` that is every service's metrics). Portal routes that call the services over gRPC,
//! forwarding the user's identity, arrive with the issues that need them.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use bankmkt_platform::settings::{ServiceKind, Settings};
use bankmkt_platform::shutdown::Shutdown;
use serde::Serialize;
use tokio::net::TcpListener;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long `/healthz` waits for each service.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// A backend service the gateway checks and calls.
#[derive(Clone, Debug)]
struct Backend {
    kind: ServiceKind,
    grpc_name: &'static str,
    channel: Channel,
}

/// The gateway's shared state.
#[derive(Clone, Debug)]
pub struct Gateway {
    backends: Vec<Backend>,
}

impl Gateway {
    /// Lazy channels to every service endpoint in the settings.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Gateway> {
        let names = [
            (
                ServiceKind::Registry,
                bankmkt_proto::service_names::CUSTOMER_REGISTRY,
            ),
            (ServiceKind::Pricing, bankmkt_proto::service_names::PRICING),
            (
                ServiceKind::Coordination,
                bankmkt_proto::service_names::COORDINATION,
            ),
            (
                ServiceKind::Attribution,
                bankmkt_proto::service_names::ATTRIBUTION,
            ),
        ];
        let mut backends = Vec::new();
        for (kind, grpc_name) in names {
            let endpoint = &settings.service(kind).endpoint;
            let channel =
                bankmkt_platform::client::lazy_channel(endpoint, settings.rpc_default_deadline)?;
            backends.push(Backend {
                kind,
                grpc_name,
                channel,
            });
        }
        Ok(Gateway { backends })
    }

    /// The HTTP routes.
    pub fn router(self) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .route("/metrics", get(bankmkt_platform::metrics::metrics_handler))
            .with_state(self)
    }
}

/// The `/healthz` body.
#[derive(Debug, Serialize)]
struct HealthReport {
    status: &'static str,
    services: BTreeMap<&'static str, String>,
}

async fn healthz(State(gateway): State<Gateway>) -> impl IntoResponse {
    let checks = gateway.backends.iter().map(|b| async move {
        let mut client = HealthClient::new(b.channel.clone());
        let request = HealthCheckRequest {
            service: b.grpc_name.to_owned(),
        };
        let state = match tokio::time::timeout(HEALTH_TIMEOUT, client.check(request)).await {
            Ok(Ok(response)) => match ServingStatus::try_from(response.into_inner().status) {
                Ok(ServingStatus::Serving) => "SERVING".to_owned(),
                Ok(other) => other.as_str_name().to_owned(),
                Err(_) => "UNKNOWN".to_owned(),
            },
            Ok(Err(status)) => format!("ERROR: {}", status.message()),
            Err(_) => "TIMEOUT".to_owned(),
        };
        (b.kind.short_name(), state)
    });
    let services: BTreeMap<&'static str, String> = futures::future::join_all(checks)
        .await
        .into_iter()
        .collect();
    let healthy = services.values().all(|s| s == "SERVING");
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !healthy {
        tracing::warn!(?services, "healthz: not every service is serving");
    }
    let report = HealthReport {
        status: if healthy { "ok" } else { "degraded" },
        services,
    };
    (code, axum::Json(report))
}

/// Serves the gateway on `listener` until `shutdown` fires.
pub async fn run(
    settings: &Settings,
    listener: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let app = Gateway::from_settings(settings)?.router();
    tracing::info!(addr = ?listener.local_addr().ok(), "gateway serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.wait())
        .await?;
    Ok(())
}
