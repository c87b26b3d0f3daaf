//! Start-up shared by every binary. [`ServiceContext`] is what a service needs from the process
//! (settings, the authenticator, the cache); [`load_settings`] and [`init_process`] do the
//! config → telemetry → keys steps once; [`run_standalone`] is a whole standalone service main:
//! bind the gRPC and admin ports, serve `/metrics`, run the service until SIGTERM or Ctrl-C.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::Authenticator;
use crate::cache::ReadThrough;
use crate::clock::Clock;
use crate::pii::PiiVault;
use crate::settings::{ServiceKind, Settings};
use crate::shutdown::Shutdown;
use crate::stack::StackConfig;
use crate::telemetry::{self, TelemetryGuard};
use bankmkt_domain::calendar::BusinessCalendar;

/// What a service takes from its process.
#[derive(Clone, Debug)]
pub struct ServiceContext {
    /// The loaded settings.
    pub settings: Arc<Settings>,
    /// Verifies (and, with the secret, mints) tokens.
    pub authenticator: Arc<Authenticator>,
    /// The shared cache (Redis or in-process), one per process.
    pub cache: ReadThrough,
    /// The clock and the bank's business calendar.
    pub clock: Clock,
    /// Encryption and blind indexes for personal data.
    pub pii: Arc<PiiVault>,
}

impl ServiceContext {
    /// The tower-stack configuration for one service's port.
    pub fn stack_config(&self, kind: ServiceKind) -> StackConfig {
        StackConfig {
            service: kind.short_name(),
            authenticator: self.authenticator.clone(),
            max_concurrent_rpcs: self.settings.max_concurrent_rpcs,
            default_deadline: self.settings.rpc_default_deadline,
            max_deadline: self.settings.rpc_max_deadline,
            shutdown_grace: self.settings.shutdown_grace,
        }
    }
}

/// Loads and validates settings, printing every problem and returning the exit code on failure.
pub fn load_settings() -> Result<Settings, ExitCode> {
    let settings = Settings::load().and_then(|s| s.validate().map(|()| s));
    settings.map_err(|e| {
        eprintln!("bankmkt: {e}");
        ExitCode::from(2)
    })
}

/// Telemetry, keys and cache for a process whose settings are loaded.
pub fn init_process(
    settings: Settings,
    service_name: &str,
) -> Result<(ServiceContext, TelemetryGuard), String> {
    let guard = telemetry::init(&settings, service_name).map_err(|e| e.to_string())?;
    let authenticator = Authenticator::from_settings(&settings).map_err(|e| e.to_string())?;
    let cache = ReadThrough::from_settings(&settings).map_err(|e| e.to_string())?;
    let pii = PiiVault::from_settings(&settings).map_err(|e| e.to_string())?;
    let clock = clock_for(&settings)?;
    if settings.clock_offset_days != 0 {
        tracing::warn!(
            days = settings.clock_offset_days,
            now = %clock.now(),
            business_date = %clock.today(),
            "the clock is shifted by clock_offset_days (non-production runs only)"
        );
    }
    tracing::info!(cache = cache.backend(), mode = ?settings.mode, "process initialised");
    Ok((
        ServiceContext {
            settings: Arc::new(settings),
            authenticator: Arc::new(authenticator),
            cache,
            clock,
            pii: Arc::new(pii),
        },
        guard,
    ))
}

/// The process clock: the system clock with the bank's business calendar (`timezone`,
/// `holidays`, `makeup_workdays`), shifted
/// by `clock_offset_days` (zero in production, which [`Settings::validate`] enforces).
pub fn clock_for(settings: &Settings) -> Result<Clock, String> {
    let tz =
        bankmkt_domain::calendar::parse_timezone(&settings.timezone).map_err(|e| e.to_string())?;
    let calendar = BusinessCalendar::new(
        tz,
        settings.holidays.iter().copied(),
        settings.makeup_workdays.iter().copied(),
    )
    .map_err(|e| e.to_string())?;
    Ok(
        Clock::system(calendar).shifted(chrono::TimeDelta::days(i64::from(
            settings.clock_offset_days,
        ))),
    )
}

/// Binds `addr`, naming the component in the error.
pub async fn bind(component: &str, addr: std::net::SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{component}: cannot listen on {addr}: {e}"))
}

/// The whole `main` of a standalone service binary.
pub async fn run_standalone<F, Fut, E>(kind: ServiceKind, run: F) -> ExitCode
where
    F: FnOnce(ServiceContext, TcpListener, Shutdown) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let settings = match load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (ctx, _guard) = match init_process(settings, kind.short_name()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("bankmkt {kind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let service_settings = ctx.settings.service(kind).clone();
    let (listener, admin) = match (
        bind(kind.short_name(), service_settings.listen).await,
        bind("admin", service_settings.admin_listen).await,
    ) {
        (Ok(l), Ok(a)) => (l, a),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "bind failed");
            return ExitCode::FAILURE;
        }
    };
    let (_trigger, shutdown) = Shutdown::on_signals();
    let admin_shutdown = shutdown.clone();
    tokio::spawn(async move {
        let served = axum::serve(admin, crate::metrics::admin_router())
            .with_graceful_shutdown(admin_shutdown.wait())
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "admin port failed");
        }
    });
    tracing::info!(service = %kind, grpc = %service_settings.listen, admin = %service_settings.admin_listen, "starting");
    match run(ctx, listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(service = %kind, error = %e, "service stopped with an error");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_clock_takes_the_offset_setting() {
        let mut settings = Settings::defaults();
        let plain = clock_for(&settings).expect("clock");
        settings.clock_offset_days = 45;
        let shifted = clock_for(&settings).expect("clock");
        let ahead = shifted.now() - plain.now();
        let drift = (ahead - chrono::TimeDelta::days(45)).abs();
        assert!(drift < chrono::TimeDelta::minutes(1), "{ahead}");
        assert!(shifted.today() >= plain.today() + chrono::TimeDelta::days(44));
    }
}
