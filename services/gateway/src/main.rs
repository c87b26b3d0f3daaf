//! The standalone `gateway` binary: settings → telemetry → serve HTTP until SIGTERM/Ctrl-C.

use std::process::ExitCode;

use bankmkt_platform::bootstrap;
use bankmkt_platform::shutdown::Shutdown;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match bootstrap::load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let _guard = match bankmkt_platform::telemetry::init(&settings, "gateway") {
        Ok(g) => g,
        Err(e) => {
            eprintln!("bankmkt gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match bootstrap::bind("gateway", settings.gateway_listen).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "bind failed");
            return ExitCode::FAILURE;
        }
    };
    let (_trigger, shutdown) = Shutdown::on_signals();
    match bankmkt_gateway::run(&settings, listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "gateway stopped with an error");
            ExitCode::FAILURE
        }
    }
}
