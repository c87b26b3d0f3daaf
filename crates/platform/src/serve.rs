//! Serving one gRPC port: the service itself, standard health (`grpc.health.v1`) and reflection
//! (v1 and v1alpha) listing only this port's own service, all behind the platform [`stack`]. When
//! the [`Shutdown`] fires, health turns NOT_SERVING, the listener closes, and in-flight calls
//! finish before [`serve_grpc`] returns.
//!
//! [`stack`]: crate::stack

use std::convert::Infallible;

use http::{Request, Response};
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use crate::shutdown::Shutdown;
use crate::stack::{self, StackConfig};

/// Why a port stopped serving with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Reflection could not be built from the descriptor sets.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves `service` on `listener` until `shutdown` fires, then drains.
pub async fn serve_grpc<S>(
    service: S,
    stack_config: StackConfig,
    listener: TcpListener,
    shutdown: Shutdown,
) -> Result<(), ServeError>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let name = S::NAME;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(name, ServingStatus::Serving)
        .await;
    let reflection = |reflection_name: &str| {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(bankmkt_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name(name)
            .with_service_name("grpc.health.v1.Health")
            .with_service_name(reflection_name.to_owned())
    };
    let reflection_v1 = reflection("grpc.reflection.v1.ServerReflection").build_v1()?;
    let reflection_v1alpha =
        reflection("grpc.reflection.v1alpha.ServerReflection").build_v1alpha()?;

    let local = listener.local_addr().ok();
    tracing::info!(service = name, addr = ?local, "gRPC port serving");
    let grace = stack_config.shutdown_grace;
    let grace_over = {
        let shutdown = shutdown.clone();
        async move {
            shutdown.wait().await;
            tokio::time::sleep(grace).await;
        }
    };
    let drain = async move {
        shutdown.wait().await;
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;
        reporter
            .set_service_status(name, ServingStatus::NotServing)
            .await;
        tracing::info!(
            service = name,
            "health NOT_SERVING; draining in-flight calls"
        );
    };
    let server = tonic::transport::Server::builder()
        .layer(stack::layer(&stack_config))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(service)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), drain);
    tokio::select! {
        served = server => served?,
        () = grace_over => {
            // Long-lived streams (health Watch, ingestion) would hold the drain open forever.
            tracing::warn!(service = name, grace_ms = grace.as_millis() as u64, "drain grace period over; closing remaining connections");
        }
    }
    tracing::info!(service = name, "gRPC port stopped");
    Ok(())
}
