//! The all-in-one suite: the four gRPC services and the gateway in one process, as `bankmkt up`
//! runs them on the embedded default and as the end-to-end tests start them on port 0.
//! [`Suite::start`] binds every port first (so a taken port fails before anything runs), points
//! the gateway at the addresses actually bound, then runs every component until the suite's
//! shutdown fires; [`Suite::stop`] fires it and waits for every component to drain.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::net::SocketAddr;

use bankmkt_platform::bootstrap::{self, ServiceContext};
use bankmkt_platform::settings::{ServiceKind, Settings};
use bankmkt_platform::shutdown::{Shutdown, ShutdownTrigger};
use tokio::task::JoinSet;

/// Where one component listens.
#[derive(Debug, Clone)]
pub struct Listening {
    /// Component name (`customer-registry`, ..., `gateway`).
    pub component: &'static str,
    /// The gRPC service it serves (empty for the gateway).
    pub grpc_service: &'static str,
    /// The bound address.
    pub addr: SocketAddr,
}

/// A running suite.
#[derive(Debug)]
pub struct Suite {
    /// Every component's address, registry first, gateway last.
    pub listening: Vec<Listening>,
    /// The context the services share (settings with the bound endpoints, keys, cache).
    pub context: ServiceContext,
    trigger: ShutdownTrigger,
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
    /// Flushes exported traces when the suite is dropped.
    _telemetry: bankmkt_platform::telemetry::TelemetryGuard,
}

fn component(kind: ServiceKind) -> (&'static str, &'static str) {
    match kind {
        ServiceKind::Registry => (
            "customer-registry",
            bankmkt_proto::service_names::CUSTOMER_REGISTRY,
        ),
        ServiceKind::Pricing => ("pricing", bankmkt_proto::service_names::PRICING),
        ServiceKind::Coordination => ("coordination", bankmkt_proto::service_names::COORDINATION),
        ServiceKind::Attribution => ("attribution", bankmkt_proto::service_names::ATTRIBUTION),
    }
}

/// The URL other components use to reach `addr` (a wildcard bind is reached on loopback).
fn endpoint_for(addr: SocketAddr) -> String {
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("http://{host}:{}", addr.port())
}

impl Suite {
    /// Binds every port, then starts every component. `shutdown` (with its trigger) stops it.
    pub async fn start(
        mut settings: Settings,
        trigger: ShutdownTrigger,
        shutdown: Shutdown,
    ) -> anyhow::Result<Suite> {
        let mut listeners = Vec::new();
        for kind in ServiceKind::ALL {
            let (name, _) = component(kind);
            let listener = bootstrap::bind(name, settings.service(kind).listen)
                .await
                .map_err(anyhow::Error::msg)?;
            let addr = listener.local_addr()?;
            settings.service_mut(kind).endpoint = endpoint_for(addr);
            listeners.push((kind, listener, addr));
        }
        let gateway_listener = bootstrap::bind("gateway", settings.gateway_listen)
            .await
            .map_err(anyhow::Error::msg)?;
        let gateway_addr = gateway_listener.local_addr()?;
        settings.gateway_listen = gateway_addr;

        let (context, telemetry) =
            bootstrap::init_process(settings, "bankmkt").map_err(anyhow::Error::msg)?;

        let mut tasks = JoinSet::new();
        let mut listening = Vec::new();
        for (kind, listener, addr) in listeners {
            let (name, grpc_service) = component(kind);
            listening.push(Listening {
                component: name,
                grpc_service,
                addr,
            });
            let ctx = context.clone();
            let stop = shutdown.clone();
            tasks.spawn(async move {
                let result = match kind {
                    ServiceKind::Registry => {
                        bankmkt_customer_registry::run(ctx, listener, stop).await
                    }
                    ServiceKind::Pricing => bankmkt_pricing::run(ctx, listener, stop).await,
                    ServiceKind::Coordination => {
                        bankmkt_coordination::run(ctx, listener, stop).await
                    }
                    ServiceKind::Attribution => bankmkt_attribution::run(ctx, listener, stop).await,
                };
                (name, result)
            });
        }
        listening.push(Listening {
            component: "gateway",
            grpc_service: "",
            addr: gateway_addr,
        });
        let gateway_settings = context.settings.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            (
                "gateway",
                bankmkt_gateway::run(&gateway_settings, gateway_listener, stop).await,
            )
        });
        Ok(Suite {
            listening,
            context,
            trigger,
            tasks,
            _telemetry: telemetry,
        })
    }

    /// The address of `component` (`customer-registry`, `pricing`, ..., `gateway`).
    pub fn addr(&self, component: &str) -> Option<SocketAddr> {
        self.listening
            .iter()
            .find(|l| l.component == component)
            .map(|l| l.addr)
    }

    /// Waits until shutdown fires or a component stops on its own (which also stops the rest);
    /// then drains every component. Returns the first component error.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(joined) = self.tasks.join_next().await {
            let (name, result) =
                joined.unwrap_or_else(|e| ("unknown", Err(anyhow::anyhow!("task panicked: {e}"))));
            match result {
                Ok(()) => tracing::info!(component = name, "stopped"),
                Err(e) => {
                    tracing::error!(component = name, error = %e, "component failed; stopping the suite");
                    first_error.get_or_insert(anyhow::anyhow!("{name}: {e}"));
                }
            }
            // Whatever ended first, everything else stops too.
            self.trigger.fire();
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Fires shutdown and waits for every component to drain.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.trigger.fire();
        self.wait().await
    }
}
